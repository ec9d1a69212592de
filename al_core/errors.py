"""One small exception hierarchy. Every message says what went wrong, the values involved and the fix.

Pages, the CLI and the webhook receiver catch ``ALError`` and show ``str(err)``; anything else is a bug.
"""

from __future__ import annotations


class ALError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(ALError, ValueError):
    """Bad settings or input from the user (label config, upload, parameters)."""


class LabelConfigError(ConfigError):
    """The labeling config cannot be used for text classification."""


class UploadError(ConfigError):
    """An uploaded file cannot be turned into tasks."""


class LabelStudioError(ALError):
    """Talking to Label Studio failed."""


class ConnectionFailed(LabelStudioError, ConnectionError):
    """The Label Studio URL cannot be reached."""


class RequestTimeout(LabelStudioError, TimeoutError):
    """Label Studio did not answer in time."""


class AuthenticationFailed(LabelStudioError, PermissionError):
    """The API key was refused (401/403)."""


class NotFound(LabelStudioError, LookupError):
    """A project, task or version does not exist (404)."""


class ServerError(LabelStudioError):
    """Label Studio answered with an error we cannot fix by retrying."""


class NotEnoughData(ALError, ValueError):
    """Not enough labels or tasks for what was asked."""


class IterationLocked(ALError, RuntimeError):
    """Another iteration is already running on this project."""


class HistoryUnavailable(ALError, RuntimeError):
    """The history database cannot be read or written."""


class ComputeError(ALError, RuntimeError):
    """The Dask cluster that embeds and scores the pool failed (scheduler unreachable or lost, workers lost)."""
