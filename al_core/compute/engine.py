"""Choose where the pool's embedding and scoring run, and run them there in chunks with progress per chunk.

In this process by default. With a scheduler address (the ``dask_scheduler`` setting of an iteration, else
``AL_DASK_SCHEDULER``), ``open_engine`` connects to that Dask cluster and the work goes there in chunks
(``dask_engine``). Both engines give the same vectors, probabilities and so the same queue order.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

import numpy as np

from al_core.errors import ConfigError
from al_core.learning.models import FittedModel

SCHEDULER_VARIABLE = "AL_DASK_SCHEDULER"
IN_PROCESS = "this process"
SCORE_CHUNK = 10_000  # texts scored per chunk (progress is reported after each)
_ADDRESS = re.compile(r"^(tcp|tls|ws|wss|ucx)://\[?[A-Za-z0-9.\-:]+\]?:\d{1,5}/?$")

Progress = Callable[[int, int], None]  # (items done, items in all)


def check_scheduler(address: str | None) -> str:
    """``address`` stripped when it is empty (no cluster) or a Dask scheduler address (``tcp://HOST:PORT``).

    Raises ConfigError otherwise, naming the expected form.
    """
    value = (address or "").strip()
    if value and not _ADDRESS.match(value):
        raise ConfigError(
            "The Dask scheduler must be an address like tcp://10.0.0.5:8786 (or empty to compute in this "
            f"process). Got {value!r} instead."
        )
    return value.rstrip("/")


def scheduler_address(chosen: str | None = None) -> str:
    """The scheduler to use: ``chosen`` (a setting), else ``AL_DASK_SCHEDULER``, else "" (this process).

    Raises ConfigError when the address is malformed."""
    return check_scheduler(chosen) or check_scheduler(os.environ.get(SCHEDULER_VARIABLE))


class Engine(Protocol):
    """Runs the pool's chunked work; ``where`` says where, for messages and the history."""

    @property
    def where(self) -> str: ...

    def fill(
        self, encoder: str, texts: Sequence[str], out: np.ndarray, rows: np.ndarray, *, on_progress: Progress | None
    ) -> None:
        """Write the vector of ``texts[i]`` (encoder ``encoder``) into ``out[rows[i]]`` (``Encoder.fill``)."""

    def predict_proba(
        self, model: FittedModel, texts: Sequence[str], *, on_progress: Progress | None = None
    ) -> np.ndarray:
        """``model.predict_proba(texts)``, computed in chunks."""


class InProcess:
    """The work in this process: the shared encoder (its memo) and the fitted model, chunk after chunk."""

    where = IN_PROCESS

    def fill(
        self, encoder: str, texts: Sequence[str], out: np.ndarray, rows: np.ndarray, *, on_progress: Progress | None
    ) -> None:
        from al_core.learning import embeddings

        embeddings.get_encoder(encoder).fill(texts, out, rows, on_progress=on_progress)

    def predict_proba(
        self, model: FittedModel, texts: Sequence[str], *, on_progress: Progress | None = None
    ) -> np.ndarray:
        parts = [np.zeros((0, len(model.classes)), dtype=np.float32)]
        for start in range(0, len(texts), SCORE_CHUNK):
            parts.append(model.predict_proba(texts[start : start + SCORE_CHUNK]))
            if on_progress:
                on_progress(min(start + SCORE_CHUNK, len(texts)), len(texts))
        return np.vstack(parts)


@contextmanager
def open_engine(scheduler: str = "") -> Iterator[Engine]:
    """The engine for ``scheduler`` (an address, or "" for this process), open for the ``with`` block.

    Raises ComputeError when the cluster cannot be reached or has no workers.
    """
    if not scheduler:
        yield InProcess()
        return
    from al_core.compute.dask_engine import DaskEngine  # Dask is imported only when a cluster is used

    with DaskEngine.connect(scheduler) as engine:
        yield engine
