"""When the gateway sends a request again, and what it sends: pure policy, tested without a server.

- Idempotent calls (GET, PATCH, DELETE of one object) are retried on connection errors, timeouts and 5xx
  (SQLite's "database is locked" is a 500) with exponential backoff: ``retrying``.
- A write that creates things (prediction and task imports, a project, an annotation, a webhook, a view)
  is never sent twice blindly: after such a failure part or all of it may have landed (Label Studio's
  prediction import commits in batches of 500, and a timeout says nothing). ``send_rest`` waits, asks the
  gateway what of the write has NOT landed, and sends only that; ``create_once`` looks for the created
  object before creating it again. The gateway supplies the requests; these functions only decide.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar

from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from al_core.errors import ConnectionFailed, RequestTimeout, ServerError

T = TypeVar("T")
R = TypeVar("R")
RETRYABLE = (ConnectionFailed, RequestTimeout, ServerError)
ATTEMPTS = 4


def backoff(attempt: int) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (0-based): 1, 2, 4, ... at most 8 (a lock held a few
    seconds by another writer is usually released by then)."""
    return float(min(8, 2**attempt))


def retrying(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` (an idempotent request) retried on the failures in ``RETRYABLE``, ``ATTEMPTS`` times in all."""
    return retry(
        retry=retry_if_exception_type(RETRYABLE),
        stop=stop_after_attempt(ATTEMPTS),
        wait=wait_exponential(multiplier=0.5, max=4),
        reraise=True,
    )(fn)


def send_rest(
    items: Sequence[T],
    send: Callable[[list[T]], R],
    unlanded: Callable[[], list[T]],
    *,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[int, R | None]:
    """Send ``items`` in one write; after a retryable failure, wait, ask ``unlanded()`` which of ``items`` are not
    in Label Studio, and send only those. Returns (how many had landed before the last send, the last answer);
    the answer is None when everything had landed. Raises the last failure after ``attempts`` sends, and any
    other failure at once."""
    pending = list(items)
    for attempt in range(attempts):
        try:
            return len(items) - len(pending), send(pending)
        except RETRYABLE:
            if attempt == attempts - 1:
                raise
            sleep(backoff(attempt))
            pending = unlanded()
            if not pending:
                return len(items), None
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def create_once(
    create: Callable[[], R],
    find: Callable[[], R | None],
    *,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> R:
    """``create()`` one object; after a retryable failure, wait and ``find()`` it (it may have been created) before
    creating it again. Raises the last failure after ``attempts`` tries, and any other failure at once."""
    for attempt in range(attempts):
        try:
            return create()
        except RETRYABLE:
            if attempt == attempts - 1:
                raise
            sleep(backoff(attempt))
            found = find()
            if found is not None:
                return found
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def subtract(items: Sequence[T], landed: Iterable[Hashable], key: Callable[[T], Hashable]) -> list[T]:
    """``items`` less one item per ``key`` in ``landed`` (a multiset difference on keys, order kept)."""
    left = Counter(landed)
    rest = []
    for item in items:
        k = key(item)
        if left[k] > 0:
            left[k] -= 1
        else:
            rest.append(item)
    return rest


def prediction_key(prediction: dict[str, Any]) -> tuple[int, str]:
    """What identifies an imported prediction in Label Studio: (task, model_version); Label Studio stores
    ``undefined`` when no version is sent."""
    return int(prediction["task"]), str(prediction.get("model_version") or "undefined")


def new_since(now: Counter, before: Counter) -> list[Hashable]:
    """The keys counted in ``now`` beyond ``before``, each repeated as often (what landed since ``before``)."""
    return list((now - before).elements())


def send_predictions_checked(
    chunk: list[dict[str, Any]],
    send: Callable[[list[dict[str, Any]]], tuple[list[dict[str, Any]], Any]],
    counts: Callable[[set[str]], Counter],
    before: Counter,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[int, list[dict[str, Any]], int]:
    """One prediction import request, retried safely.

    ``send(predictions)`` imports and returns (the predictions it finally sent, Label Studio's answer);
    ``counts(versions)`` is Label Studio's (task, model_version) -> number of predictions now; ``before`` the same
    when the upload started. After a lock, a 5xx, a timeout or a lost connection only the predictions not yet in
    Label Studio are sent again. Returns (how many had landed after failures, the rest as finally sent, how many
    of those Label Studio says it created).
    """
    versions = {prediction_key(p)[1] for p in chunk}

    def unlanded() -> list[dict[str, Any]]:
        return subtract(chunk, new_since(counts(versions), before), prediction_key)

    landed, answer = send_rest(chunk, send, unlanded, sleep=sleep)
    kept, result = answer if answer is not None else ([], {"created": 0})
    return landed, kept, int((result or {}).get("created", 0))
