"""The Progress page reads the history and builds its figures once per change of the history, shared by every
session (ui.services.iterations, ui.figures): a new version, a running step or a failure shows at the next run."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from al_core import settings
from al_core.store.history import History
from tests.app.test_progress_page import FAKE, add_version, label_studio_up, metric, open_progress, project_id, texts

__all__ = ["label_studio_up", "project_id"]  # fixtures used here
MakeApp = Callable[..., AppTest]


def test_a_change_of_the_history_shows_at_the_next_run(
    make_app: MakeApp, project_id: int, label_studio_up: Callable[..., None]
) -> None:
    history = History(settings.db_url(), server=FAKE.url)
    add_version(history, project_id, 40, accuracy=0.70, entropy=0.5)
    add_version(history, project_id, 60, accuracy=0.74, entropy=0.4, kappa=0.9)
    label_studio_up(project_id)
    at = open_progress(make_app, project_id)
    assert metric(at, "Training labels").value == "60"
    charts_before = [c.proto.spec for c in at.get("plotly_chart")]

    other = open_progress(make_app, project_id)  # another session: the same figures, from the cache
    assert [c.proto.spec for c in other.get("plotly_chart")] == charts_before

    newest = add_version(history, project_id, 80, accuracy=0.80, entropy=0.3, kappa=0.95)
    at.run()
    assert not at.exception
    assert metric(at, "Training labels").value == "80" and metric(at, "Accuracy").value == "80.0%"
    assert newest in at.get("plotly_chart")[0].proto.spec, "the learning curve has the new version"

    running = history.start_iteration(project_id, None, {"strategy": "margin"}, "webhook")
    history.set_step(running.id, "score")
    at.run()
    assert at.dataframe[0].value["error"][0].endswith("step score")
    history.finish_iteration(running.id, status="failed", error="Label Studio does not answer.")
    at.run()
    assert any("Label Studio does not answer." in w for w in texts(at.warning))
