"""AppTest of the Strategy lab page, run through app.py: real (small) simulations on the shipped sample.

The upload goes through the real file uploader and column mapping; the project path fakes Label Studio's
answers (the real server's export is read in tests/integration/test_strategy_lab.py).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from al_core.lab import sample
from al_core.labelstudio.label_config import build_config
from al_core.labelstudio.records import Annotation, Project, Task
from al_core.settings import Connection
from ui import services, state

PAGE = "pages/strategy_lab.py"
FAKE = Connection("http://127.0.0.1:9", "fake-key-1234", "entered")
MakeApp = Callable[..., AppTest]


def texts(elements: Any) -> list[str]:
    """Element values with Markdown escapes removed (the page escapes user data with ui.common.md)."""
    return [str(e.value).replace("\\", "") for e in elements]


def subset(n_per_class: int = 12, n_classes: int = 5) -> list[tuple[str, str]]:
    """The first ``n_per_class`` sample texts of the first ``n_classes`` intents."""
    counts: dict[str, int] = {}
    rows = []
    for text, label in sample.sample_rows():
        if (label in counts or len(counts) < n_classes) and counts.get(label, 0) < n_per_class:
            counts[label] = counts.get(label, 0) + 1
            rows.append((text, label))
    return rows


def csv_bytes(rows: list[tuple[str, str]], header: tuple[str, str] = ("utterance", "intent")) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", *header])
    writer.writerows((i, text, label) for i, (text, label) in enumerate(rows))
    return out.getvalue().encode("utf-8")


def open_lab(make_app: MakeApp, connection: Connection | None = None) -> AppTest:
    at = make_app(connection).switch_page(PAGE).run()
    assert not at.exception, texts(at.exception)
    return at


def small_run(at: AppTest, strategies: list[str] | None = None) -> AppTest:
    """Budget 60, batch 20, one seed: a few seconds on the sample."""
    if strategies is not None:
        at.multiselect(key=state.W_LAB_STRATEGIES).set_value(strategies)
    at.number_input(key=state.W_LAB_BUDGET).set_value(60)
    at.number_input(key=state.W_LAB_SEEDS).set_value(1).run()
    at.button(key=state.W_LAB_RUN).click().run()
    assert not at.exception and not at.error, texts(at.exception) + texts(at.error)
    return at


def table(at: AppTest) -> list[dict[str, Any]]:
    frames = [d.value for d in at.dataframe if "AUC (accuracy)" in d.value.columns]
    assert len(frames) == 1, "the results table"
    return frames[0].to_dict("records")


# -- empty states -----------------------------------------------------------------------------------------
def test_without_data_it_says_what_to_do(make_app: MakeApp) -> None:
    at = open_lab(make_app)
    assert at.radio(key=state.W_LAB_SOURCE).value == "upload"
    assert texts(at.info) == ["Upload a labeled file (e.g. text,label columns), or choose the sample to try the lab."]
    assert any(link.proto.page.endswith("connect") for link in at.main.get("page_link"))
    assert state.W_LAB_RUN not in [b.key for b in at.button]


def test_the_project_source_needs_a_connection(make_app: MakeApp) -> None:
    at = open_lab(make_app)
    at.radio(key=state.W_LAB_SOURCE).set_value("project").run()
    assert not at.exception
    assert any("Connect to Label Studio to use a project's labels" in i for i in texts(at.info))


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([(f"text number {i}", "only") for i in range(50)], "a single class ('only', 50 rows)"),
        (subset(4, 5), "20 labeled rows of 5 classes; the lab needs at least 40"),
    ],
)
def test_unusable_uploads_are_explained(make_app: MakeApp, rows: list, message: str) -> None:
    at = open_lab(make_app)
    at.file_uploader(key=state.W_LAB_UPLOAD).set_value(("mine.csv", csv_bytes(rows), "text/csv")).run()
    assert not at.exception, texts(at.exception)
    assert any(message in i for i in texts(at.info)), texts(at.info)
    assert state.W_LAB_RUN not in [b.key for b in at.button]


# -- a run on an upload with its own column names ---------------------------------------------------------
def test_an_upload_is_mapped_and_simulated(make_app: MakeApp) -> None:
    at = open_lab(make_app)
    rows = subset(40, 5)  # 200 texts, 5 intents: a 150-text training split
    at.file_uploader(key=state.W_LAB_UPLOAD).set_value(("intents.csv", csv_bytes(rows), "text/csv")).run()
    assert not at.exception, texts(at.exception)
    assert at.selectbox(key=state.W_LAB_TEXT_COLUMN).value == "utterance"
    assert at.selectbox(key=state.W_LAB_LABEL_COLUMN).value == "intent"
    assert "intents.csv: 200 labeled texts, 5 classes." in texts(at.caption)
    assert at.multiselect(key=state.W_LAB_STRATEGIES).value == [
        "random",
        "least_confidence",
        "margin",
        "entropy",
        "margin+diversity",
    ]
    at.number_input(key=state.W_LAB_BUDGET).set_value(1000).run()
    assert any("Budget capped at 150 labels" in i for i in texts(at.info))

    small_run(at, ["random", "margin"])
    assert len(at.get("plotly_chart")) == 1
    assert [r["strategy"] for r in table(at)] == ["random", "margin"]
    assert [r["labels at budget"] for r in table(at)] == [60, 60]
    recommendation = texts(at.success)[0]
    assert "margin" in recommendation or recommendation.startswith("Random sampling")
    ceilings = at.session_state[state.LAB_RUN].result["full_accuracy_by_model"]  # every representation's ceiling
    assert set(ceilings) == {"minilm-logreg", "tfidf-logreg", "tfidf+minilm-logreg"}
    assert all(f"{model} {accuracy:.1%}" in recommendation for model, accuracy in ceilings.items())
    saved = json.loads(at.session_state[state.LAB_RUN].to_json())
    assert saved["source"] == "intents.csv" and saved["params"]["budget"] == 60

    at.number_input(key=state.W_LAB_BATCH).set_value(10).run()  # another widget: the result survives the rerun
    assert not at.exception and len(at.get("plotly_chart")) == 1 and len(table(at)) == 2


# -- the sample, every strategy ---------------------------------------------------------------------------
def test_the_sample_with_every_strategy(make_app: MakeApp) -> None:
    at = open_lab(make_app)
    at.radio(key=state.W_LAB_SOURCE).set_value("sample").run()
    assert "clinc150_banking.csv: 2,250 labeled texts, 15 classes." in texts(at.caption)
    small_run(at)
    rows = table(at)
    assert [r["strategy"] for r in rows] == ["random", "least_confidence", "margin", "entropy", "margin+diversity"]
    assert all(0.0 < r["accuracy at budget"] <= 1.0 for r in rows)
    assert len(texts(at.success)) == 1
    assert at.get("download_button")


def test_a_long_run_is_warned_about(make_app: MakeApp) -> None:
    at = open_lab(make_app)
    at.radio(key=state.W_LAB_SOURCE).set_value("sample").run()
    at.number_input(key=state.W_LAB_BUDGET).set_value(1600)
    at.number_input(key=state.W_LAB_SEEDS).set_value(5).run()
    assert any("This run would be long" in w for w in texts(at.warning))


def test_no_strategy_chosen(make_app: MakeApp) -> None:
    at = open_lab(make_app)
    at.radio(key=state.W_LAB_SOURCE).set_value("sample").run()
    at.multiselect(key=state.W_LAB_STRATEGIES).set_value([]).run()
    assert not at.exception
    assert any("Choose at least one strategy" in i for i in texts(at.info))


# -- the current project's labels (Label Studio faked) ----------------------------------------------------
class FakeGateway:
    """Answers like Label Studio's export: the subset's texts, each with one annotation (one cancelled)."""

    def __init__(self, project: Project, rows: list[tuple[str, str]]) -> None:
        self.project, self.rows = project, rows

    def get_project(self, project_id: int) -> Project:
        return self.project

    def labeled_tasks(self, project_id: int) -> list[Task]:
        tasks = []
        for i, (text, label) in enumerate(self.rows):
            result = {"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": [label]}}
            tasks.append(Task(i + 1, {"text": text}, (Annotation(i + 1, (result,), was_cancelled=i == 0),)))
        return tasks


@pytest.fixture
def fake_project(monkeypatch: pytest.MonkeyPatch) -> Project:
    rows = subset(20, 3)
    project = Project(id=4242, title="Bank intents", label_config=build_config(sorted({lab for _, lab in rows})))
    monkeypatch.setattr(services, "projects", lambda conn, **kwargs: [project])
    monkeypatch.setattr(services, "project", lambda conn, pid: project)
    monkeypatch.setattr(services, "gateway", lambda conn: FakeGateway(project, rows))
    monkeypatch.setattr("al_core.labelstudio.gateway.server_health", lambda url, timeout=2.0: True)
    return project


def test_the_projects_labels_are_simulated(make_app: MakeApp, fake_project: Project) -> None:
    at = make_app(FAKE)
    at.query_params["project"] = str(fake_project.id)
    at.switch_page(PAGE).run()
    at.radio(key=state.W_LAB_SOURCE).set_value("project").run()
    assert not at.exception and not at.error, texts(at.exception) + texts(at.error)
    shown = " ".join(texts(at.caption))
    assert "project 4242: Bank intents: 59 labeled texts, 3 classes; 1 row left out" in shown
    assert "not a random sample" in shown
    small_run(at, ["random", "margin"])
    assert len(at.get("plotly_chart")) == 1 and len(table(at)) == 2
    assert [r["labels at budget"] for r in table(at)] == [44, 44], "capped by the 44-text training split"


# -- with and without the sentence-embedding extra --------------------------------------------------------
def test_embedding_models_are_the_default_when_installed(make_app: MakeApp) -> None:
    at = open_lab(make_app)
    at.file_uploader(key=state.W_LAB_UPLOAD).set_value(("intents.csv", csv_bytes(subset(40, 5)), "text/csv")).run()
    model = at.selectbox(key=state.W_LAB_MODEL)
    assert "minilm-logreg" in model.options and model.value == "minilm-logreg"
    small_run(at, ["random", "margin+diversity"])
    assert [r["strategy"] for r in table(at)] == ["random", "margin+diversity"]


def test_with_two_classes_the_lab_starts_from_the_two_class_default(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As an iteration given no model: TF-IDF+MiniLM up to two classes (issue #16)."""
    monkeypatch.delenv("AL_MODEL", raising=False)
    at = open_lab(make_app)
    at.file_uploader(key=state.W_LAB_UPLOAD).set_value(("two.csv", csv_bytes(subset(20, 2)), "text/csv")).run()
    assert not at.exception, texts(at.exception)
    assert at.selectbox(key=state.W_LAB_MODEL).value == "tfidf+minilm-logreg"


def test_without_the_extra_the_tfidf_models_work(make_app: MakeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # what `import` sees when not installed
    at = open_lab(make_app)
    at.file_uploader(key=state.W_LAB_UPLOAD).set_value(("intents.csv", csv_bytes(subset(40, 5)), "text/csv")).run()
    model = at.selectbox(key=state.W_LAB_MODEL)
    assert model.options == ["tfidf-logreg", "tfidf-svm", "tfidf-cnb"] and model.value == "tfidf-logreg"
    small_run(at, ["random", "margin"])
    assert len(at.get("plotly_chart")) == 1
