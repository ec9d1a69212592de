"""Tests for al_core.lab.strategy_lab: uploads with mapped columns, guards, the plan and the recommendation."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from al_core.errors import ConfigError, NotEnoughData, UploadError
from al_core.lab import strategy_lab as lab
from al_core.labelstudio.label_config import build_config
from al_core.labelstudio.records import Annotation, Project, Task
from tests.unit.synthetic import synthetic


def upload(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


# -- uploads ----------------------------------------------------------------------------------------------
def test_columns_named_otherwise_are_guessed_and_mapped() -> None:
    raw = "id;sentence;intent\n1;my card is lost;card\n2;when is the bill due;bill\n3;;bill\n4;refund please;\n"
    guess = lab.upload_columns(upload(raw), "mine.csv")
    assert guess == lab.UploadColumns(("id", "sentence", "intent"), "sentence", "intent")
    data = lab.read_upload(upload(raw), "mine.csv", text_column="sentence", label_column="intent")
    assert data.texts == ("my card is lost", "when is the bill due")
    assert data.labels == ("card", "bill") and data.classes == ("bill", "card")
    assert (data.source, data.n_dropped) == ("mine.csv", 2)  # a blank text, a blank label


def test_without_a_known_label_name_the_column_with_fewest_values_is_guessed() -> None:
    raw = "body,kind\nthe first long text,a\nthe second long text,a\nthe third long text,b\n"
    assert lab.upload_columns(upload(raw), "x.csv") == lab.UploadColumns(("body", "kind"), "body", "kind")


def test_jsonl_with_numeric_labels_and_repeated_texts() -> None:
    raw = '{"text": "good", "y": 1}\n{"text": "bad", "y": 0}\n{"text": "good", "y": 0}\n'
    data = lab.read_upload(upload(raw), "x.jsonl", text_column="text", label_column="y")
    assert (data.texts, data.labels, data.n_dropped) == (("good", "bad"), ("1", "0"), 1)


def test_a_column_named_like_the_text_key_is_still_a_label() -> None:
    raw = "sentence,text\nhello there,greeting\nbye now,farewell\n"
    data = lab.read_upload(upload(raw), "x.csv", text_column="sentence", label_column="text")
    assert data.labels == ("greeting", "farewell")


def test_bad_column_choices_are_refused() -> None:
    raw = "text,label\na,b\n"
    with pytest.raises(ConfigError, match="both 'text'; choose two different columns"):
        lab.read_upload(upload(raw), "x.csv", text_column="text", label_column="text")
    with pytest.raises(UploadError, match=r"no column 'tag'; columns found: \['text', 'label'\]"):
        lab.read_upload(upload(raw), "x.csv", text_column="text", label_column="tag")


# -- the current project ----------------------------------------------------------------------------------
class FakeGateway:
    def __init__(self, config: str, tasks: list[Task]) -> None:
        self.config, self.tasks = config, tasks

    def get_project(self, project_id: int) -> Project:
        return Project(project_id, "Bank intents", self.config)

    def labeled_tasks(self, project_id: int) -> list[Task]:
        return self.tasks


def task(tid: int, text: str, *choices: str, cancelled: bool = False) -> Task:
    result = ({"from_name": "intent", "to_name": "text", "type": "choices", "value": {"choices": list(choices)}},)
    return Task(tid, {"text": text}, (Annotation(tid, result, was_cancelled=cancelled),))


def test_project_labels_are_read_like_an_iteration_reads_them() -> None:
    tasks = [task(1, "lost my card", "card"), task(2, "bill due?", "bill"), task(3, "skip me", "bill", cancelled=True)]
    tasks.append(task(4, "what is this", "no_such_label"))
    config = build_config(["card", "bill"], control_name="intent")
    data = lab.from_project(FakeGateway(config, tasks), 7, "intent")  # type: ignore[arg-type]
    assert (data.texts, data.labels) == (("lost my card", "bill due?"), ("card", "bill"))
    assert data.source == "project 7: Bank intents" and data.n_dropped == 2


def test_a_multi_label_project_is_refused() -> None:
    config = build_config(["a", "b"], multiple=True)
    with pytest.raises(ConfigError, match="simulates one label per text"):
        lab.from_project(FakeGateway(config, []), 7)  # type: ignore[arg-type]


def test_the_sample() -> None:
    data = lab.from_sample()
    assert data.n == 2250 and len(data.classes) == 15
    lab.check(data)


# -- guards -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [
        ([], [], "holds no labeled rows. Label some texts"),
        (["a", "b"], ["x", "x"], r"a single class \('x', 2 rows\)"),
        ([f"t{i}" for i in range(39)], ["x", "y", "z"] * 13, "39 labeled rows of 3 classes; the lab needs at least 40"),
        ([f"t{i}" for i in range(50)], [str(i % 15) for i in range(50)], "needs at least 60"),
    ],
)
def test_unusable_data_is_refused_with_what_to_do(texts: list, labels: list, message: str) -> None:
    with pytest.raises(NotEnoughData, match=message):
        lab.check(lab.LabData(tuple(texts), tuple(labels), "my.csv"))


# -- the plan ---------------------------------------------------------------------------------------------
def test_the_budget_is_capped_by_the_training_split() -> None:
    run_plan = lab.plan(90, budget=1000, batch=20, seeds=2, strategy_names=["random", "margin"])
    assert (run_plan.n_train, run_plan.budget, run_plan.capped) == (67, 67, True)
    assert run_plan.points == 4  # 20, 40, 60, 67
    assert run_plan.fits == 2 * (
        4 * (2 + 1) + 1
    )  # two strategies, the best again from the other first batch, the ceiling
    assert not run_plan.long


def test_a_big_run_is_flagged_long() -> None:
    small = lab.plan(2250, budget=60, batch=20, seeds=1, strategy_names=["margin"])
    big = lab.plan(20_000, budget=2000, batch=20, seeds=3, strategy_names=list(lab.simulation.ALL_STRATEGIES))
    assert not small.capped and not small.long and big.long
    assert big.seconds > 10 * small.seconds


def test_plan_refuses_bad_parameters() -> None:
    with pytest.raises(ConfigError, match="at least one strategy"):
        lab.plan(100, budget=60, batch=20, seeds=1, strategy_names=[])
    with pytest.raises(ConfigError, match=r"'seeds' parameter must be an int in \[1, inf\). Got 0 instead"):
        lab.plan(100, budget=60, batch=20, seeds=0, strategy_names=["margin"])
    with pytest.raises(ConfigError, match=r"'batch' parameter must be an int in \[1, inf\). Got 0 instead"):
        lab.plan(100, budget=60, batch=0, seeds=1, strategy_names=["margin"])


# -- the recommendation (golden, on hand-made results) ----------------------------------------------------
def result(**runs: tuple[float, int | None, float]) -> dict[str, Any]:
    """``name=(auc, n95, accuracy at the 200-label budget)``; the full-split accuracy is 0.9."""
    strategies = {
        name: {"auc": auc, "n95": n95, "n99": None, "curve": [[20, 0.3], [200, last]], "curve_macro_f1": [[20, 0.2], [200, last]]}
        for name, (auc, n95, last) in runs.items()
    }  # fmt: skip
    return {"full_accuracy": 0.9, "strategies": strategies}


def test_recommendation_with_labels_saved() -> None:
    text = lab.recommend(result(random=(0.6, 180, 0.86), margin=(0.75, 80, 0.88), entropy=(0.7, 100, 0.87)))
    assert text == (
        "margin reached 86% accuracy (95% of the 90% of a model trained on every row) with 80 labels; "
        "random needed 180 (2.2x as many)."
    )


def test_recommendation_when_random_never_gets_there() -> None:
    text = lab.recommend(result(random=(0.6, None, 0.8), margin=(0.75, 80, 0.88)))
    assert text.endswith("with 80 labels; random had not reached it at 200 labels.")


def test_recommendation_when_nobody_gets_there() -> None:
    text = lab.recommend(result(random=(0.5, None, 0.7), margin=(0.55, None, 0.8)))
    assert text == (
        "No strategy reached 86% accuracy (95% of the 90% of a model trained on every row) within 200 labels; "
        "margin came closest with 80% at 200 labels (random 70%). Raise the budget to see more."
    )


def test_recommendation_when_random_is_as_good() -> None:
    text = lab.recommend(result(random=(0.7, 100, 0.88), margin=(0.7, 100, 0.88)))
    assert text.startswith("Random sampling did as well as any strategy here (AUC 0.700)")


def test_recommendation_without_random() -> None:
    assert lab.recommend(result(margin=(0.7, 100, 0.88))).endswith("with 100 labels.")


def test_recommendation_gives_the_ceiling_of_each_representation() -> None:
    done = {**result(margin=(0.7, 100, 0.88)), "full_accuracy_by_model": {"tfidf-logreg": 0.9, "minilm-logreg": 0.8}}
    assert lab.recommend(done).endswith(
        "with 100 labels. Trained on every row (the ceiling of each representation): tfidf-logreg 90.0%, "
        "minilm-logreg 80.0%."
    )


@pytest.mark.parametrize(("tfidf", "hint"), [(0.996, True), (0.994, False)])
def test_a_higher_ceiling_of_another_representation_is_pointed_out(tfidf: float, hint: bool) -> None:
    by_model = {"minilm-logreg": 0.99, "tfidf+minilm-logreg": tfidf}
    done = {**result(margin=(0.7, 100, 0.88)), "full_accuracy_by_model": by_model, "params": {"model": "minilm-logreg"}}
    text = lab.recommend(done)
    expected = (
        " tfidf+minilm-logreg's ceiling is 0.6 points above minilm-logreg's: run the lab with tfidf+minilm-logreg"
    )
    assert (expected in text) is hint, text


# -- a real (small) run -----------------------------------------------------------------------------------
def test_run_and_download() -> None:
    texts, labels = synthetic(20)
    data = lab.LabData(tuple(texts), tuple(labels), "tiny.csv", 3)
    calls: list[tuple[int, int]] = []
    out = lab.run(
        data, strategy_names=["random", "margin"], budget=1000, batch=10, seeds=1, model="tfidf-logreg",
        on_progress=lambda d, t, m: calls.append((d, t)),
    )  # fmt: skip
    assert out.result["params"]["budget"] == 45, "capped by the training split of 60 rows"
    assert calls[-1][0] == calls[-1][1]
    saved = json.loads(out.to_json())
    assert (saved["source"], saved["n_rows"], saved["n_dropped"]) == ("tiny.csv", 60, 3)
    assert saved["recommendation"] == lab.recommend(out.result) == out.recommendation
    assert set(saved["strategies"]) == {"random", "margin"}


def test_run_refuses_a_single_class_before_any_fit() -> None:
    with pytest.raises(NotEnoughData, match="single class"):
        lab.run(lab.LabData(("a",) * 50, ("x",) * 50, "x.csv"), strategy_names=["margin"], budget=60, batch=20,
                seeds=1, model="tfidf-logreg")  # fmt: skip


def test_the_run_compares_the_first_batches_apart_and_says_which_is_which() -> None:
    texts, labels = synthetic(20)
    data = lab.LabData(tuple(texts), tuple(labels), "tiny.csv")
    out = lab.run(data, strategy_names=["random", "margin"], budget=1000, batch=10, seeds=1, model="tfidf-logreg")
    compared = out.result["first_batch"]
    assert (compared["strategy"], compared["used"], compared["other"]) == ("margin", "typical", "random")
    assert compared["auc"]["typical"] == out.result["strategies"]["margin"]["auc"]
    assert 0 < compared["auc"]["random"] <= 1
    text = out.recommendation
    assert "Every strategy, random included, started from the same typical first batch of 20 labels." in text
    assert "Cold start, compared apart: margin scored AUC" in text
    assert "from a typical first batch and" in text and "from a random first batch" in text


def test_recommendation_names_the_first_batches() -> None:
    made = result(random=(0.6, 180, 0.86), margin=(0.75, 80, 0.88))
    made["params"] = {"first": "typical", "start": 20}
    made["first_batch"] = {
        "strategy": "margin", "used": "typical", "other": "random",
        "auc": {"typical": 0.75, "random": 0.70}, "n95": {"typical": 80, "random": 120},
    }  # fmt: skip
    assert lab.recommend(made) == (
        "margin reached 86% accuracy (95% of the 90% of a model trained on every row) with 80 labels; "
        "random needed 180 (2.2x as many). Every strategy, random included, started from the same typical first "
        "batch of 20 labels. Cold start, compared apart: margin scored AUC 0.750 from a typical first batch and "
        "0.700 from a random first batch; the typical first batch is better by 0.050."
    )


def test_every_other_representation_is_a_ceiling_to_measure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lab.models, "available_models", lambda: ["tfidf-logreg", "tfidf-svm", "minilm-logreg"])
    assert lab.ceiling_models("tfidf-svm") == ["tfidf-logreg", "minilm-logreg"]
    assert lab.ceiling_models("minilm-logreg") == ["tfidf-logreg"]  # tfidf+minilm is not available here
    one = lab.plan(2250, budget=60, batch=20, seeds=2, strategy_names=["margin"], model="tfidf-logreg")
    more = lab.plan(2250, budget=60, batch=20, seeds=2, strategy_names=["margin"], model="tfidf-logreg",
                    ceilings=["minilm-logreg"])  # fmt: skip
    assert more.fits == one.fits + 2  # one full-split fit per seed
    assert more.seconds > one.seconds + 2250 / 60 - 1  # and embedding the texts once
