"""The engine of the active-learning dashboard for Label Studio. Nothing below this package imports Streamlit.

The map, one line a room (each package's ``__init__`` says what it offers):

- ``iteration``     run one active-learning iteration end to end (the orchestration; owns reads, writes, the lock)
- ``context``       an iteration's settings (every default in one place) and the run context built once per run
- ``pruning``       old versions' predictions pruned after a run, in the background (page, receiver and CLI)
- ``progress``      the iteration's steps, their timing and progress reports
- ``export``        one model version's prediction for every task, as CSV or JSON Lines
- ``__main__``      the CLI: ``python -m al_core iterate | status | rollback | prune | serve-webhooks``
- ``launch``        ``make run``: Label Studio, the webhook receiver and the dashboard, started together
- ``errors``        the exception hierarchy; every message says what was wrong and how to fix it
- ``settings``      environment, secrets and folders read into typed settings
- ``validation``    argument checks with scikit-learn style messages ("must be an int in [1, 500]. Got 0 instead.")
- ``labelstudio/``  everything that knows Label Studio: the gateway (the only HTTP), label configs, tasks,
                    annotations -> labels, the task cache, the queue plan, file imports, the local server
- ``learning/``     pure learning code, arrays in and arrays out: models, embeddings, query strategies,
                    evaluation (metrics, intervals, stopping) and scoring
- ``store/``        the history database (typed records in and out) and the artifacts of model versions
- ``reports/``      figures and summaries built from stored records (Plotly)
- ``lab/``          the label-efficiency simulation, the Strategy lab and the bundled sample data
- ``automation/``   the webhook receiver and its registration in Label Studio
- ``compute/``      where the pool's embedding and scoring run: this process, or a Dask cluster (``AL_DASK_SCHEDULER``)

One iteration's data flow: ``labelstudio.gateway`` lists tasks -> ``labelstudio.labels`` turns annotations into
labels -> ``learning`` fits, evaluates and scores -> ``labelstudio.queue`` plans the queue -> the gateway uploads
predictions and switches the model version -> ``store.history`` records what was measured.
"""
