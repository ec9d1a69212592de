"""The gateway's failures as our errors: a Label Studio answer or an HTTP failure -> ``LabelStudioError``.

Pure functions of the failure, the server's URL and what the gateway was doing, so every message is tested
without a server. ``what`` is a phrase such as ``"reading project 3"``; it lands after "while".
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from label_studio_sdk.core.api_error import ApiError

from al_core.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    LabelConfigError,
    LabelStudioError,
    NotFound,
    RequestTimeout,
    ServerError,
)


def translate(err: Exception, url: str, what: str) -> LabelStudioError:
    """Our error for ``err`` (an SDK ``ApiError``, an httpx failure, or already ours) met while ``what``."""
    if isinstance(err, LabelStudioError):
        return err
    if isinstance(err, httpx.TimeoutException):
        return RequestTimeout(f"Label Studio at {url} did not answer in time while {what}. Try again.")
    if isinstance(err, httpx.TransportError):
        return ConnectionFailed(
            f"Cannot reach Label Studio at {url} while {what} ({type(err).__name__}). "
            "Check the URL and that the server is running (`make run` starts one on 127.0.0.1:8080)."
        )
    if isinstance(err, ApiError):
        return from_status(err.status_code or 0, err.body, url, what)
    return LabelStudioError(f"Unexpected failure while {what}: {type(err).__name__}: {err}")


def from_status(status: int, body: Any, url: str, what: str) -> LabelStudioError:
    """Our error for an HTTP error ``status`` with the decoded response ``body`` (a dict, or text)."""
    detail = error_detail(body)
    if status in (401, 403):
        return AuthenticationFailed(
            f"Label Studio at {url} refused the API key ({status}: {detail}) while {what}. The key is "
            "wrong, or was reset or revoked since it worked. Copy a valid key from Label Studio: Account & "
            "Settings > Legacy Token or Personal Access Token, and connect again with it."
        )
    if status == 404:
        return NotFound(f"Not found while {what} ({detail}). Check the project id or pick another project.")
    if status >= 500:
        return ServerError(f"Label Studio at {url} failed with {status} while {what}: {detail}")
    config_errors = label_config_errors(body) if status == 400 else None
    if config_errors:
        return LabelConfigError(f"Label Studio rejected the labeling config: {config_errors}")
    return LabelStudioError(f"Label Studio answered {status} while {what}: {detail}")


def error_detail(body: Any) -> str:
    """The useful part of an error body (``detail``, else ``validation_errors``), at most 500 characters."""
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("validation_errors") or body
        if isinstance(body.get("validation_errors"), dict) and detail == "Validation error":
            detail = body["validation_errors"]
        return str(detail)[:500]
    text = str(body)
    if text.lstrip().lower().startswith(("<!doctype html", "<html")):  # Label Studio's 500 page says nothing useful
        title = re.search(r"<title>([^<]*)</title>", text, re.IGNORECASE)
        words = " ".join((title.group(1) if title else re.sub(r"<[^>]*>", " ", text)).split())[:100]
        return f"an error page ({words or 'empty'}); its cause is in the server's log"
    return text[:500]


def label_config_errors(body: Any) -> str | None:
    """Label Studio's own complaints about a labeling config in a 400 body, joined by '; ' (None if none)."""
    if not isinstance(body, dict):
        return None
    errors = (body.get("validation_errors") or {}).get("label_config") or body.get("label_config")
    if not errors:
        return None
    return "; ".join(map(str, errors)) if isinstance(errors, list) else str(errors)


def response_body(resp: httpx.Response) -> Any:
    """An error response's body: its JSON, else the first 500 characters of its text."""
    try:
        return resp.json()
    except ValueError:
        return resp.text[:500]
