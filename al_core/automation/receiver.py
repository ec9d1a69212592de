"""The webhook receiver: Label Studio's annotation webhooks trigger iterations, in the background.

``POST /webhook`` (stable interface) with the shared secret in the ``X-AL-Secret`` header. It answers at
once (a counter update), ignores duplicates and skipped annotations, counts new annotations per project
and, when at least N arrived since the last version, runs an iteration in a background thread. One run
at a time per project (the history's cross-process run lock, shared with manual runs); annotations that
arrive during a run count toward the next one. A run that finds no new or changed label (annotations saved
again unchanged, or a manual run already learned them) makes no version: its trigger event says ``skipped``.

A receiver serves one Label Studio server (its connection): counters, settings and runs are that server's
projects'. A webhook registered on another server (``X-AL-Server``, see ``registration.register``) is refused
with 409 instead of being counted for that server's project of the same id; ``GET /health`` says which server
it serves (as ``settings.server_slug``, not its URL). Automatic runs use the settings stored for the project
(``registration.save_settings``): every setting of the Active learning page, the ``<Choices>`` to learn included.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from al_core import settings as app_settings
from al_core.automation.registration import DEFAULT_EVERY, SECRET_HEADER, SERVER_HEADER
from al_core.errors import ALError, ConfigError, IterationLocked
from al_core.iteration import IterationSettings, run_iteration
from al_core.labelstudio.gateway import Gateway
from al_core.pruning import prune_after_run
from al_core.store.history import History
from al_core.validation import check_int

log = logging.getLogger("al_core.automation.receiver")
COUNTED_ACTIONS = {"ANNOTATION_CREATED", "ANNOTATION_UPDATED"}
LOCK_RETRY_SECONDS = 2.0
LOCK_RETRY_LIMIT = 900  # give up waiting for another run's lock after this many retries (30 min)
QUIET_SECONDS = 5.0  # a burst of annotations is over when none arrived for this long: then one run starts
MAX_WAIT_SECONDS = 120.0  # ... or at the latest this long after the N-th annotation (a burst that never pauses)


@dataclass
class Receiver:
    """Counts annotations and runs iterations; one per process."""

    history: History
    gateway_factory: Callable[[], Gateway]
    secret: str
    every: int = DEFAULT_EVERY
    quiet_seconds: float = QUIET_SECONDS  # a burst is over when no annotation arrived for this long
    max_wait: float = MAX_WAIT_SECONDS  # ... or at the latest this long after the threshold was reached
    prune: bool = True  # prune old versions' predictions in the background after a successful run
    _last_seen: dict[int, float] = field(default_factory=dict)
    _running: set[int] = field(default_factory=set)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.history.check_server(self.gateway_factory().url)  # one server's counters, settings and runs

    @property
    def server(self) -> str:
        """The served Label Studio server, as webhooks name it (``X-AL-Server``) and ``/health`` says it."""
        return app_settings.server_slug(self.history.server)

    def handle(self, payload: dict[str, Any]) -> dict[str, Any]:
        action = str(payload.get("action", ""))
        project_id = _project_id(payload)
        if project_id is None:
            return {"ignored": "no project in the payload"}
        if action not in COUNTED_ACTIONS:
            return {"ignored": f"action {action or '?'} does not count"}
        annotation = payload.get("annotation") or {}
        if annotation.get("was_cancelled"):
            return {"ignored": "skipped annotation"}
        if "id" not in annotation:
            return {"ignored": "no annotation id"}
        counted, every, new = self.history.count_annotation(project_id, int(annotation["id"]), self.every)
        if not new:
            return {"ignored": "duplicate", "counted": counted, "every": every}
        self._last_seen[project_id] = time.monotonic()
        if counted >= every:
            self._start(project_id)
        return {"counted": counted, "every": every}

    def _start(self, project_id: int) -> None:
        with self._guard:
            if project_id in self._running:
                return  # the running loop picks these annotations up when its run ends
            self._running.add(project_id)
        thread = threading.Thread(
            target=self._run_loop, args=(project_id,), name=f"al-iterate-{project_id}", daemon=True
        )
        thread.start()

    def _wait_quiet(self, project_id: int) -> None:
        """Let a burst finish (no new annotation for ``quiet_seconds``, at most ``max_wait``): one run, not many."""
        start = time.monotonic()
        while time.monotonic() - start < self.max_wait:
            if time.monotonic() - self._last_seen.get(project_id, 0.0) >= self.quiet_seconds:
                return
            time.sleep(0.1)

    def _run_loop(self, project_id: int) -> None:
        succeeded = True
        try:
            while succeeded:
                self._wait_quiet(project_id)
                auto = self.history.automation(project_id)
                if auto is None or auto.counted < auto.every:
                    return
                succeeded = self._run_once(project_id, auto.settings)
        finally:
            with self._guard:
                self._running.discard(project_id)
            auto = self.history.automation(project_id)  # annotations that raced the loop's exit
            if succeeded and auto is not None and auto.counted >= auto.every:
                self._start(project_id)

    def _run_once(self, project_id: int, stored: dict[str, Any]) -> bool:
        taken = self.history.take_counted(project_id)
        started = time.time()
        detail: dict[str, Any] = {"annotations": taken}
        ok = True
        try:
            settings = IterationSettings.from_json(stored, trigger="webhook")
            result = self._iterate_waiting_for_lock(project_id, settings)
            detail.update(outcome=result.status, model_version=result.model_version, n_labeled=result.n_labeled)
            if result.status == "skipped":  # e.g. annotations re-saved unchanged: no version, nothing to prune
                detail.update(message=result.message)
            elif self.prune:
                prune_after_run(self.gateway_factory(), self.history, project_id, settings.keep_versions)
        except ALError as err:
            # Those annotations still count: the next webhook call triggers a new attempt.
            self.history.count_back(project_id, taken)
            detail.update(outcome="failed", error=str(err))
            log.warning("Automatic iteration of project %s failed: %s", project_id, err)
            ok = False
        detail["seconds"] = round(time.time() - started, 2)
        self.history.add_event(project_id, "trigger", detail)
        return ok

    def _iterate_waiting_for_lock(self, project_id: int, settings: IterationSettings):
        for _ in range(LOCK_RETRY_LIMIT):
            try:
                return run_iteration(
                    self.gateway_factory(), self.history, project_id, settings, owner="the webhook receiver"
                )
            except IterationLocked:
                time.sleep(LOCK_RETRY_SECONDS)  # a manual run is on: ours follows it
        raise IterationLocked(f"Project {project_id} stayed locked by another run; automatic iteration given up.")


def _project_id(payload: dict[str, Any]) -> int | None:
    project = payload.get("project")
    if isinstance(project, dict):
        project = project.get("id")
    try:
        return int(project) if project is not None else None
    except (TypeError, ValueError):
        return None


def create_app(receiver: Receiver) -> Starlette:
    async def webhook(request: Request) -> JSONResponse:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), receiver.secret.encode()):
            return JSONResponse({"error": f"missing or wrong {SECRET_HEADER} header"}, status_code=401)
        server = request.headers.get(SERVER_HEADER)
        if server is not None and server != receiver.server:  # older webhooks carry none: this server's
            error = (
                "this receiver serves another Label Studio server than the one the webhook was registered on "
                f"({SERVER_HEADER} {server}; it serves {receiver.server}): run a receiver connected to that server"
            )
            return JSONResponse({"error": error}, status_code=409)
        try:
            payload = await request.json()
        except ValueError:
            return JSONResponse({"error": "the body is not JSON"}, status_code=400)
        if not isinstance(payload, dict):
            return JSONResponse({"error": "the body must be a JSON object"}, status_code=400)
        try:
            return JSONResponse(receiver.handle(payload))
        except ALError as err:
            return JSONResponse({"error": str(err)}, status_code=503)

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "server": receiver.server})

    return Starlette(routes=[Route("/webhook", webhook, methods=["POST"]), Route("/health", health, methods=["GET"])])


def serve(args: argparse.Namespace) -> int:
    """``python -m al_core serve-webhooks``: run the receiver with uvicorn until interrupted."""
    import uvicorn

    secret = app_settings.normalize_secret(args.secret) or app_settings.webhook_secret()
    if not secret:
        raise ConfigError("No webhook secret: pass --secret or set AL_WEBHOOK_SECRET.")
    check_int("--every", args.every, 1)
    conn = app_settings.default_connection(args.url, args.api_key)
    if conn is None:
        raise ConfigError(
            "No Label Studio configured: pass --url and --api-key or set LABEL_STUDIO_URL/LABEL_STUDIO_API_KEY."
        )
    history = History(app_settings.db_url(), server=conn.url)
    receiver = Receiver(history, lambda: Gateway(conn.url, conn.api_key), secret, args.every)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    port = args.port if args.port is not None else app_settings.port("webhooks")
    uvicorn.run(create_app(receiver), host=args.host, port=port, log_level="warning", access_log=False)
    return 0
