"""Progress offers the version's prediction for every task as a download: the same CSV as export-predictions,
against the real Label Studio."""

from __future__ import annotations

from al_core import export
from al_core import settings as app_settings
from al_core.iteration import IterationSettings, run_iteration
from al_core.lab.sample import GoldAnnotator, sample_gold
from al_core.labelstudio.gateway import Gateway
from al_core.store.history import History
from tests.conftest import create_small_sample_project


def test_progress_prepares_the_same_file_as_the_cli(make_app, label_studio, gateway: Gateway) -> None:
    project = create_small_sample_project(gateway, "predictions download")
    GoldAnnotator(gateway, project.id, sample_gold().get).label(30)
    history = History(app_settings.db_url(), server=gateway.url)
    done = run_iteration(gateway, history, project.id, IterationSettings(model="tfidf-logreg", upload_top=50))

    at = make_app(label_studio)
    at.query_params["project"] = str(project.id)
    at.run()
    at.switch_page("pages/progress.py").run()
    assert not at.exception
    at.button(key="w_progress_prepare_predictions").click().run()
    assert not at.exception
    data, n_rows, warnings = at.session_state["progress_prepared_predictions"][
        (label_studio.url, project.id, done.model_version)
    ]
    expected = export.export_predictions(gateway, history, project.id, done.model_version)
    assert n_rows == len(expected.rows) == project.task_number and warnings == []
    assert data.decode("utf-8") == export.to_csv(expected.rows)
    assert data.decode("utf-8").splitlines()[0] == "task_id,predicted,confidence,margin,is_eval,label"
