"""Registry of cheap text classifiers (TF-IDF + a linear model), fitting, prediction and persistence.

Beside it: ``model_params`` (what each parameter means and its check) and ``calibrated_svc`` (the SVM
with calibrated probabilities behind ``tfidf-svm``).

Every model is a scikit-learn ``Pipeline`` (``tfidf`` -> ``clf``). Fitting and prediction run inside
``threadpool_limits(1)``: on the 2-core machines we deploy to, a small LogisticRegression fit took 2.1 s
with two OpenMP threads and 0.1 s with one.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import MultiLabelBinarizer
from threadpoolctl import threadpool_limits

from al_core.errors import ConfigError, NotEnoughData
from al_core.learning import embeddings
from al_core.learning.calibrated_svc import CalibratedLinearSVC
from al_core.learning.model_params import PARAM_DOCS, check_param
from al_core.validation import check_int

Labels = Sequence[str] | Sequence[tuple[str, ...]]
_FILE_FORMAT = "al_core.models/1"  # a file format tag, not a module path: kept so older artifacts load


@dataclass(frozen=True)
class ModelSpec:
    """A model choice: its name, a one-line description, default parameters and their documentation."""

    name: str
    description: str
    defaults: Mapping[str, Any]
    param_docs: Mapping[str, str]


def _spec(name: str, description: str, defaults: dict[str, Any]) -> ModelSpec:
    docs = {key: PARAM_DOCS[key] for key in defaults}
    return ModelSpec(name, description, MappingProxyType(defaults), MappingProxyType(docs))


_TFIDF = {"ngram_max": 2, "max_features": None}
# C=10 (not scikit-learn's 1.0): on the CLINC150 banking sample, C=1 reached 36% accuracy with 30 labels
# and 71% with 150, C=10 reached 58% and 86%; with 1,500 labels both are within a point.
MODELS: Mapping[str, ModelSpec] = MappingProxyType(
    {
        "tfidf-logreg": _spec(
            "tfidf-logreg",
            "TF-IDF + logistic regression: well-calibrated probabilities, a solid default.",
            {"C": 10.0, "class_weight": None} | _TFIDF,
        ),
        "tfidf-svm": _spec(
            "tfidf-svm",
            "TF-IDF + linear SVM with sigmoid calibration: often the most accurate on short texts.",
            {"C": 1.0, "class_weight": None} | _TFIDF,
        ),
        "tfidf-cnb": _spec(
            "tfidf-cnb",
            "TF-IDF + complement naive Bayes: the fastest to fit, good with very few labels.",
            {"alpha": 1.0} | _TFIDF,
        ),
        "minilm-logreg": _spec(
            "minilm-logreg",
            "Sentence embeddings (MiniLM) + logistic regression: knows synonyms, strong with few labels.",
            {"C": 10.0, "class_weight": None, "encoder": embeddings.DEFAULT_ENCODER},
        ),
        "tfidf+minilm-logreg": _spec(
            "tfidf+minilm-logreg",
            "TF-IDF and sentence embeddings side by side + logistic regression: words and meaning.",
            {"C": 10.0, "class_weight": None, "encoder": embeddings.DEFAULT_ENCODER} | _TFIDF,
        ),
    }
)
DEFAULT_MODEL = "tfidf-logreg"  # needs no extra: the fallback, and the default of the pure functions
# The model that gave the most accuracy per label in bench.label_efficiency (bench/README.md); the default
# of iterations, the CLI and the pages whenever the embedding extra is installed and the project has more
# than FEW_CLASSES classes.
BEST_MODEL = "minilm-logreg"
# Up to FEW_CLASSES classes the default is FEW_CLASSES_MODEL: over 15 kinds of data (bench/README.md, issue #16)
# "TF-IDF+MiniLM up to 2 classes, MiniLM above" had the highest mean gain and no dataset below random, where
# MiniLM alone was below random on a two-intent set (its own ceiling there: 0.993 against TF-IDF's 1.000).
FEW_CLASSES = 2
FEW_CLASSES_MODEL = "tfidf+minilm-logreg"
# A representation is what a model sees of a text; the simulation and the pages offer these by name.
REPRESENTATIONS: Mapping[str, str] = MappingProxyType(
    {"tfidf": "tfidf-logreg", "minilm": "minilm-logreg", "tfidf+minilm": "tfidf+minilm-logreg"}
)


def uses_embeddings(name: str) -> bool:
    """Whether model ``name`` needs the sentence-embedding extra."""
    return "encoder" in check_model_name(name).defaults


def env_model() -> str | None:
    """The model named by ``AL_MODEL`` (an operator's choice for every iteration that chooses none), else None.
    Raises ConfigError when ``AL_MODEL`` names no model."""
    chosen = os.environ.get("AL_MODEL", "").strip()
    if chosen:
        check_model_name(chosen)
        return chosen
    return None


def model_for_classes(n_classes: int | None) -> str:
    """The model for a project with ``n_classes`` classes when nobody chose one (None: not known yet):
    ``FEW_CLASSES_MODEL`` up to ``FEW_CLASSES`` classes, else ``BEST_MODEL``; ``DEFAULT_MODEL`` without the
    embedding extra (both others embed texts)."""
    if embeddings.unavailable_reason() is not None:
        return DEFAULT_MODEL
    return FEW_CLASSES_MODEL if n_classes is not None and n_classes <= FEW_CLASSES else BEST_MODEL


def default_model(n_classes: int | None = None) -> str:
    """The model used when none is chosen: ``AL_MODEL`` if set, else ``model_for_classes(n_classes)``.
    Raises ConfigError when ``AL_MODEL`` names no model."""
    return env_model() or model_for_classes(n_classes)


def available_models() -> list[str]:
    """Model names that can run here (the embedding models only with the embedding extra installed)."""
    ok = embeddings.unavailable_reason() is None
    return [name for name in MODELS if ok or not uses_embeddings(name)]


def check_model_name(name: str) -> ModelSpec:
    """Return the spec of model ``name``; raise ConfigError listing the valid names otherwise."""
    if name not in MODELS:
        raise ConfigError(f"The 'model' parameter must be one of {list(MODELS)}. Got {name!r} instead.")
    return MODELS[name]


def resolve_params(name: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Defaults of model ``name`` updated with ``params``, validated. Raises ConfigError on a bad value."""
    spec = check_model_name(name)
    unknown = sorted(set(params or {}) - set(spec.defaults))
    if unknown:
        raise ConfigError(
            f"Unknown parameter(s) {unknown} for model {name!r}. Valid parameters: {sorted(spec.defaults)}."
        )
    merged = dict(spec.defaults) | dict(params or {})
    return {key: check_param(key, value) for key, value in merged.items()}


def _vectorizer(params: Mapping[str, Any]) -> TfidfVectorizer:
    return TfidfVectorizer(
        sublinear_tf=True, ngram_range=(1, params["ngram_max"]), min_df=1, max_features=params["max_features"]
    )


def _features(name: str, params: Mapping[str, Any]) -> tuple[str, BaseEstimator]:
    """The pipeline's first step: TF-IDF, sentence embeddings, or both side by side."""
    if not uses_embeddings(name):
        return "tfidf", _vectorizer(params)
    _require_embeddings(name)
    embed = embeddings.SentenceEmbedder(params["encoder"])
    if "ngram_max" not in params:
        return "embed", embed
    return "union", FeatureUnion([("tfidf", _vectorizer(params)), ("embed", embed)])


def _require_embeddings(name: str) -> None:
    reason = embeddings.unavailable_reason()
    if reason:
        raise ConfigError(f"Model {name!r} needs sentence embeddings. {reason}")


def _classifier(name: str, params: Mapping[str, Any], random_state: int) -> BaseEstimator:
    if name.endswith("-logreg"):
        return LogisticRegression(
            C=params["C"], class_weight=params["class_weight"], max_iter=1000, random_state=random_state
        )
    if name == "tfidf-svm":
        return CalibratedLinearSVC(C=params["C"], class_weight=params["class_weight"], random_state=random_state)
    return ComplementNB(alpha=params["alpha"])


@contextmanager
def _words_needed(message: str) -> Iterator[None]:
    """Translate scikit-learn's "empty vocabulary" ValueError into NotEnoughData with ``message``."""
    try:
        yield
    except ValueError as err:
        if "empty vocabulary" not in str(err):
            raise
        raise NotEnoughData(message) from err


def _check_texts(texts: Sequence[str]) -> list[str]:
    texts = list(texts)
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise ConfigError(
                f"Every text must be a str; text {index} is {type(text).__name__} ({text!r}). "
                "Drop or fill empty rows first."
            )
    return texts


def labels_from_proba(
    proba: np.ndarray, classes: Sequence[str], multi_label: bool
) -> list[str] | list[tuple[str, ...]]:
    """The predicted label of each row of ``proba`` (columns in ``classes`` order): the most likely class; for
    multi-label, every label with p >= 0.5 and at least the most likely one, as a tuple in ``classes`` order."""
    if not len(proba):
        return []
    if not multi_label:
        return [classes[i] for i in np.argmax(proba, axis=1)]
    chosen = proba >= 0.5
    chosen[np.arange(proba.shape[0]), np.argmax(proba, axis=1)] = True
    return [tuple(c for c, keep in zip(classes, row, strict=True) if keep) for row in chosen]


@dataclass
class FittedModel:
    """A fitted pipeline and what it was fitted with. ``classes`` are sorted; proba columns follow them."""

    name: str
    params: dict[str, Any]
    classes: tuple[str, ...]
    multi_label: bool
    pipeline: Pipeline
    sklearn_version: str = field(default=sklearn.__version__)

    def predict_proba(self, texts: Sequence[str], chunk_size: int = 2000) -> np.ndarray:
        """Probabilities, float32 of shape (n_texts, n_classes), columns in ``classes`` order.

        Single-label rows sum to 1; multi-label columns are independent per-label probabilities.
        Texts are processed ``chunk_size`` at a time to bound memory. Raises ConfigError on bad input.
        """
        texts = _check_texts(texts)
        check_int("chunk_size", chunk_size, 1)
        parts = [np.zeros((0, len(self.classes)), dtype=np.float32)]
        with threadpool_limits(1):
            for start in range(0, len(texts), chunk_size):
                proba = self.pipeline.predict_proba(texts[start : start + chunk_size])
                parts.append(np.asarray(proba, dtype=np.float32).reshape(-1, len(self.classes)))
        return np.vstack(parts)

    def predict(self, texts: Sequence[str]) -> list[str] | list[tuple[str, ...]]:
        """Predicted label per text (``labels_from_proba``)."""
        return labels_from_proba(self.predict_proba(texts), self.classes, self.multi_label)

    def features(self, texts: Sequence[str]):
        """What batch diversity compares: the sentence vectors of ``texts`` when the model embeds them,
        else their TF-IDF matrix under this model's vocabulary."""
        steps = self.pipeline.named_steps
        step = steps.get("embed") or (steps["union"].named_transformers["embed"] if "union" in steps else None)
        with threadpool_limits(1):
            return (step or steps["tfidf"]).transform(_check_texts(texts))


def _check_labels(texts: list[str], labels: Labels, multi_label: bool) -> tuple[list, tuple[str, ...]]:
    labels = list(labels)
    if len(labels) != len(texts):
        raise ConfigError(f"Got {len(texts)} texts but {len(labels)} labels; they must match one to one.")
    if multi_label:
        labels = [tuple(item) if isinstance(item, (tuple, list, set, frozenset)) else (item,) for item in labels]
        classes = tuple(sorted({label for item in labels for label in item}))
    else:
        classes = tuple(sorted(set(labels)))
    if len(classes) < 2:
        raise NotEnoughData(
            f"Training needs at least 2 distinct labels; got {len(classes)} ({list(classes)}) "
            f"across {len(texts)} labeled tasks. Label some tasks with another class first."
        )
    return labels, classes


def fit_model(
    name: str,
    texts: Sequence[str],
    labels: Labels,
    *,
    params: Mapping[str, Any] | None = None,
    multi_label: bool = False,
    random_state: int = 0,
) -> FittedModel:
    """Fit model ``name`` on ``texts`` and their ``labels`` (str each, or tuples of str for multi-label).

    Multi-label uses a MultiLabelBinarizer and one binary classifier per label (OneVsRest).
    Returns a FittedModel. Raises ConfigError for an unknown model, bad parameters or mismatched inputs;
    NotEnoughData when there are fewer than 2 distinct labels or the texts hold no words.
    """
    resolved = resolve_params(name, params)
    texts = _check_texts(texts)
    labels, classes = _check_labels(texts, labels, multi_label)
    clf = _classifier(name, resolved, random_state)
    if multi_label:
        clf = OneVsRestClassifier(clf)
        target = MultiLabelBinarizer(classes=classes).fit_transform(labels)
    else:
        target = np.asarray(labels, dtype=object)
    pipeline = Pipeline([_features(name, resolved), ("clf", clf)])
    with _words_needed(f"The {len(texts)} training texts contain no words to learn from."), threadpool_limits(1):
        pipeline.fit(texts, target)
    return FittedModel(name=name, params=resolved, classes=classes, multi_label=multi_label, pipeline=pipeline)


def save_model(model: FittedModel, path: str | Path) -> Path:
    """Write ``model`` to ``path`` with joblib (parent folders are created). Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump({"format": _FILE_FORMAT, "model": model}, path)
    return path


# Where the classes of a saved model lived before al_core was split into packages: files saved then name them.
_EARLIER_MODULES = {"al_core.models": "al_core.learning.models", "al_core.embeddings": "al_core.learning.embeddings"}


@contextmanager
def _modules_of_earlier_versions() -> Iterator[None]:
    """While unpickling, let the module paths of earlier versions name today's modules (only those not taken)."""
    added = [old for old in _EARLIER_MODULES if old not in sys.modules]
    for old in added:
        sys.modules[old] = importlib.import_module(_EARLIER_MODULES[old])
    try:
        yield
    finally:
        for old in added:
            sys.modules.pop(old, None)


def load_model(path: str | Path) -> FittedModel:
    """Read a model written by ``save_model``. Only load files this app wrote: joblib files can run code.

    Raises ConfigError when the file is missing or is not a saved model.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"No model file at {str(path)!r}. Train a model first.")
    with _modules_of_earlier_versions():
        payload = joblib.load(path)
    if not isinstance(payload, dict) or payload.get("format") != _FILE_FORMAT:
        raise ConfigError(f"{str(path)!r} is not a model saved by this app (expected format {_FILE_FORMAT!r}).")
    return payload["model"]


def vectorize_for_diversity(texts: Sequence[str], random_state: int = 0, model: str = DEFAULT_MODEL):
    """Features for a cold start before any model exists: the sentence vectors when ``model`` embeds
    texts, else a TF-IDF matrix fitted on ``texts`` (unigrams and bigrams).

    ``random_state`` is accepted for a uniform interface; both are deterministic.
    Raises NotEnoughData when the texts hold no words, ConfigError when embeddings are unavailable.
    """
    del random_state
    texts = _check_texts(texts)
    if uses_embeddings(model):
        _require_embeddings(model)
        return embeddings.get_encoder(resolve_params(model)["encoder"]).encode(texts)
    with _words_needed(f"The {len(texts)} texts contain no words to compare."):
        return _vectorizer({"ngram_max": 2, "max_features": None}).fit_transform(texts)
