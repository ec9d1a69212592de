"""Real webhooks: the real Label Studio delivers annotation webhooks to the receiver (a subprocess of
``python -m al_core serve-webhooks``) on loopback; the receiver reaches Label Studio through a fault proxy, so
the server it serves (and keeps its history for) is the one at the proxy's URL."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from al_core.lab.sample import SAMPLE_TEMPLATE, GoldAnnotator, sample_gold
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import TEMPLATES
from al_core.settings import db_url, server_slug
from al_core.store.history import History
from tests.conftest import create_small_sample_project, free_port, start_service
from tests.faultproxy import FaultProxy

SECRET = "test-webhook-secret-3f9a"


@pytest.fixture(scope="module")
def proxy(label_studio) -> Iterator[FaultProxy]:
    p = FaultProxy(label_studio.url)
    yield p
    p.close()


@pytest.fixture(scope="module")
def receiver(label_studio, proxy: FaultProxy) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "LABEL_STUDIO_URL": proxy.url, "LABEL_STUDIO_API_KEY": label_studio.api_key}
    cmd = [sys.executable, "-m", "al_core", "serve-webhooks", "--port", str(port), "--secret", SECRET, "--every", "10"]
    url = f"http://127.0.0.1:{port}"
    proc = start_service(cmd, env, url + "/health", "the webhook receiver")
    yield url + "/webhook"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def history(proxy: FaultProxy) -> History:
    return History(db_url(), server=proxy.url)  # the receiver's server: its counters, settings and runs


def _automated_project(gateway: Gateway, history: History, receiver: str, title: str, every: int, tasks: bool = True):
    """A project of sample texts automated through the receiver. ``tasks=False``: no tasks, for the tests whose
    webhook calls must be refused or only counted: importing texts proves nothing there, and a run they
    wrongly started would still show (an iteration is recorded before it reads anything, even when it fails)."""
    if tasks:
        project = create_small_sample_project(gateway, title)
    else:
        project = gateway.create_project(title, TEMPLATES[SAMPLE_TEMPLATE])
    gateway.create_webhook(project.id, receiver, headers={"X-AL-Secret": SECRET})
    history.save_automation(project.id, every=every, settings={"upload_top": 100})
    return project, GoldAnnotator(gateway, project.id, sample_gold().get)


def _wait_idle(history: History, project_id: int, *, triggers: int, settled: bool = True, timeout: float = 300) -> None:
    """Wait for ``triggers`` finished automatic runs; ``settled``: and for the counter to stay below N with
    nothing running for longer than the receiver's quiet period (so no further run is pending)."""
    deadline, calm_since = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        running = [it for it in history.iterations(project_id) if it.status == "running"]
        auto = history.automation(project_id)
        done = len(history.events(project_id, "trigger")) >= triggers and not running
        if done and settled:
            done = auto is not None and auto.counted < auto.every
        if not done:
            calm_since = None
        elif not settled:
            return
        else:
            calm_since = calm_since or time.monotonic()
            if time.monotonic() - calm_since > 8:
                return
        time.sleep(0.5)
    raise AssertionError(f"no {triggers} finished automatic iteration(s) within {timeout} s")


def test_n_annotations_cause_exactly_one_iteration(gateway: Gateway, history: History, receiver: str) -> None:
    project, annotator = _automated_project(gateway, history, receiver, "webhook exactly one", every=5)
    annotator.label(5)
    _wait_idle(history, project.id, triggers=1)
    runs = [it for it in history.iterations(project.id) if it.trigger == "webhook"]
    assert [r.status for r in runs] == ["succeeded"]
    assert gateway.get_project(project.id).model_version == runs[0].model_version
    assert history.automation(project.id).counted == 0


def test_wrong_or_missing_secret_is_401_and_runs_nothing(gateway: Gateway, history: History, receiver: str) -> None:
    project, _ = _automated_project(gateway, history, receiver, "webhook secret", every=1, tasks=False)
    payload = {"action": "ANNOTATION_CREATED", "project": {"id": project.id}, "annotation": {"id": 10**9}}
    assert httpx.post(receiver, json=payload, headers={"X-AL-Secret": "wrong"}).status_code == 401
    assert httpx.post(receiver, json=payload).status_code == 401
    time.sleep(2)
    assert history.automation(project.id).counted == 0
    assert history.iterations(project.id) == []


