"""The only module that talks to Label Studio.

Built on the official ``label-studio-sdk`` 2.x client; raw requests (through the client's own HTTP layer, so auth and
token refresh stay the SDK's) only where the SDK lacks an endpoint or is slow: fast task listing (``include=id,data``
+ Data Manager filters), the labeled-task export, model versions, ``/next``. Returns our records, never SDK objects.
Pure parts live beside it: ``gateway_payloads`` (filters, rows -> records), ``gateway_errors`` (failures -> our errors)
and ``gateway_retry``: the SDK's retries are off; idempotent calls are retried on connection errors, timeouts and 5xx
(SQLite's "database is locked"); a creating write is sent again only after checking what of it landed, and only the
rest (never a duplicate prediction, task or annotation). Only this module sends requests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Literal, TypeVar

import httpx
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from al_core.errors import AuthenticationFailed, ConnectionFailed, LabelStudioError
from al_core.labelstudio import gateway_payloads as payloads
from al_core.labelstudio.gateway_errors import from_status, response_body, translate
from al_core.labelstudio.gateway_payloads import PredictionImport, TaskImport, User, Webhook
from al_core.labelstudio.gateway_retry import create_once, prediction_key, retrying, send_predictions_checked, send_rest
from al_core.labelstudio.records import Prediction, Project, Task
from al_core.settings import normalize_api_key, normalize_url

T = TypeVar("T")
Progress = Callable[[int, int], None]  # (done, total)
Sampling = Literal["Uncertainty sampling", "Sequential sampling", "Uniform sampling"]
UNCERTAINTY_SAMPLING: Sampling = "Uncertainty sampling"
_NO_RETRY = {"max_retries": 0}
WEBHOOK_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED")


QUEUE_VIEW_TITLE = "Active learning queue"
_QUEUE_VIEW_DATA = {"ordering": ["tasks:predictions_score"], "filters": {"conjunction": "and", "items": []}}


class Gateway:
    """A connection to one Label Studio server with one API key.

    Args:
        url: the server's base URL, e.g. ``http://127.0.0.1:8080``; kept as ``settings.normalize_url`` reads it.
        api_key: a legacy token or a personal access token (read as pasted: ``settings.normalize_api_key``).
        timeout: seconds per request (bulk calls use a longer one).
    """

    def __init__(self, url: str, api_key: str, *, timeout: float = 30.0) -> None:
        url, api_key = normalize_url(url), normalize_api_key(api_key)
        if not url or not url.startswith(("http://", "https://")):
            raise ConnectionFailed(f"The Label Studio URL must start with http:// or https://. Got {url!r}.")
        if not api_key:
            raise AuthenticationFailed("No API key given. Copy it from Label Studio: Account & Settings.")
        self.url = url
        self.timeout = timeout
        self._client = LabelStudio(base_url=self.url, api_key=api_key, timeout=timeout, max_retries=0)
        self._import_mode: payloads.ImportMode | None = None  # asked on the first upload (prediction_import_mode)

    def __repr__(self) -> str:
        return f"Gateway(url={self.url!r})"

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except (ApiError, httpx.HTTPError) as err:
            raise translate(err, self.url, what) from err

    def _raw(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        timeout: float | None = None,
        ok_404: bool = False,
    ) -> Any:
        options: dict[str, Any] = {**_NO_RETRY, "timeout_in_seconds": timeout or self.timeout}
        wrapper = self._client._client_wrapper.httpx_client  # the SDK's HTTP layer: auth stays the SDK's
        try:
            resp = wrapper.request(path, method=method, params=params, json=body, request_options=options)
        except httpx.HTTPError as err:
            raise translate(err, self.url, what) from err
        if resp.status_code == 404 and ok_404:
            return None
        if resp.status_code >= 400:
            raise from_status(resp.status_code, response_body(resp), self.url, what)
        return resp.json() if resp.content else None

    # -- users and projects ------------------------------------------------------------------------
    @retrying
    def whoami(self) -> User:
        """Validate the key (``/health`` does not) and return the user it belongs to."""
        me = self._call("checking the API key", lambda: self._client.users.whoami(request_options=_NO_RETRY))
        return payloads.user(me)

    @retrying
    def list_users(self) -> list[User]:
        """The server's users (``GET /api/users/``: the key's organization), to show annotators by name, not id."""
        found = self._call("listing users", lambda: list(self._client.users.list(request_options=_NO_RETRY)))
        return [payloads.user(u) for u in found]

    @retrying
    def list_projects(self) -> list[Project]:
        pager = self._call("listing projects", lambda: self._client.projects.list(request_options=_NO_RETRY))
        found = self._call("listing projects", lambda: [payloads.project(p) for p in pager])  # every page
        total = getattr(pager.response, "count", None)
        payloads.check_listed("projects", len(found), int(total) if total is not None else len(found), more=False)
        return found

    @retrying
    def get_project(self, project_id: int) -> Project:
        what = f"reading project {project_id}"
        return payloads.project(
            self._call(what, lambda: self._client.projects.get(id=project_id, request_options=_NO_RETRY))
        )

    def create_project(self, title: str, label_config: str, *, description: str = "") -> Project:
        """Create a project; Label Studio validates the config (its message is passed on)."""
        if len(title.strip()) < 3:
            raise LabelStudioError(f"A project title needs at least 3 characters. Got {title!r}.")
        what, title = f"creating project {title!r}", title.strip()
        body = {"title": title, "label_config": label_config, "description": description, "maximum_annotations": 1}
        before = {p.id for p in self.list_projects() if p.title == title}  # maximum_annotations=1: a clean AL queue
        created = create_once(
            lambda: self._raw("POST", "api/projects/", what, body=body)["id"],
            lambda: next((p.id for p in self.list_projects() if p.title == title and p.id not in before), None),
        )
        return self.get_project(int(created))

    @retrying  # a POST that creates nothing: safe to send again
    def validate_label_config(self, label_config: str) -> None:
        """Ask Label Studio to validate a config without creating anything; raise LabelConfigError."""
        body = {"label_config": label_config}
        self._raw("POST", "api/projects/validate/", "validating the labeling config", body=body)

    @retrying
    def set_sampling(self, project_id: int, sampling: Sampling = UNCERTAINTY_SAMPLING) -> None:
        self._raw("PATCH", f"api/projects/{project_id}/", "setting the sampling", body={"sampling": sampling})

    def queue_view(self, project_id: int) -> int:
        """The id of the project's data-manager tab that orders tasks by the current model version's prediction
        score, lowest first (created, or its ordering restored, as needed).

        Label Studio serves a labeling stream opened from a tab in that tab's order ("Label Tasks As Displayed",
        and every ``?labeling=1`` link unless the annotator's browser chose "Label All Tasks" before), while
        "Label All Tasks" uses the project's uncertainty sampling. Ordered this way, both serve the lowest score
        first; the score only counts predictions of the project's ``model_version``.
        """
        what = f"preparing the active-learning tab of project {project_id}"

        @retrying
        def ours() -> dict[str, Any] | None:
            views = self._raw("GET", "api/dm/views/", what, params={"project": project_id}) or []
            return next((v for v in views if (v.get("data") or {}).get("title") == QUEUE_VIEW_TITLE), None)

        mine = ours()
        if mine is None:
            body = {"project": project_id, "data": {"title": QUEUE_VIEW_TITLE, **_QUEUE_VIEW_DATA}}
            made = create_once(lambda: self._raw("POST", "api/dm/views/", what, body=body), ours)
            return int(made["id"])
        data = mine.get("data") or {}
        if any(data.get(key) != value for key, value in _QUEUE_VIEW_DATA.items()):
            body = {"project": project_id, "data": {**data, **_QUEUE_VIEW_DATA}}
            self._raw("PATCH", f"api/dm/views/{mine['id']}/", what, body=body)
        return int(mine["id"])

    def labeling_url(self, project_id: int, view_id: int) -> str:
        """Where an annotator starts labeling in the active-learning order (see ``queue_view``)."""
        return f"{self.url}/projects/{project_id}/data?tab={view_id}&labeling=1"

    @retrying
    def set_model_version(self, project_id: int, version: str) -> None:
        """Switch the queue to ``version`` (only possible once predictions of it exist)."""
        what = f"switching project {project_id} to model version {version!r}"
        self._raw("PATCH", f"api/projects/{project_id}/", what, body={"model_version": version})

    # -- tasks -------------------------------------------------------------------------------------
    def import_tasks(self, project_id: int, chunks: Iterable[list[dict[str, Any]]], **kwargs: Any) -> int:
        """Import tasks chunk by chunk (each chunk one request); return how many were created."""
        return self.import_tasks_counted(project_id, chunks, **kwargs).tasks

    def import_tasks_counted(
        self, project_id: int, chunks: Iterable[list[dict[str, Any]]], *, on_progress: Progress | None = None
    ) -> TaskImport:
        """Import tasks (with their ``annotations`` and ``predictions``, if any) chunk by chunk, one request each;
        return what Label Studio says it created (``task_count`` ...) beside what it was sent."""
        done = TaskImport(0, 0, 0, 0, 0, 0)
        for chunk in chunks:
            if not chunk:
                continue
            what = f"importing tasks into project {project_id} ({done.tasks:,} imported so far)"
            done = done + payloads.task_import(chunk, self._import_chunk(project_id, chunk, what))
            if on_progress:
                on_progress(done.tasks, 0)
        return done

    def _import_chunk(self, project_id: int, chunk: list[dict[str, Any]], what: str) -> Any:
        """Label Studio's answer to one task import request (None when a failed one had landed whole)."""
        before, path = self._task_number(project_id), f"api/projects/{project_id}/import"
        return send_rest(
            chunk,
            lambda rest: self._raw("POST", path, what, body=rest, timeout=300),
            lambda: payloads.tasks_unlanded(chunk, self._task_number(project_id) - before, what),
        )[1]

    @retrying
    def _task_number(self, project_id: int) -> int:
        what = f"counting the tasks of project {project_id}"
        return int(self._raw("GET", f"api/projects/{project_id}/", what)["task_number"])

    @retrying
    def _tasks_page(self, project_id: int, page: int, page_size: int, query: str | None, include: str) -> Any:
        params = {"project": project_id, "page": page, "page_size": page_size, "include": include}
        if query:
            params["query"] = query
        what = f"listing tasks of project {project_id} (page {page})"
        return self._raw("GET", "api/tasks", what, params=params, timeout=300, ok_404=True)

    def list_tasks(self, project_id: int, **options: Any) -> list[Task]:
        """List tasks fast (id and data only), every page of ``task_pages`` (same options) in one list."""
        return [task for page in self.task_pages(project_id, **options) for task in page]

    # fmt: off
    def task_pages(self, project_id: int, *, labeled: bool | None = None, updated_after: str | None = None,
                   include: str = "id,data", page_size: int = 5000, on_progress: Progress | None = None,
                   ) -> Iterator[list[Task]]:
        # fmt: on
        """List tasks fast (id and data), a page at a time: a caller that keeps less (the task cache) never holds
        a 1,000,000-task project twice. ``labeled``: True/False filters on completion; ``updated_after``
        (``%Y-%m-%dT%H:%M:%S.%fZ``): only tasks created or changed since then."""
        query = payloads.task_query(labeled, updated_after)
        page, total, seen = 1, 0, 0
        while True:  # the server may cap page_size (TASK_API_PAGE_SIZE_MAX): follow pages until its total
            payload = self._tasks_page(project_id, page, page_size, query, include) or {}
            tasks = [payloads.listed_task(r) for r in payload.get("tasks", [])]
            seen += len(tasks)
            total = int(payload["total"]) if "total" in payload else max(total, seen)  # a 404 past the end
            if on_progress:
                on_progress(seen, total)
            yield tasks
            if seen >= total:
                return
            payloads.check_listed(f"tasks of project {project_id}", seen, total, more=bool(tasks))
            page += 1

    @retrying
    def labeled_tasks(self, project_id: int) -> list[Task]:
        """Tasks with at least one annotation (cancelled ones included), with their annotations."""
        what = f"reading the annotations of project {project_id}"
        rows = self._raw("GET", f"api/projects/{project_id}/export", what, params={"exportType": "JSON"}, timeout=600)
        return [payloads.task_with_annotations(r) for r in rows or []]

    def next_task(self, project_id: int) -> Task | None:
        """The task Label Studio's queue serves next to this user (None when nothing is left)."""
        row = self._raw(
            "GET", f"api/projects/{project_id}/next", f"asking project {project_id} for the next task", ok_404=True
        )
        if not row or "id" not in row:
            return None
        return payloads.task_with_annotations(row)

    def create_annotation(
        self, task_id: int, result: Sequence[dict[str, Any]], *, was_cancelled: bool = False, ground_truth: bool = False
    ) -> int:
        """Annotate a task as the key's user (used by tests, benchmarks and scripted annotators)."""
        what, before = f"annotating task {task_id}", set(self._annotation_ids(task_id))
        body = {"result": list(result), "was_cancelled": was_cancelled, "ground_truth": ground_truth}
        return create_once(
            lambda: int(self._raw("POST", f"api/tasks/{task_id}/annotations/", what, body=body)["id"]),
            lambda: next((i for i in self._annotation_ids(task_id) if i not in before), None),
        )

    @retrying
    def _annotation_ids(self, task_id: int) -> list[int]:
        rows = self._raw("GET", f"api/tasks/{task_id}/annotations/", f"reading the annotations of task {task_id}")
        return [int(r["id"]) for r in rows or []]

    # -- predictions and model versions ------------------------------------------------------------
    def import_predictions(self, project_id: int, predictions: Sequence[dict[str, Any]], **kwargs: Any) -> int:
        """Bulk-import predictions; return how many were created (see :meth:`import_predictions_counted`)."""
        return self.import_predictions_counted(project_id, predictions, **kwargs).created

    def import_predictions_counted(
        self,
        project_id: int,
        predictions: Sequence[dict[str, Any]],
        *,
        chunk_size: int | None = None,
        on_progress: Progress | None = None,
    ) -> PredictionImport:
        """Bulk-import predictions in chunks (default ``PREDICTION_CHUNK[prediction_import_mode]``); those of tasks deleted
        since they were read are left out and counted. Raises LabelStudioError when fewer were created than sent."""
        created, gone, total = 0, 0, len(predictions)
        before = self._prediction_counts(project_id, {prediction_key(p)[1] for p in predictions})
        size = chunk_size or payloads.PREDICTION_CHUNK[self.prediction_import_mode(project_id) if total else "unknown"]
        for start in range(0, total, size):
            chunk = list(predictions[start : start + size])
            what = f"uploading predictions to project {project_id} ({created:,} of {total:,} done)"
            landed, kept, got = send_predictions_checked(
                chunk,
                lambda rest, what=what: self._send_predictions(project_id, rest, what),
                lambda versions: self._prediction_counts(project_id, versions),
                before,
            )
            gone += len(chunk) - landed - len(kept)
            created += landed + payloads.check_created(got, len(kept), project_id)
            before.update(prediction_key(p) for p in chunk)  # in Label Studio now (or their task is gone)
            if on_progress:
                on_progress(created + gone, total)
        return PredictionImport(created, gone)

    def _prediction_counts(self, project_id: int, versions: set[str]) -> Counter:
        """(task, model_version) -> how many predictions Label Studio holds, for ``versions`` (none listed when
        none of them has predictions: the usual case of a new version)."""
        held = self.list_predictions(project_id) if versions & set(self.model_versions(project_id)) else []
        return Counter((p.task, p.model_version) for p in held if p.model_version in versions)

    def prediction_import_mode(self, project_id: int) -> payloads.ImportMode:
        """How this server imports predictions (``gateway_payloads.import_mode``), asked once per gateway."""
        if self._import_mode is None:
            what = f"checking how project {project_id} imports predictions"
            try:
                self._raw("POST", f"api/projects/{project_id}/import/predictions", what, body=[payloads.IMPORT_PROBE])
                self._import_mode = "unknown"
            except LabelStudioError as err:  # the refusal expected (or a failure the upload itself will report)
                self._import_mode = payloads.import_mode(str(err))
        return self._import_mode

    def _send_predictions(self, project_id: int, chunk: list[dict[str, Any]], what: str) -> tuple[list, Any]:
        """(the predictions sent, Label Studio's answer); those of deleted tasks left out when it refuses them."""
        path = f"api/projects/{project_id}/import/predictions"
        try:
            return chunk, self._raw("POST", path, what, body=chunk, timeout=600)
        except LabelStudioError as err:
            if not payloads.task_gone(str(err)):
                raise
            existing = {t.id for t in self.list_tasks(project_id, include="id")}
            kept = [p for p in chunk if p.get("task") in existing]
            if len(kept) == len(chunk):
                raise
            return kept, self._raw("POST", path, what, body=kept, timeout=600) if kept else {"created": 0}

    @retrying
    def list_predictions(self, project_id: int, model_version: str | None = None) -> list[Prediction]:
        """Every prediction of the project (optionally of one version), with score and result."""
        what = f"listing the predictions of project {project_id}"
        rows = self._raw("GET", "api/predictions/", what, params={"project": project_id}, timeout=600)
        return [payloads.prediction(r) for r in rows or [] if model_version in (None, r.get("model_version"))]

    @retrying
    def model_versions(self, project_id: int) -> dict[str, int]:
        """Model versions with predictions in the project -> number of predictions."""
        what = f"listing model versions of project {project_id}"
        data = self._raw("GET", f"api/projects/{project_id}/model-versions/", what)
        return {str(k): int(v) for k, v in (data or {}).items()}

    @retrying
    def delete_model_version(self, project_id: int, version: str) -> None:
        """Delete all predictions of a version (slow in Label Studio: ~63 ms per prediction)."""
        what = f"deleting the predictions of model version {version!r} in project {project_id}"
        path, body = f"api/projects/{project_id}/model-versions/", {"model_version": version}
        self._raw("DELETE", path, what, body=body, timeout=3600)

    @retrying
    def delete_prediction(self, prediction_id: int) -> None:
        """Delete one prediction (one short write transaction in Label Studio; already gone counts as done)."""
        what = f"deleting prediction {prediction_id}"
        self._raw("DELETE", f"api/predictions/{prediction_id}/", what, ok_404=True)

    # -- webhooks ----------------------------------------------------------------------------------
    def list_webhooks(self, project_id: int | None = None) -> list[Webhook]:
        hooks = self._call("listing webhooks", lambda: self._client.webhooks.list(request_options=_NO_RETRY))
        found = [payloads.webhook(h) for h in hooks]
        return [h for h in found if project_id is None or h.project == project_id]

    def create_webhook(self, project_id: int, url: str, headers: dict[str, str]) -> Webhook:
        what, before = f"registering a webhook for project {project_id}", {h.id for h in self.list_webhooks(project_id)}
        body = {"url": url, "project": project_id, "actions": list(WEBHOOK_ACTIONS), "send_for_all_actions": False}
        body.update(send_payload=True, headers=headers)
        return create_once(
            lambda: payloads.webhook_row(self._raw("POST", "api/webhooks/", what, body=body)),
            lambda: next((h for h in self.list_webhooks(project_id) if h.id not in before and h.url == url), None),
        )

    def delete_webhook(self, webhook_id: int) -> None:
        self._call("removing a webhook", lambda: self._client.webhooks.delete(id=webhook_id, request_options=_NO_RETRY))


def server_health(url: str, timeout: float = 2.0) -> bool:
    """True when ``GET /health`` answers 200 (says nothing about the API key)."""
    try:
        return httpx.get(url.rstrip("/") + "/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False
