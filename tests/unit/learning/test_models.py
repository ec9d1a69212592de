"""Tests for al_core.learning.models: a contract run over every registered model, persistence and error messages."""

from __future__ import annotations

import joblib
import numpy as np
import pytest

from al_core.errors import ConfigError, NotEnoughData
from al_core.learning.models import (
    DEFAULT_MODEL,
    MODELS,
    FittedModel,
    fit_model,
    load_model,
    resolve_params,
    save_model,
    vectorize_for_diversity,
)

# Four classes; "hotel" has two examples and "weather" a single one.
TEXTS = [
    "cheap flights to paris",
    "my flight was delayed",
    "book a flight to rome",
    "cancel my plane ticket",
    "pizza delivery is late",
    "order a pizza with cheese",
    "the burger was cold",
    "best sushi in town",
    "hotel room was dirty",
    "book a hotel near the beach",
    "will it rain tomorrow",
]
LABELS = ["travel"] * 4 + ["food"] * 4 + ["hotel"] * 2 + ["weather"]
MULTI = [
    ("travel",),
    ("travel",),
    ("travel",),
    ("travel",),
    ("food",),
    ("food",),
    ("food",),
    ("food", "travel"),
    ("hotel",),
    ("hotel", "travel"),
    ("weather",),
]
QUERIES = ["flight to paris", "cold pizza", "dirty hotel", "rain", "something else entirely"]


