"""Tests of al_core.context: the iteration settings (JSON round trip, defaults in one place, checks)."""

from __future__ import annotations

import pytest

from al_core.__main__ import _parser
from al_core.context import IterationSettings, default_of
from al_core.errors import ConfigError
from al_core.learning import models, strategies


def test_settings_round_trip_through_json() -> None:
    chosen = IterationSettings(model="tfidf-logreg", strategy="entropy", upload_top=0, eval_size=40, trigger="cli")
    stored = chosen.to_json()
    assert stored["strategy"] == "entropy" and stored["upload_top"] == 0 and stored["eval_size"] == 40
    assert IterationSettings.from_json(stored) == chosen
    again = IterationSettings.from_json({**stored, "unknown": 1, "trigger": "cli"}, trigger="webhook")
    assert again.trigger == "webhook" and again.strategy == "entropy"
    assert IterationSettings.from_json(None, model="tfidf-logreg") == IterationSettings(model="tfidf-logreg")


def test_scoring_gets_the_typed_part_of_the_settings() -> None:
    s = IterationSettings(model="tfidf-logreg", strategy="entropy", diversity=False, random_state=3)
    assert (s.scoring.model, s.scoring.strategy, s.scoring.diversity, s.scoring.random_state) == (
        "tfidf-logreg",
        "entropy",
        False,
        3,
    )


def test_defaults_live_in_the_settings_record() -> None:
    assert default_of("strategy") == strategies.DEFAULT_STRATEGY
    assert default_of("model") == models.env_model(), "no model chosen: None (by classes), or AL_MODEL"
    assert default_of("upload_top") == IterationSettings().upload_top == 1000
    args = _parser().parse_args(["iterate", "--project", "1"])
    assert (args.strategy, args.upload_top, args.diversity, args.eval_size, args.keep_versions) == (
        default_of("strategy"),
        default_of("upload_top"),
        default_of("diversity"),
        default_of("eval_size"),
        default_of("keep_versions"),
    )
    assert _parser().parse_args(["prune", "--project", "1"]).keep == default_of("keep_versions")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"upload_top": -1}, r"The 'upload_top' parameter must be an int in \[0, inf\)\. Got -1 instead\."),
        ({"eval_every": 0}, r"The 'eval_every' parameter must be an int in \[1, inf\)\. Got 0 instead\."),
        ({"eval_size": -2}, r"The 'eval_size' parameter must be an int in \[0, inf\) or None\. Got -2 instead\."),
        ({"keep_versions": 0}, r"The 'keep_versions' parameter must be an int in \[1, inf\)\. Got 0 instead\."),
        ({"upload_top": True}, r"The 'upload_top' parameter must be an int in \[0, inf\)\. Got True instead\."),
    ],
)
def test_bad_settings_are_refused(kwargs, message) -> None:
    with pytest.raises(ConfigError, match=message):
        IterationSettings(model="tfidf-logreg", **kwargs)


def test_the_dask_scheduler_is_an_address_or_empty_and_is_stored_with_the_settings():
    assert IterationSettings().dask_scheduler == "", "empty: AL_DASK_SCHEDULER, else this process"
    chosen = IterationSettings(model="tfidf-logreg", dask_scheduler=" tcp://10.0.0.5:8786 ")
    assert chosen.dask_scheduler == "tcp://10.0.0.5:8786"
    assert IterationSettings.from_json(chosen.to_json()).dask_scheduler == "tcp://10.0.0.5:8786"
    with pytest.raises(ConfigError, match=r"^The Dask scheduler must be an address like tcp://"):
        IterationSettings(model="tfidf-logreg", dask_scheduler="10.0.0.5:8786")


# -- a model nobody chose: chosen by the number of classes once the label config is read -------------------------
def _project(config: str):
    from al_core.labelstudio.records import Project

    return Project(id=7, title="p", label_config=config, task_number=10)


@pytest.fixture
def embeddings_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    from al_core.learning import embeddings

    monkeypatch.delenv("AL_MODEL", raising=False)
    monkeypatch.setattr(embeddings, "unavailable_reason", lambda: None)


