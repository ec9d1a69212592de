"""What one iteration is given: its settings (with every default in one place) and its run context.

``IterationSettings`` is the one record of an iteration's choices; the CLI's flags, the webhook receiver
and the pages take their defaults from it (``default_of``). ``RunContext`` is built once per run by
``run_iteration``: the clients, the project as read once, the settings, the step timer and whether the run
is forced (a per-run choice, not a setting: a stored ``force`` would make every automatic run a re-run).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

from al_core.compute.engine import check_scheduler
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.records import Project
from al_core.learning import models, strategies
from al_core.learning.scoring import ScoringSettings
from al_core.progress import StepTimer
from al_core.store.history import History
from al_core.validation import check_int


@dataclass(frozen=True)
class IterationSettings:
    """What one iteration does; every field has a sensible default."""

    model: str = field(default_factory=models.default_model)
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
        models.resolve_params(self.model, self.model_params)
        check_int("upload_top", self.upload_top, 0)
        check_int("eval_size", self.eval_size, 0, allow_none=True)
        check_int("eval_every", self.eval_every, 1)
        check_int("keep_versions", self.keep_versions, 1)
        check_int("random_state", self.random_state, 0)
        object.__setattr__(self, "dask_scheduler", check_scheduler(self.dask_scheduler))

    @property
    def scoring(self) -> ScoringSettings:
        return ScoringSettings(self.model, self.model_params, self.strategy, self.diversity, self.random_state)

    def to_json(self) -> dict[str, Any]:
        """What the history stores with the iteration (and the receiver reads back with ``from_json``)."""
        return asdict(self)

    @classmethod
    def from_json(cls, stored: Mapping[str, Any] | None, **chosen: Any) -> IterationSettings:
        """Settings from a stored dict (unknown keys ignored, missing ones defaulted), ``chosen`` on top."""
        known = {f.name for f in fields(cls)}
        return cls(**{**{k: v for k, v in (stored or {}).items() if k in known}, **chosen})


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
