"""What one iteration is given: its settings (with every default in one place) and its run context.

``IterationSettings`` is the one record of an iteration's choices; the CLI's flags, the webhook receiver
and the pages take their defaults from it (``default_of``). A model nobody chose (``model=None``, offered as
``MODEL_BY_CLASSES``) is chosen by the number of classes once the project's label config is read
(``resolve_model``), and the settings then say so (``model_by_classes``). ``RunContext`` is built once per run by
``run_iteration``: the clients, the project as read once, the settings, the step timer and whether the run
is forced (a per-run choice, not a setting: a stored ``force`` would make every automatic run a re-run).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from typing import Any

from al_core.compute.engine import check_scheduler
from al_core.errors import AuthenticationFailed, ConfigError, LabelConfigError, LabelStudioError, NotFound
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import parse_label_config
from al_core.labelstudio.records import Project
from al_core.learning import models, strategies
from al_core.learning.scoring import ScoringSettings
from al_core.progress import StepTimer
from al_core.store.history import History
from al_core.validation import check_int

# What the CLI (``--model auto``), the pages and ``automation`` call "no model chosen": the model then follows the
# number of classes (``models.model_for_classes``). Stored and passed as ``model=None``, never as this name.
MODEL_BY_CLASSES = "auto"
MODEL_RULE = (
    f"by the project's number of classes: {models.FEW_CLASSES_MODEL} up to {models.FEW_CLASSES} classes, "
    f"{models.BEST_MODEL} above ({models.DEFAULT_MODEL} without the sentence-embedding extra)"
)


@dataclass(frozen=True)
class IterationSettings:
    """What one iteration does; every field has a sensible default."""

    model: str | None = field(default_factory=models.env_model)  # None: by the number of classes (resolve_model)
    model_by_classes: int | None = None  # set by for_classes: the classes an unchosen model was chosen for
    model_params: dict[str, Any] = field(default_factory=dict)
    strategy: str = strategies.DEFAULT_STRATEGY
    diversity: bool = True  # margin + diversity measured best with sentence embeddings (bench/README.md)
    upload_top: int = 1000  # 0 = a prediction for every unlabeled task
    eval_size: int | None = None  # None = about 10%, capped at 300
    eval_every: int = 5  # one evaluation task in every five served
    keep_versions: int = 3  # the last N succeeded versions keep their predictions (rollback targets)
    random_state: int = 0
    control: str | None = None
    trigger: str = "manual"
    dask_scheduler: str = (
        ""  # a Dask scheduler (tcp://HOST:PORT) that embeds and scores; "": AL_DASK_SCHEDULER, else here
    )

    def __post_init__(self) -> None:
        strategies.check_strategy(self.strategy)
        if self.model is not None:
            models.resolve_params(self.model, self.model_params)
        elif self.model_params:
            raise ConfigError(
                f"Model parameters {sorted(self.model_params)} need a model: choose one (e.g. --model "
                f"{models.BEST_MODEL}) or leave the parameters out."
            )
        check_int("model_by_classes", self.model_by_classes, 0, allow_none=True)
        check_int("upload_top", self.upload_top, 0)
        check_int("eval_size", self.eval_size, 0, allow_none=True)
        check_int("eval_every", self.eval_every, 1)
        check_int("keep_versions", self.keep_versions, 1)
        check_int("random_state", self.random_state, 0)
        object.__setattr__(self, "dask_scheduler", check_scheduler(self.dask_scheduler))

    @property
    def scoring(self) -> ScoringSettings:
        if self.model is None:
            raise ConfigError("No model yet: it is chosen by the number of classes (for_classes) before scoring.")
        return ScoringSettings(self.model, self.model_params, self.strategy, self.diversity, self.random_state)

    def for_classes(self, n_classes: int) -> IterationSettings:
        """These settings with a model: the one chosen, else ``models.model_for_classes(n_classes)`` (and
        ``model_by_classes=n_classes``, so the history and the outputs can say why)."""
        if self.model is not None:
            return self
        return replace(self, model=models.model_for_classes(n_classes), model_by_classes=n_classes)

    def to_json(self) -> dict[str, Any]:
        """What the history stores with the iteration (and the receiver reads back with ``from_json``)."""
        return asdict(self)

    @classmethod
    def from_json(cls, stored: Mapping[str, Any] | None, **chosen: Any) -> IterationSettings:
        """Settings from a stored dict (unknown keys ignored, missing ones defaulted), ``chosen`` on top."""
        known = {f.name for f in fields(cls)}
        return cls(**{**{k: v for k, v in (stored or {}).items() if k in known}, **chosen})


def read_project(gateway: Gateway, project_id: int) -> Project | LabelStudioError:
    """The project, read once per iteration. A wrong key or project raises here, before anything is recorded
    for a project one cannot see; a failing server is returned, for the recorded run to fail with."""
    try:
        return gateway.get_project(project_id)
    except (AuthenticationFailed, NotFound):
        raise
    except LabelStudioError as err:
        return err


def resolve_model(settings: IterationSettings, project: Project | Exception) -> IterationSettings:
    """``settings`` with a model for ``project``: an unchosen one by the number of classes of the ``<Choices>``
    it learns (``settings.control``). Unchanged when a model was chosen, or when the project could not be read
    or its config is refused (the run then fails with that error)."""
    if settings.model is not None or not isinstance(project, Project):
        return settings
    try:
        spec = parse_label_config(project.label_config, settings.control)
    except LabelConfigError:
        return settings
    return settings.for_classes(len(spec.labels))


def model_text(model: str | None, by_classes: int | None) -> str:
    """A model as the CLI and the pages name it, and why: ``tfidf+minilm-logreg (the default for 2 classes)``."""
    if model is None:
        return f"{MODEL_BY_CLASSES} (by the number of classes)"
    if by_classes is None:
        return model
    return f"{model} (the default for {by_classes} class{'' if by_classes == 1 else 'es'})"


def model_label(choice: str) -> str:
    """A choice as a page's model box shows it: ``auto (by the number of classes)``, or the model's name."""
    return model_text(model_setting(choice), None)


def model_choice(model: str | None) -> str:
    """A settings value as the CLI and the pages offer it: a model name, or ``MODEL_BY_CLASSES`` for None."""
    return model or MODEL_BY_CLASSES


def model_setting(choice: str | None) -> str | None:
    """What the CLI or a page chose, as the settings value: None for ``MODEL_BY_CLASSES`` (or nothing)."""
    return None if choice in (None, "", MODEL_BY_CLASSES) else choice


def model_choices() -> list[str]:
    """What the pages offer: ``MODEL_BY_CLASSES`` first, then every model that can run here."""
    return [MODEL_BY_CLASSES, *models.available_models()]


def default_of(name: str) -> Any:
    """The default of ``IterationSettings.<name>`` (what a flag or a form field shows when nothing is chosen)."""
    found = next(f for f in fields(IterationSettings) if f.name == name)
    return found.default_factory() if found.default is MISSING else found.default  # type: ignore[misc]


@dataclass(frozen=True)
class RunContext:
    """Everything one run needs besides its data, built once by ``run_iteration``."""

    gateway: Gateway
    history: History
    project: Project  # read once, before the run lock
    settings: IterationSettings
    timer: StepTimer
    heartbeat: Callable[[], None]  # keeps the run lock fresh between long steps
    force: bool = False  # run even when nothing changed since the last succeeded version

    @property
    def project_id(self) -> int:
        return self.project.id