def test_an_unchosen_model_is_chosen_by_the_classes_of_the_config(embeddings_installed) -> None:
    from al_core.context import resolve_model
    from al_core.errors import LabelStudioError
    from al_core.labelstudio.label_config import TEMPLATES, build_config

    unchosen = IterationSettings()
    assert unchosen.model is None and unchosen.model_by_classes is None
    two = resolve_model(unchosen, _project(build_config(["spam", "ham"])))
    assert (two.model, two.model_by_classes) == ("tfidf+minilm-logreg", 2)
    many = resolve_model(unchosen, _project(TEMPLATES["intent"]))
    assert (many.model, many.model_by_classes) == ("minilm-logreg", 15)
    chosen = IterationSettings(model="minilm-logreg")
    assert resolve_model(chosen, _project(build_config(["spam", "ham"]))) is chosen, "a choice always wins"
    assert resolve_model(unchosen, LabelStudioError("down")) is unchosen, "the run fails with that error"
    assert resolve_model(unchosen, _project("<View>")) is unchosen, "the run refuses the config itself"
    assert two.to_json()["model_by_classes"] == 2 and IterationSettings.from_json(two.to_json()) == two


def test_the_classes_counted_are_those_of_the_choices_learned(embeddings_installed) -> None:
    from al_core.context import resolve_model
    from tests.conftest import TOPIC_AND_SUBTOPIC

    topic = resolve_model(IterationSettings(control="topic"), _project(TOPIC_AND_SUBTOPIC))
    subtopic = resolve_model(IterationSettings(control="subtopic"), _project(TOPIC_AND_SUBTOPIC))
    assert (topic.model, topic.model_by_classes) == ("tfidf+minilm-logreg", 2)
    assert (subtopic.model, subtopic.model_by_classes) == ("minilm-logreg", 3)


def test_al_model_is_a_choice_and_auto_is_the_rule(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from al_core.context import MODEL_BY_CLASSES, model_choice, model_label, model_setting, model_text

    monkeypatch.setenv("AL_MODEL", "tfidf-cnb")
    assert IterationSettings().model == "tfidf-cnb" == default_of("model")
    assert IterationSettings(model=model_setting(MODEL_BY_CLASSES)).model is None, "auto: by classes, not AL_MODEL"
    assert IterationSettings.from_json({"model": None}).model is None, "a stored auto stays auto"
    assert IterationSettings.from_json({"strategy": "margin"}).model == "tfidf-cnb", "nothing stored: the default"
    assert (model_setting("auto"), model_setting(None), model_setting("tfidf-svm")) == (None, None, "tfidf-svm")
    assert (model_choice(None), model_choice("tfidf-svm")) == ("auto", "tfidf-svm")
    assert model_label("auto") == "auto (by the number of classes)" and model_label("tfidf-svm") == "tfidf-svm"
    assert model_text("tfidf+minilm-logreg", 2) == "tfidf+minilm-logreg (the default for 2 classes)"
    assert model_text("minilm-logreg", None) == "minilm-logreg"
    args = _parser().parse_args(["iterate", "--project", "1", "--model", "auto"])
    assert args.model == "auto"
    with pytest.raises(SystemExit):
        _parser().parse_args(["iterate", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "else auto: by the project's number of classes: tfidf+minilm-logreg up to 2 classes, minilm-logreg" in shown


def test_parameters_without_a_model_and_scoring_before_the_choice_are_refused(monkeypatch) -> None:
    monkeypatch.delenv("AL_MODEL", raising=False)
    with pytest.raises(ConfigError, match=r"Model parameters \['C'\] need a model: choose one"):
        IterationSettings(model_params={"C": 1.0})
    with pytest.raises(ConfigError, match="No model yet: it is chosen by the number of classes"):
        IterationSettings().scoring  # noqa: B018
    assert IterationSettings().for_classes(3).scoring.model in models.MODELS
