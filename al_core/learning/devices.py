"""Where the sentence encoder runs: on a CUDA GPU when one is present, else on the CPU.

``AL_DEVICE=cpu`` or ``AL_DEVICE=cuda`` forces either. The variable is read where the encoder loads, so each
process (the app, the webhook receiver, every Dask worker) chooses for its own machine. A bad value, or
``cuda`` on a machine without a usable GPU, is refused with a one-line ``ConfigError``.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from al_core.errors import ConfigError

DEVICES = ("cpu", "cuda")
VARIABLE = "AL_DEVICE"


def requested_device(raw: str | None = None) -> str | None:
    """The device ``AL_DEVICE`` (or ``raw``) asks for: ``"cpu"``, ``"cuda"``, or None when unset (choose).

    Checked without importing PyTorch, so the CLI and the pages can refuse a typo at once.
    Raises ConfigError when the value is neither.
    """
    value = (os.environ.get(VARIABLE, "") if raw is None else raw).strip().lower()
    if not value:
        return None
    if value not in DEVICES:
        raise ConfigError(
            f"{VARIABLE} must be one of {list(DEVICES)} (or unset: a GPU when one is present). Got {value!r} instead."
        )
    return value


def choose_device(requested: str | None, cuda_available: bool) -> str:
    """``requested`` when it can run here, else the best device: ``"cuda"`` when ``cuda_available``, else ``"cpu"``.

    Raises ConfigError when ``cuda`` is requested and no GPU is available.
    """
    if requested == "cuda" and not cuda_available:
        raise ConfigError(
            f"{VARIABLE}=cuda, but PyTorch sees no CUDA GPU on this machine. "
            f"Set {VARIABLE}=cpu, or unset it to use a GPU only when one is present."
        )
    if requested is not None:
        return requested
    return "cuda" if cuda_available else "cpu"


def encoder_device(cuda_available: Callable[[], bool] | None = None) -> str:
    """The device this process's encoder loads on (``AL_DEVICE``, else a GPU when present, else the CPU).

    ``cuda_available`` defaults to ``torch.cuda.is_available`` (PyTorch is imported: call it where the
    network loads). Raises ConfigError as ``requested_device`` and ``choose_device`` do.
    """
    requested = requested_device()
    if cuda_available is None:
        import torch

        cuda_available = torch.cuda.is_available
    if requested == "cpu":  # no need to ask the driver
        return "cpu"
    return choose_device(requested, bool(cuda_available()))