@pytest.mark.parametrize("name", list(MODELS))
def test_model_contract_single_label(name: str) -> None:
    model = fit_model(name, TEXTS, LABELS, random_state=0)
    assert isinstance(model, FittedModel)
    assert model.classes == ("food", "hotel", "travel", "weather")
    assert tuple(model.pipeline.classes_) == model.classes
    proba = model.predict_proba(QUERIES)
    assert proba.shape == (len(QUERIES), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert model.predict(["cheap flight to rome"]) == ["travel"]
    predicted = model.predict(QUERIES)
    assert predicted == [model.classes[i] for i in proba.argmax(axis=1)]
    assert model.features(QUERIES).shape[0] == len(QUERIES)
    np.testing.assert_array_equal(proba, fit_model(name, TEXTS, LABELS, random_state=0).predict_proba(QUERIES))


@pytest.mark.parametrize("name", list(MODELS))
def test_model_contract_binary_with_a_singleton_class(name: str) -> None:
    model = fit_model(name, TEXTS[:5], ["travel"] * 4 + ["food"])
    proba = model.predict_proba(QUERIES)
    assert model.classes == ("food", "travel")
    assert proba.shape == (len(QUERIES), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("name", list(MODELS))
def test_model_contract_multi_label(name: str) -> None:
    model = fit_model(name, TEXTS, MULTI, multi_label=True)
    assert model.classes == ("food", "hotel", "travel", "weather")
    proba = model.predict_proba(QUERIES)
    assert proba.shape == (len(QUERIES), 4)
    assert np.all((proba >= 0) & (proba <= 1))
    predicted = model.predict(QUERIES)
    assert all(isinstance(p, tuple) and len(p) >= 1 for p in predicted)
    assert all(set(p) <= set(model.classes) for p in predicted)


@pytest.mark.parametrize("name", list(MODELS))
def test_multi_label_with_two_labels_keeps_two_columns(name: str) -> None:
    labels = [("a",), ("b",), ("a", "b"), ("a",), ("b",), ()]
    model = fit_model(name, TEXTS[:6], labels, multi_label=True)
    assert model.predict_proba(QUERIES).shape == (len(QUERIES), 2)


def test_save_load_round_trip(tmp_path) -> None:
    model = fit_model("tfidf-svm", TEXTS, LABELS)
    path = save_model(model, tmp_path / "nested" / "model.joblib")
    loaded = load_model(path)
    assert loaded.classes == model.classes
    assert loaded.params == model.params
    np.testing.assert_array_equal(loaded.predict_proba(QUERIES), model.predict_proba(QUERIES))


def test_load_model_errors(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"No model file at .*missing\.joblib'\. Train a model first\."):
        load_model(tmp_path / "missing.joblib")
    joblib.dump({"something": "else"}, tmp_path / "other.joblib")
    with pytest.raises(ConfigError, match=r"is not a model saved by this app"):
        load_model(tmp_path / "other.joblib")


def test_predict_proba_chunks_and_empty_input() -> None:
    model = fit_model(DEFAULT_MODEL, TEXTS, LABELS)
    np.testing.assert_allclose(model.predict_proba(QUERIES, chunk_size=2), model.predict_proba(QUERIES))
    assert model.predict_proba([]).shape == (0, 4)
    assert model.predict([]) == []
    with pytest.raises(ConfigError, match=r"The 'chunk_size' parameter must be an int in \[1, inf\)\. Got 0"):
        model.predict_proba(QUERIES, chunk_size=0)


def test_registry_defaults_are_valid_and_documented() -> None:
    assert DEFAULT_MODEL in MODELS
    for name, spec in MODELS.items():
        assert spec.name == name
        assert set(spec.param_docs) == set(spec.defaults)
        assert resolve_params(name) == dict(spec.defaults)
    with pytest.raises(TypeError):
        MODELS["other"] = MODELS[DEFAULT_MODEL]  # type: ignore[index]


def test_params_are_applied() -> None:
    model = fit_model("tfidf-logreg", TEXTS, LABELS, params={"C": 0.5, "ngram_max": 1, "max_features": 10})
    assert model.params["C"] == 0.5
    assert model.features(QUERIES).shape[1] == 10
    assert model.pipeline.named_steps["clf"].C == 0.5


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        (
            "svm",
            None,
            r"The 'model' parameter must be one of \['tfidf-logreg', 'tfidf-svm', 'tfidf-cnb', 'minilm-logreg', "
            r"'tfidf\+minilm-logreg'\]\. ",
        ),
        ("tfidf-logreg", {"C": 0}, r"The 'C' parameter must be a float in \(0, inf\)\. Got 0 instead\."),
        (
            "tfidf-cnb",
            {"alpha": "x"},
            r"The 'alpha' parameter must be a float in \(0, inf\)\. Got 'x' instead\.",
        ),
        (
            "tfidf-svm",
            {"ngram_max": 5},
            r"The 'ngram_max' parameter must be an int in \[1, 3\]\. Got 5 instead\.",
        ),
        (
            "tfidf-svm",
            {"max_features": 0},
            r"'max_features' parameter must be an int in \[1, inf\) or None\.",
        ),
        (
            "tfidf-svm",
            {"class_weight": "auto"},
            r"'class_weight' parameter must be a str among \{'balanced'\}",
        ),
        (
            "tfidf-cnb",
            {"C": 1.0},
            r"Unknown parameter\(s\) \['C'\] for model 'tfidf-cnb'\. Valid parameters: ",
        ),
    ],
)
def test_parameter_errors(name: str, params: dict | None, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        fit_model(name, TEXTS, LABELS, params=params)


def test_input_errors() -> None:
    with pytest.raises(NotEnoughData, match=r"at least 2 distinct labels; got 1 \(\['travel'\]\) across 3 labeled"):
        fit_model(DEFAULT_MODEL, TEXTS[:3], ["travel"] * 3)
    with pytest.raises(NotEnoughData, match=r"at least 2 distinct labels; got 0"):
        fit_model(DEFAULT_MODEL, [], [])
    with pytest.raises(ConfigError, match=r"Got 3 texts but 2 labels"):
        fit_model(DEFAULT_MODEL, TEXTS[:3], ["a", "b"])
    with pytest.raises(ConfigError, match=r"text 1 is float \(nan\)"):
        fit_model(DEFAULT_MODEL, ["a b", float("nan")], ["a", "b"])
    with pytest.raises(NotEnoughData, match=r"The 2 training texts contain no words"):
        fit_model(DEFAULT_MODEL, ["!", "?"], ["a", "b"])


def test_vectorize_for_diversity() -> None:
    matrix = vectorize_for_diversity(TEXTS)
    assert matrix.shape[0] == len(TEXTS)
    np.testing.assert_allclose(np.sqrt(matrix.multiply(matrix).sum(axis=1)).ravel(), 1.0)
    with pytest.raises(NotEnoughData, match=r"The 1 texts contain no words"):
        vectorize_for_diversity(["..."])


def test_a_model_saved_before_the_package_split_still_loads(tmp_path, monkeypatch) -> None:
    """Files saved by the previous version name ``al_core.models.FittedModel``: they load as today's class."""
    import sys

    import joblib

    from al_core.learning import models

    fitted = models.fit_model("tfidf-svm", ["good film", "bad film", "fine day", "awful day"], ["p", "n", "p", "n"])
    monkeypatch.setattr(models.FittedModel, "__module__", "al_core.models")
    monkeypatch.setattr(models.CalibratedLinearSVC, "__module__", "al_core.models")
    monkeypatch.setitem(sys.modules, "al_core.models", models)
    path = tmp_path / "old.joblib"
    joblib.dump({"format": "al_core.models/1", "model": fitted}, path)
    monkeypatch.undo()
    assert "al_core.models" not in sys.modules
    saved = path.read_bytes()
    assert b"al_core.models" in saved and b"al_core.learning" not in saved  # written as the previous version did
    loaded = models.load_model(path)
    assert isinstance(loaded, models.FittedModel) and loaded.predict(["good day"]) == fitted.predict(["good day"])
    assert "al_core.models" not in sys.modules  # the alias lived only while loading


def test_labels_from_proba_is_the_one_decision_rule() -> None:
    import numpy as np

    from al_core.learning.models import labels_from_proba

    proba = np.array([[0.2, 0.7, 0.6], [0.1, 0.3, 0.2]])
    assert labels_from_proba(proba, ("a", "b", "c"), False) == ["b", "b"]
    assert labels_from_proba(proba, ("a", "b", "c"), True) == [("b", "c"), ("b",)]  # at least the top one
    assert labels_from_proba(np.zeros((0, 3)), ("a", "b", "c"), True) == []


# -- the model nobody chose: by the number of classes (bench/README.md, issue #16) -------------------------------
def test_the_default_model_follows_the_number_of_classes(monkeypatch: pytest.MonkeyPatch) -> None:
    from al_core.learning import embeddings, models

    monkeypatch.delenv("AL_MODEL", raising=False)
    monkeypatch.setattr(embeddings, "unavailable_reason", lambda: None)
    assert [models.model_for_classes(n) for n in (1, 2, 3, 15)] == [
        "tfidf+minilm-logreg",
        "tfidf+minilm-logreg",
        "minilm-logreg",
        "minilm-logreg",
    ]
    assert models.model_for_classes(None) == "minilm-logreg", "classes not known yet: the many-class default"
    assert models.env_model() is None and models.default_model(2) == "tfidf+minilm-logreg"
    monkeypatch.setenv("AL_MODEL", "tfidf-svm")
    assert models.env_model() == "tfidf-svm" and models.default_model(2) == "tfidf-svm", "AL_MODEL is a choice"
    monkeypatch.setenv("AL_MODEL", "bert")
    with pytest.raises(ConfigError, match=r"The 'model' parameter must be one of .* Got 'bert' instead\."):
        models.default_model(2)


def test_without_the_embedding_extra_the_default_is_tfidf_whatever_the_classes(monkeypatch: pytest.MonkeyPatch) -> None:
    from al_core.learning import embeddings, models

    monkeypatch.delenv("AL_MODEL", raising=False)
    monkeypatch.setattr(embeddings, "unavailable_reason", lambda: "Sentence embeddings are not installed.")
    assert {models.model_for_classes(n) for n in (None, 2, 15)} == {DEFAULT_MODEL}
