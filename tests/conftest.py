"""Shared fixtures. The real Label Studio server is started once per test session on a free loopback
port with a temporary data dir; if it cannot start, the run fails and shows the server's log."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from al_core.lab.sample import SAMPLE_ATTRIBUTION, SAMPLE_TEMPLATE, sample_tasks
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import TEMPLATES
from al_core.labelstudio.local_server import LocalServer, ServerStartFailed, start_local_server, wait_until_ready
from al_core.labelstudio.records import Project
from al_core.settings import Connection
from tests.postgres import PostgresServer, start_postgres

ROOT = Path(__file__).resolve().parent.parent


def start_service(
    cmd: list[str], env: dict[str, str], health_url: str, what: str, timeout: float = 90
) -> subprocess.Popen:
    """Start a subprocess of ours (app, receiver) and wait until ``health_url`` answers 200, or fail with its output."""
    proc = subprocess.Popen(cmd, cwd=str(ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(health_url, timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    pytest.fail(f"{what} did not start:\n{proc.stdout.read().decode(errors='replace')}", pytrace=False)


SMALL_SAMPLE_STEP = 5  # every 5th text of the sample: 450 tasks, 20 to 40 of each of its 15 intents


def create_small_sample_project(gateway: Gateway, title: str) -> Project:
    """``create_sample_project`` with every 5th sample text (450 tasks, all 15 intents), for tests where the
    size of the pool proves nothing (command-line interface, webhooks, secrets, pruning, downloads). Their
    cost grows with it: a new process embeds every task once, and the import and every read and score cover
    it. The full sample stays where its size is what is tested (the dashboard's sample import, iterations,
    the interval coverage, export row counts)."""
    project = gateway.create_project(title, TEMPLATES[SAMPLE_TEMPLATE], description=SAMPLE_ATTRIBUTION)
    gateway.import_tasks(project.id, [sample_tasks()[::SMALL_SAMPLE_STEP]])
    return gateway.get_project(project.id)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_label_studio(server: LocalServer, dest: Path) -> None:
    """Label Studio's data of ``server`` (its credentials and a consistent copy of its live database, by SQLite's
    backup API) under ``dest``: a server started there is another real server, up in seconds instead of the
    minute a first start spends migrating, with the same users, projects and ids (and the same API key)."""
    source = server.log_path.parent  # <data dir>/labelstudio
    target = dest / "labelstudio"
    target.mkdir(parents=True)
    (target / "credentials.json").write_bytes((source / "credentials.json").read_bytes())
    with (
        sqlite3.connect(source / "label_studio.sqlite3") as src,
        sqlite3.connect(target / "label_studio.sqlite3") as dst,
    ):
        src.backup(dst)


@pytest.fixture(autouse=True, scope="session")
def _isolated_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """History, artifacts and caches of the tests go to a temporary dir, never the user's .data/."""
    mp = pytest.MonkeyPatch()
    path = tmp_path_factory.mktemp("al-data")
    mp.setenv("AL_DATA_DIR", str(path))
    for var in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "AL_DB_URL", "AL_WEBHOOK_SECRET", "AL_TEAM_MODE"):
        mp.delenv(var, raising=False)
    yield path
    mp.undo()


SERVER_FIXTURE = "label_studio_server"
_NEEDS_SERVER = pytest.StashKey[bool]()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests that need no Label Studio run first, in their usual order, then those that do (also in order).

    The session's server starts before the first test (``_label_studio_started``) and spends its first minute
    migrating its database on one core, while the tests without a server use the other one.
    """
    needs = {item: SERVER_FIXTURE in getattr(item, "fixturenames", ()) for item in items}
    items[:] = [item for item in items if not needs[item]] + [item for item in items if needs[item]]
    config.stash[_NEEDS_SERVER] = any(needs.values())


@pytest.fixture(autouse=True, scope="session")
def _label_studio_started(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalServer | ServerStartFailed | None]:
    """The session's Label Studio process, started (not yet ready) before the first test when any collected
    test needs it; None when none does. Stopped at the end of the session."""
    if not request.config.stash.get(_NEEDS_SERVER, False):
        yield None
        return
    data = tmp_path_factory.mktemp("labelstudio")
    try:
        server = start_local_server(data, port=free_port(), allow_loopback_webhooks=True, wait=False)
    except ServerStartFailed as err:  # reported by the first test that needs the server
        yield err
        return
    yield server
    server.stop()


@pytest.fixture(scope="session")
def label_studio_server(
    _label_studio_started: LocalServer | ServerStartFailed | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalServer]:
    """A real Label Studio server for the whole session (bound to 127.0.0.1, webhooks to loopback allowed)."""
    server = _label_studio_started
    try:
        if isinstance(server, ServerStartFailed):
            raise server
        if server is None:  # no collected test named it (asked for dynamically): start it now
            data = tmp_path_factory.mktemp("labelstudio")
            server = start_local_server(data, port=free_port(), allow_loopback_webhooks=True, wait=False)
        wait_until_ready(server)
    except ServerStartFailed as err:
        pytest.fail(f"The Label Studio test server could not start:\n{err}", pytrace=False)
    yield server
    if _label_studio_started is None:
        server.stop()


@pytest.fixture(scope="session")
def label_studio(label_studio_server: LocalServer) -> Connection:
    return label_studio_server.connection


@pytest.fixture(scope="session")
def gateway(label_studio: Connection) -> Gateway:
    return Gateway(label_studio.url, label_studio.api_key)


TOPIC_AND_SUBTOPIC = """<View>
  <Text name="text" value="$text"/>
  <Choices name="topic" toName="text" choice="single-radio">
    <Choice value="billing"/><Choice value="card"/>
  </Choices>
  <Choices name="subtopic" toName="text" choice="single-radio" visibleWhen="choice-selected" whenTagName="topic">
    <Choice value="refund"/><Choice value="fee"/><Choice value="limit"/>
  </Choices>
</View>"""  # issue #19 case D1: which one does the model learn?
TOPIC_TEXTS = {"a refund for my bill": ("billing", "refund"), "the card fee again": ("card", "fee")}
TOPIC_TEXTS |= {"my card limit is too low": ("card", "limit"), "a fee on my bill": ("billing", "fee")}


@pytest.fixture
def two_choices_project(gateway: Gateway, unique_title: str) -> int:
    """A project whose config has two <Choices> over one text (``topic``, and ``subtopic`` shown with
    ``visibleWhen``): 48 tasks, 32 of them annotated on both."""
    project = gateway.create_project(unique_title, TOPIC_AND_SUBTOPIC)
    tasks = []
    for i in range(12):
        for text, (topic, subtopic) in TOPIC_TEXTS.items():
            result = [
                {"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": [value]}}
                for name, value in (("topic", topic), ("subtopic", subtopic))
            ]
            tasks.append(
                {"data": {"text": f"{text} ({i})"}, **({"annotations": [{"result": result}]} if i < 8 else {})}
            )
    gateway.import_tasks(project.id, [tasks])
    return project.id


@pytest.fixture
def unique_title() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session (Debian's package; see tests/postgres.py)."""
    try:
        server = start_postgres(free_port())
    except RuntimeError as err:
        pytest.fail(str(err), pytrace=False)
    yield server
    server.stop()
