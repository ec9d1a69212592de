"""AppTest of the Progress page, run through app.py with a history pre-filled in the temporary AL_DATA_DIR.

Label Studio is faked (projects list, project, health) for speed; the last test uses the real server.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from streamlit.proto.Metric_pb2 import Metric
from streamlit.testing.v1 import AppTest

from al_core import settings
from al_core.errors import ConnectionFailed
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import TEMPLATES
from al_core.labelstudio.records import Project
from al_core.settings import Connection
from al_core.store import versions
from al_core.store.history import History
from ui import services, state

PAGE = "pages/progress.py"
FAKE = Connection("http://127.0.0.1:9", "fake-key-1234", "entered")
LABELS = ["billing", "card", "loan"]
_ids = itertools.count(9000)
MakeApp = Callable[..., AppTest]


def texts(elements: Any) -> list[str]:
    """Element values with Markdown escapes removed (pages escape user data with ui.common.md)."""
    return [str(e.value).replace("\\", "") for e in elements]


@pytest.fixture
def project_id() -> int:
    return next(_ids)


def add_version(
    history: History,
    project_id: int,
    n_labeled: int,
    *,
    accuracy: float | None = None,
    entropy: float | None = None,
    kappa: float | None = None,
    status: str = "succeeded",
    error: str | None = None,
    right: set[int] | None = None,
) -> str:
    """Record one iteration as run_iteration does; without ``accuracy`` it is a cold start. ``right``: the
    evaluation tasks (ids 1 to 40) it got right, stored as its per-task outcomes."""
    record = history.start_iteration(project_id, n_labeled, {"strategy": "margin"}, "manual")
    if status != "succeeded":
        history.finish_iteration(record.id, status=status, error=error, timings={"read": 1.0})
        return record.model_version
    metrics: dict[str, Any] = {}
    uncertainty: dict[str, Any] = {}
    if accuracy is not None:
        metrics = {
            "accuracy": accuracy,
            "macro_f1": accuracy - 0.05,
            "n_eval": 40,
            "labels": LABELS,
            "per_class_f1": {"billing": 0.9, "card": 0.7, "loan": 0.5},
            "confusion": [[20, 2, 0], [3, 8, 1], [1, 1, 4]],
            "cv_accuracy": accuracy + 0.1,
            "live_agreement": None,
            "n_live": 0,
            "train_class_counts": {"billing": n_labeled - 5, "card": 3, "loan": 2},
        }
        if right is not None:
            metrics["eval_outcomes"] = {
                str(t): ["billing", True, 0.9, "billing"] if t in right else ["card", False, 0.8, "loan"]
                for t in range(1, 41)
            }
        uncertainty = {
            "n": 500,
            "quantiles": {"p05": 0.05, "p25": 0.2, "p50": 0.4, "p75": 0.6, "p95": 0.9},
            "histogram_counts": [25] * 20,
            "histogram_edges": [i / 20 for i in range(21)],
            "mean_normalized_entropy": entropy,
            "kappa": kappa,
            "consider_stopping": False,
            "predicted_class_counts": {"billing": 300, "card": 150, "loan": 50},
        }
    history.finish_iteration(
        record.id,
        status="succeeded",
        counts={"n_labeled": n_labeled, "n_eval_labeled": 40, "n_predictions": 500, "cold_start": accuracy is None},
        metrics=metrics,
        uncertainty=uncertainty,
        timings={"read": 1.0, "train": 2.0, "upload": 3.0},
        artifact_path=str(versions.model_path(history.server, project_id, record.model_version))
        if accuracy is not None
        else None,
    )
    return record.model_version


def three_versions(project_id: int, server: str = FAKE.url) -> list[str]:
    history = History(settings.db_url(), server=server)
    return [
        add_version(history, project_id, 3),
        add_version(history, project_id, 40, accuracy=0.70, entropy=0.50),
        add_version(history, project_id, 60, accuracy=0.742, entropy=0.42, kappa=0.93),
    ]


@pytest.fixture
def label_studio_up(monkeypatch: pytest.MonkeyPatch) -> Callable[[int, str], None]:
    """Fake a reachable Label Studio whose project ``project_id`` uses ``live`` as its model version."""

    def fake(project_id: int, live: str = "") -> None:
        project = Project(id=project_id, title="Bank intents", label_config="<View/>", model_version=live)
        monkeypatch.setattr(services, "projects", lambda conn, **kwargs: [project])
        monkeypatch.setattr(services, "project", lambda conn, pid: project)
        monkeypatch.setattr("al_core.labelstudio.gateway.server_health", lambda url, timeout=2.0: True)

    return fake


@pytest.fixture
def label_studio_down(monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*args: object, **kwargs: object) -> None:
        raise ConnectionFailed(f"Cannot reach Label Studio at {FAKE.url} while listing projects (ConnectError).")

    monkeypatch.setattr(services, "projects", down)
    monkeypatch.setattr(services, "project", down)
    monkeypatch.setattr("al_core.labelstudio.gateway.server_health", lambda url, timeout=2.0: False)


def open_progress(make_app: MakeApp, project_id: int | None, **params: str) -> AppTest:
    at = make_app(FAKE)
    if project_id is not None:
        at.query_params["project"] = str(project_id)
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(PAGE).run()
    assert not at.exception, texts(at.exception)
    return at


def metric(at: AppTest, label: str) -> Any:
    return next(m for m in at.metric if m.label == label)


# -- guards ------------------------------------------------------------------------------------------------
def test_without_a_connection_it_links_to_connect(make_app: MakeApp) -> None:
    at = make_app().switch_page(PAGE).run()
    assert not at.exception
    assert any("Connect to Label Studio" in i for i in texts(at.info))
    assert any(link.proto.page.endswith("connect") for link in at.main.get("page_link"))


def test_without_a_project_it_links_to_the_project_page(make_app: MakeApp, label_studio_down: None) -> None:
    at = open_progress(make_app, None)
    assert any("Choose or create a project" in i for i in texts(at.info))
    assert any(link.proto.page.endswith("project") for link in at.main.get("page_link"))


def test_no_versions_yet(make_app: MakeApp, project_id: int, label_studio_up: Callable[..., None]) -> None:
    label_studio_up(project_id)
    at = open_progress(make_app, project_id)
    assert texts(at.info) == ["No model versions yet: label a few tasks in Label Studio, then run an iteration."]
    assert any(link.proto.page.endswith("active_learning") for link in at.main.get("page_link"))
    assert not at.get("plotly_chart")


def test_only_failed_iterations_is_the_empty_state(
    make_app: MakeApp, project_id: int, label_studio_up: Callable[..., None]
) -> None:
    add_version(History(settings.db_url(), server=FAKE.url), project_id, 0, status="failed", error="boom")
    label_studio_up(project_id)
    at = open_progress(make_app, project_id)
    assert any(i.startswith("No model versions yet") for i in texts(at.info))


# -- the page with versions ------------------------------------------------------------------------------
def test_three_versions(make_app: MakeApp, project_id: int, label_studio_up: Callable[..., None]) -> None:
    names = three_versions(project_id)
    label_studio_up(project_id, live=names[-1])
    at = open_progress(make_app, project_id)
    assert texts(at.title) == ["Progress of Bank intents"]
    accuracy = metric(at, "Accuracy")
    assert (accuracy.value, accuracy.delta) == ("74.2%", "+4.2 points")
    assert metric(at, "Training labels").value == "60"
    assert (metric(at, "Mean entropy").value, metric(at, "Mean entropy").delta) == (
        "0.42",
        "-0.08",
    )
    assert metric(at, "Kappa").value == "0.930"
    verdict = " ".join(texts(at.info))
    # Stored without per-task outcomes: no paired test, so neither "improving" nor a green arrow.
    assert "+4.2 points since al-0002-n40: not tested for a real difference" in verdict
    assert "improving" not in verdict
    assert (accuracy.proto.color, accuracy.proto.direction) == (Metric.GRAY, Metric.NONE)
    assert "95% interval 60%-86%" in accuracy.help and "40 evaluation labels" in accuracy.help
    assert accuracy.proto.delta_description == "not tested; 95% interval 60%-86%, n = 40"
    assert "(±14 points: 95% interval 60%-86%; about 252 more evaluation labels for ±5 points)" in verdict
    assert len(at.get("plotly_chart")) == 9
    assert at.selectbox(key="w_progress_version").value == names[-1]
    assert "live in Label Studio" in at.selectbox(key="w_progress_version").format_func(names[-1])
    table = at.dataframe[0].value
    assert list(table["version"]) == list(reversed(names))
    assert not at.warning


def test_a_failed_last_iteration_is_shown(
    make_app: MakeApp, project_id: int, label_studio_up: Callable[..., None]
) -> None:
    three_versions(project_id)
    add_version(
        History(settings.db_url(), server=FAKE.url), project_id, 0, status="failed", error="Label Studio is down"
    )
    label_studio_up(project_id)
    at = open_progress(make_app, project_id)
    assert any("failed" in w and "Label Studio is down" in w for w in texts(at.warning))
    assert len(at.dataframe[0].value) == 4


def test_a_running_iteration_is_shown_with_its_step(
    make_app: MakeApp, project_id: int, label_studio_up: Callable[..., None]
) -> None:
    three_versions(project_id)
    history = History(settings.db_url(), server=FAKE.url)
    running = history.start_iteration(project_id, None, {"strategy": "margin"}, "webhook")  # labels not read yet
    history.set_step(running.id, "train")
    label_studio_up(project_id)
    at = open_progress(make_app, project_id)
    table = at.dataframe[0].value
    assert list(table["status"])[:2] == ["running", "succeeded"]
    assert table["error"][0].startswith("running since") and table["error"][0].endswith("step train")
    assert metric(at, "Training labels").value == "60"


def test_label_studio_unreachable_still_shows_the_history(
    make_app: MakeApp, project_id: int, label_studio_down: None
) -> None:
    three_versions(project_id)
    at = open_progress(make_app, project_id)
    assert any("Showing the history only" in w for w in texts(at.warning))
    assert texts(at.title) == [f"Progress of project {project_id}"]
    assert metric(at, "Accuracy").value == "74.2%"


def test_a_rolled_back_queue_is_mentioned(
    make_app: MakeApp, project_id: int, label_studio_up: Callable[..., None]
) -> None:
    names = three_versions(project_id)
    label_studio_up(project_id, live=names[1])
    at = open_progress(make_app, project_id)
    assert any("not the latest version" in c for c in texts(at.caption))


def test_better_only_when_the_paired_test_says_so_and_the_mistakes_are_listed(
    make_app: MakeApp, project_id: int, label_studio_up: Callable[..., None]
) -> None:
    history = History(settings.db_url(), server=FAKE.url)
    add_version(history, project_id, 40, accuracy=0.5, right=set(range(1, 21)))
    better = add_version(history, project_id, 60, accuracy=0.9, right=set(range(1, 37)))
    label_studio_up(project_id, live=better)
    at = open_progress(make_app, project_id)
    accuracy = metric(at, "Accuracy")
    assert accuracy.delta == "+40.0 points" and (accuracy.proto.color, accuracy.proto.direction) == (
        Metric.GREEN,
        Metric.UP,
    )
    assert "the model is improving (on the same 40 evaluation tasks" in " ".join(texts(at.info))
    assert any("al-0002-n60 is better than al-0001-n40 on the same 40 evaluation tasks" in c for c in texts(at.caption))
    wrong = next(d.value for d in at.dataframe if "predicted" in d.value.columns)
    assert list(wrong["task"]) == [37, 38, 39, 40]
    assert list(wrong["true label"]) == ["loan"] * 4 and list(wrong["predicted"]) == ["card"] * 4
    assert wrong["open in Label Studio"][0] == f"{FAKE.url}/projects/{project_id}/data?task=37"
    assert any("gets 4 of its 40 evaluation tasks wrong" in c for c in texts(at.caption))


def test_a_difference_within_noise_is_not_drawn_as_progress(
    make_app: MakeApp, project_id: int, label_studio_up: Callable[..., None]
) -> None:
    history = History(settings.db_url(), server=FAKE.url)
    add_version(history, project_id, 40, accuracy=0.7, right=set(range(1, 29)))
    add_version(history, project_id, 60, accuracy=0.7, right=set(range(2, 30)))
    label_studio_up(project_id)
    at = open_progress(make_app, project_id)
    accuracy = metric(at, "Accuracy")
    assert accuracy.delta == "+0.0 points"
    assert (accuracy.proto.color, accuracy.proto.direction) == (Metric.GRAY, Metric.NONE)  # no green up arrow
    assert "within noise (1 fixed, 1 broken on the same 40 evaluation tasks" in " ".join(texts(at.info))


def test_an_unchanged_label_count_and_entropy_have_no_arrow(
    make_app: MakeApp, project_id: int, label_studio_up: Callable[..., None]
) -> None:
    """A forced re-run on the same labels: "+0" and "+0.00" in grey, not an up arrow (red for the entropy)."""
    history = History(settings.db_url(), server=FAKE.url)
    add_version(history, project_id, 60, accuracy=0.7, entropy=0.63)
    add_version(history, project_id, 60, accuracy=0.7, entropy=0.631)
    label_studio_up(project_id)
    at = open_progress(make_app, project_id)
    for label, delta in (("Training labels", "+0"), ("Mean entropy", "+0.00")):
        shown = metric(at, label)
        assert (shown.delta, shown.proto.color, shown.proto.direction) == (delta, Metric.GRAY, Metric.NONE), label


# -- the chosen version and the URL ---------------------------------------------------------------------
def test_a_deep_link_opens_that_version_and_the_choice_goes_to_the_url(
    make_app: MakeApp, project_id: int, label_studio_up: Callable[..., None]
) -> None:
    names = three_versions(project_id)
    label_studio_up(project_id)
    at = open_progress(make_app, project_id, version=names[1])
    picker = at.selectbox(key="w_progress_version")
    assert picker.value == names[1]
    assert any(names[1] in c for c in texts(at.caption))

    picker.set_value(names[2]).run()
    assert not at.exception
    assert at.query_params["version"] == names[2]
    assert at.session_state[state.VERSION] == names[2]
    assert at.selectbox(key="w_progress_version").value == names[2]


def test_a_link_to_an_unknown_version_falls_back_to_the_latest(
    make_app: MakeApp, project_id: int, label_studio_up: Callable[..., None]
) -> None:
    names = three_versions(project_id)
    label_studio_up(project_id)
    at = open_progress(make_app, project_id, version="al-9999-n1")
    assert any("al-9999-n1" in w and "showing the latest" in w for w in texts(at.warning))
    assert at.selectbox(key="w_progress_version").value == names[-1]
    assert "version" not in at.query_params


def test_model_download_only_when_the_file_exists(
    make_app: MakeApp, project_id: int, label_studio_up: Callable[..., None]
) -> None:
    names = three_versions(project_id)
    label_studio_up(project_id)
    at = open_progress(make_app, project_id)
    assert any("not on this machine" in c for c in texts(at.caption))

    path = versions.model_path(FAKE.url, project_id, names[-1])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"model bytes")
    at.run()
    labels = [b.label for b in at.get("download_button")]
    assert any(label.startswith(f"Download the model of {names[-1]}") for label in labels)
    assert "Download as CSV" in labels

    at.selectbox(key="w_progress_version").set_value(names[0]).run()
    assert any("cold start" in c for c in texts(at.caption))


def test_compare_two_versions(make_app: MakeApp, project_id: int, label_studio_up: Callable[..., None]) -> None:
    names = three_versions(project_id)
    label_studio_up(project_id)
    at = open_progress(make_app, project_id)
    assert at.selectbox(key="w_progress_compare_a").value == names[1]
    assert at.selectbox(key="w_progress_compare_b").value == names[2]
    at.selectbox(key="w_progress_compare_a").set_value(names[0]).run()
    assert not at.exception


def test_two_hundred_versions_render(make_app: MakeApp, project_id: int, label_studio_up: Callable[..., None]) -> None:
    history = History(settings.db_url(), server=FAKE.url)
    add_version(history, project_id, 2)
    for i in range(1, 200):
        add_version(history, project_id, 10 * i, accuracy=0.5 + i / 500, entropy=0.6 - i / 1000, kappa=0.8 + i / 1000)
    label_studio_up(project_id)
    at = open_progress(make_app, project_id)
    assert len(at.dataframe[0].value) == 200
    assert len(at.get("plotly_chart")) == 9
    assert metric(at, "Training labels").value == "1,990"


# -- against the real server ---------------------------------------------------------------------------------
@pytest.mark.integration
def test_with_the_real_label_studio(
    make_app: MakeApp, label_studio: Connection, gateway: Gateway, unique_title: str
) -> None:
    project = gateway.create_project(unique_title, TEMPLATES["sentiment"])
    three_versions(project.id, label_studio.url)
    at = make_app(label_studio)
    at.query_params["project"] = str(project.id)
    at.switch_page(PAGE).run()
    assert not at.exception, texts(at.exception)
    assert texts(at.title) == [f"Progress of {unique_title}"]
    assert not at.warning
    assert metric(at, "Accuracy").value == "74.2%"
