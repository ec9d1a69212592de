"""The exception hierarchy: one base class for everything raised on purpose, and the matching built-ins so
callers that know only Python's exceptions still catch ours."""

from __future__ import annotations

import inspect

import pytest

from al_core import errors
from al_core.errors import (
    ALError,
    AuthenticationFailed,
    ComputeError,
    ConfigError,
    ConnectionFailed,
    HistoryUnavailable,
    IterationLocked,
    LabelConfigError,
    LabelStudioError,
    NotEnoughData,
    NotFound,
    RequestTimeout,
    ServerError,
    UploadError,
)


@pytest.mark.parametrize(
    ("error", "bases"),
    [
        (ConfigError, (ALError, ValueError)),
        (LabelConfigError, (ConfigError,)),
        (UploadError, (ConfigError,)),
        (LabelStudioError, (ALError,)),
        (ConnectionFailed, (LabelStudioError, ConnectionError)),
        (RequestTimeout, (LabelStudioError, TimeoutError)),
        (AuthenticationFailed, (LabelStudioError, PermissionError)),
        (NotFound, (LabelStudioError, LookupError)),
        (ServerError, (LabelStudioError,)),
        (NotEnoughData, (ALError, ValueError)),
        (IterationLocked, (ALError, RuntimeError)),
        (HistoryUnavailable, (ALError, RuntimeError)),
        (ComputeError, (ALError, RuntimeError)),
    ],
)
def test_each_error_has_its_place_in_the_tree(error, bases):
    assert error.__bases__ == bases


def test_every_error_of_the_module_is_an_alerror_with_a_docstring():
    found = [cls for _, cls in inspect.getmembers(errors, inspect.isclass) if cls.__module__ == errors.__name__]
    assert {ALError, ConfigError, LabelStudioError, NotEnoughData} <= set(found)
    for cls in found:
        assert issubclass(cls, ALError) and cls.__doc__


def test_the_built_ins_catch_ours_and_the_message_is_kept():
    with pytest.raises(ValueError, match=r"^Got 0 instead\.$"):
        raise UploadError("Got 0 instead.")
    with pytest.raises(LookupError):
        raise NotFound("no project 9")
    with pytest.raises(ALError):
        raise RequestTimeout("slow")
    assert not issubclass(LabelStudioError, ValueError)  # a server failure is not the user's input
