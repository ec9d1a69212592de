"""Where an iteration's heavy, chunked work runs: the pool's embedding and scoring.

- ``engine``       the choice (``AL_DASK_SCHEDULER`` or the ``dask_scheduler`` setting, else this process), the
                   in-process engine, and ``open_engine`` that an iteration uses
- ``dask_engine``  the same work sent in chunks to a Dask cluster (``dask.distributed``); imported only when a
                   scheduler is set, so the in-process path never imports Dask
- ``chunks``       what a Dask worker runs on one chunk (embed texts, score texts)
"""
