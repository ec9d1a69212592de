"""Step timing and progress reporting shared by the iteration's steps."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Progress = Callable[[str, float, str], None]  # (step, fraction of the step done, message)
# An iteration's steps in the order they run ("embed" only for models that embed texts).
STEPS = ("read", "labels", "embed", "train", "evaluate", "score", "strategy", "upload", "switch", "record")


class StepTimer:
    """Times named steps (seconds, summed when a step repeats) and forwards progress to a callback."""

    def __init__(self, on_progress: Progress | None = None) -> None:
        self.timings: dict[str, float] = {}
        self._on_progress = on_progress

    @contextmanager
    def step(self, name: str, message: str) -> Iterator[None]:
        self.report(name, 0.0, message)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - start, 4)
        self.report(name, 1.0, message)

    def report(self, name: str, fraction: float, message: str) -> None:
        if self._on_progress:
            self._on_progress(name, min(max(fraction, 0.0), 1.0), message)
