"""Label Studio's failures as our errors, message-exact, without a server (the gateway's integration tests
check the same translation against the real one)."""

from __future__ import annotations

import httpx
import pytest
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
from al_core.labelstudio.gateway_errors import error_detail, from_status, label_config_errors, translate

URL = "http://ls.test:8080"


def test_a_refused_key_says_what_to_do():
    err = from_status(401, {"detail": "Invalid token."}, URL, "reading project 3")
    assert type(err) is AuthenticationFailed
    assert str(err) == (
        "Label Studio at http://ls.test:8080 refused the API key (401: Invalid token.) while reading project 3. "
        "The key is wrong, or was reset or revoked since it worked. Copy a valid key from Label Studio: Account & "
        "Settings > Legacy Token or Personal Access Token, and connect again with it."
    )
    assert type(from_status(403, "forbidden", URL, "x")) is AuthenticationFailed


@pytest.mark.parametrize(
    ("status", "body", "kind", "message"),
    [
        (
            404,
            {"detail": "No Project matches the given query."},
            NotFound,
            "Not found while reading project 9 (No Project matches the given query.). "
            "Check the project id or pick another project.",
        ),
        (502, "<html>Bad Gateway</html>", ServerError, f"Label Studio at {URL} failed with 502 while reading "
         "project 9: an error page (Bad Gateway); its cause is in the server's log"),
        (409, {"detail": "Conflict"}, LabelStudioError, "Label Studio answered 409 while reading project 9: Conflict"),
        (
            400,
            {"validation_errors": {"label_config": ['toName="nope" not found', "no Choice"]}},
            LabelConfigError,
            'Label Studio rejected the labeling config: toName="nope" not found; no Choice',
        ),
        (
            400,
            {"detail": "Validation error", "validation_errors": {"title": ["too long"]}},
            LabelStudioError,
            "Label Studio answered 400 while reading project 9: {'title': ['too long']}",
        ),
    ],
)  # fmt: skip
def test_each_status_becomes_its_error(status, body, kind, message):
    err = from_status(status, body, URL, "reading project 9")
    assert type(err) is kind
    assert str(err) == message


def test_transport_failures_and_sdk_errors_are_translated():
    request = httpx.Request("GET", URL)
    timeout = translate(httpx.ReadTimeout("slow", request=request), URL, "listing tasks")
    assert type(timeout) is RequestTimeout
    assert str(timeout) == f"Label Studio at {URL} did not answer in time while listing tasks. Try again."
    refused = translate(httpx.ConnectError("refused", request=request), URL, "checking the API key")
    assert type(refused) is ConnectionFailed
    assert str(refused) == (
        f"Cannot reach Label Studio at {URL} while checking the API key (ConnectError). Check the URL and that the "
        "server is running (`make run` starts one on 127.0.0.1:8080)."
    )
    api = translate(ApiError(status_code=404, body={"detail": "gone"}), URL, "reading task 5")
    assert type(api) is NotFound and "while reading task 5 (gone)" in str(api)
    unknown = translate(ApiError(status_code=None, body=None), URL, "reading task 5")
    assert str(unknown) == "Label Studio answered 0 while reading task 5: None"


def test_our_own_errors_pass_through_and_anything_else_is_named():
    ours = NotFound("already translated")
    assert translate(ours, URL, "x") is ours
    other = translate(KeyError("id"), URL, "reading the export")
    assert type(other) is LabelStudioError
    assert str(other) == "Unexpected failure while reading the export: KeyError: 'id'"


def test_the_detail_is_cut_at_500_characters():
    assert error_detail("x" * 600) == "x" * 500
    assert error_detail({"detail": "y" * 600}) == "y" * 500
    assert error_detail({"other": 1}) == "{'other': 1}"


def test_label_config_errors_from_either_place_in_the_body():
    assert label_config_errors({"label_config": "bad tag"}) == "bad tag"
    assert label_config_errors({"validation_errors": {"label_config": ["a", "b"]}}) == "a; b"
    assert label_config_errors({"validation_errors": {"title": ["x"]}}) is None
    assert label_config_errors("not a dict") is None


def test_an_html_error_page_is_named_by_its_title_not_pasted():
    page = "\n<!DOCTYPE html>\n<html lang='en'><head><title>500 | Label Studio</title></head><body>Heidi's down</body></html>"
    assert error_detail(page) == "an error page (500 | Label Studio); its cause is in the server's log"
    assert error_detail("<html><body>x  y</body></html>") == "an error page (x y); its cause is in the server's log"
    err = from_status(500, page, URL, "uploading predictions")
    assert isinstance(err, ServerError) and "\n" not in str(err)