def test_a_webhook_registered_on_another_server_is_refused_and_counts_nothing(
    gateway: Gateway, history: History, receiver: str, proxy: FaultProxy
) -> None:
    assert httpx.get(receiver.replace("/webhook", "/health")).json() == {
        "status": "ok",
        "server": server_slug(proxy.url),
    }
    project, _ = _automated_project(gateway, history, receiver, "webhook another server", every=100, tasks=False)
    body = {"action": "ANNOTATION_CREATED", "project": {"id": project.id}, "annotation": {"id": 501}}
    elsewhere = {"X-AL-Secret": SECRET, "X-AL-Server": server_slug("https://ls.example.com")}
    refused = httpx.post(receiver, json=body, headers=elsewhere)
    assert refused.status_code == 409 and "serves another Label Studio server" in refused.json()["error"]
    assert history.automation(project.id).counted == 0, "never counted for this server's project of that id"
    ours = {"X-AL-Secret": SECRET, "X-AL-Server": server_slug(proxy.url)}
    assert httpx.post(receiver, json=body, headers=ours).json() == {"counted": 1, "every": 100}


def test_duplicates_and_skips_are_ignored(gateway: Gateway, history: History, receiver: str) -> None:
    project, _ = _automated_project(gateway, history, receiver, "webhook duplicates", every=100, tasks=False)
    headers = {"X-AL-Secret": SECRET}
    ann = {"action": "ANNOTATION_CREATED", "project": {"id": project.id}, "annotation": {"id": 77}}
    skip = {
        "action": "ANNOTATION_CREATED",
        "project": {"id": project.id},
        "annotation": {"id": 78, "was_cancelled": True},
    }
    for body in (ann, ann, skip):
        started = time.perf_counter()
        assert httpx.post(receiver, json=body, headers=headers).status_code == 200
        assert time.perf_counter() - started < 0.5
    assert history.automation(project.id).counted == 1


def test_a_burst_never_overlaps_and_ends_trained_on_everything(
    gateway: Gateway, history: History, receiver: str
) -> None:
    project, annotator = _automated_project(gateway, history, receiver, "webhook burst", every=10)
    annotator.label(50)
    _wait_idle(history, project.id, triggers=1)
    runs = [it for it in history.iterations(project.id) if it.trigger == "webhook"]
    assert runs and all(r.status == "succeeded" for r in runs)
    for earlier, later in zip(runs, runs[1:], strict=False):
        assert earlier.finished_at <= later.started_at, "two iterations overlapped"
    last = runs[-1]
    assert last.counts.n_labeled + last.counts.n_eval_labeled == 50


def test_the_receiver_survives_label_studio_being_down(
    gateway: Gateway, history: History, receiver: str, proxy: FaultProxy
) -> None:
    project, annotator = _automated_project(gateway, history, receiver, "webhook outage", every=5)
    proxy.down()
    try:
        annotator.label(5)  # Label Studio itself is up and delivers; the receiver cannot reach it
        _wait_idle(history, project.id, triggers=1, settled=False)
    finally:
        proxy.up()
    failed = history.iterations(project.id)
    assert [it.status for it in failed] == ["failed"]
    assert "Cannot reach Label Studio" in failed[0].error
    assert gateway.get_project(project.id).model_version == ""
    annotator.label(1)  # the next trigger succeeds
    _wait_idle(history, project.id, triggers=2)
    runs = history.iterations(project.id)
    assert runs[-1].status == "succeeded"
    assert gateway.get_project(project.id).model_version == runs[-1].model_version


def test_a_trigger_without_new_labels_is_skipped_and_recorded_as_such(
    gateway: Gateway, history: History, receiver: str
) -> None:
    project, annotator = _automated_project(gateway, history, receiver, "webhook skipped", every=5)
    annotator.label(5)
    _wait_idle(history, project.id, triggers=1)
    (first,) = history.iterations(project.id)
    assert first.status == "succeeded"
    # Five more webhook calls (annotations saved again, say) that change no label: a run starts and skips.
    for annotation_id in range(10**8, 10**8 + 5):
        body = {"action": "ANNOTATION_UPDATED", "project": {"id": project.id}, "annotation": {"id": annotation_id}}
        assert httpx.post(receiver, json=body, headers={"X-AL-Secret": SECRET}).status_code == 200
    _wait_idle(history, project.id, triggers=2)
    latest = history.events(project.id, "trigger", limit=1)[0].detail
    assert latest["outcome"] == "skipped" and latest["model_version"] == first.model_version
    assert f"no new labels since {first.model_version}" in latest["message"]
    assert [(it.model_version, it.status) for it in history.iterations(project.id)] == [
        (first.model_version, "succeeded")
    ], "no phantom version, no record left running"
    assert gateway.get_project(project.id).model_version == first.model_version
