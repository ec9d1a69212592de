"""The gateway's retry policy without a server: what is sent again after a failure, and what never is."""

from __future__ import annotations

from collections import Counter

import pytest

from al_core.errors import LabelStudioError, RequestTimeout, ServerError
from al_core.labelstudio.gateway_retry import (
    backoff,
    create_once,
    new_since,
    prediction_key,
    send_predictions_checked,
    send_rest,
    subtract,
)

LOCKED = ServerError("Label Studio failed with 500 while uploading: database is locked")


class FakeServer:
    """Holds predictions; ``fail`` lists what each import request does: "ok", "lost" (lands, then the answer is
    a 500, as when the counter update after the insert meets a lock), "half" (the first half lands, then a 500),
    "none" (nothing lands, a 500)."""

    def __init__(self, fail: list[str], existing: list[tuple[int, str]] = ()) -> None:
        self.fail, self.stored, self.requests = list(fail), Counter(existing), []

    def send(self, predictions: list[dict]) -> tuple[list[dict], dict]:
        self.requests.append(len(predictions))
        how = self.fail.pop(0) if self.fail else "ok"
        landing = {"ok": predictions, "lost": predictions, "half": predictions[: len(predictions) // 2], "none": []}
        self.stored.update(prediction_key(p) for p in landing[how])
        if how != "ok":
            raise LOCKED
        return predictions, {"created": len(predictions)}

    def counts(self, versions: set[str]) -> Counter:
        return Counter({k: n for k, n in self.stored.items() if k[1] in versions})


def _preds(tasks: range, version: str = "al-0002") -> list[dict]:
    return [{"task": t, "result": [], "score": 0.5, "model_version": version} for t in tasks]


@pytest.mark.parametrize(
    ("fail", "requests", "landed"),
    [
        (["none"], [6, 6], 0),  # nothing landed: everything again
        (["lost"], [6], 6),  # everything landed: nothing again
        (["half"], [6, 3], 3),  # half landed: only the other half
        (["half", "none", "lost"], [6, 3, 3], 6),  # several failures: still never a duplicate
    ],
)
def test_after_a_lock_only_the_predictions_not_yet_in_label_studio_are_sent(fail, requests, landed) -> None:
    server, sleeps = FakeServer(fail), []
    chunk = _preds(range(1, 7))
    got_landed, kept, created = send_predictions_checked(
        chunk, server.send, server.counts, Counter(), sleep=sleeps.append
    )
    assert server.requests == requests
    assert got_landed + created == 6 and got_landed == landed
    assert server.stored == Counter((t, "al-0002") for t in range(1, 7))  # exactly one per task
    assert sleeps == [backoff(i) for i in range(len(fail))]  # a wait before each check


def test_predictions_there_before_the_upload_do_not_count_as_landed() -> None:
    server = FakeServer(["none"], existing=[(1, "al-0002"), (2, "al-0001")])  # e.g. a re-run of the same version
    chunk = _preds(range(1, 4))
    landed, kept, created = send_predictions_checked(
        chunk, server.send, server.counts, server.counts({"al-0002"}), sleep=lambda s: None
    )
    assert (landed, len(kept), created) == (0, 3, 3)
    assert server.stored[(1, "al-0002")] == 2  # the one from before, and the one sent


def test_a_failure_that_is_not_a_lock_or_a_5xx_is_raised_at_once() -> None:
    def refused(predictions: list[dict]) -> tuple[list[dict], dict]:
        raise LabelStudioError("Label Studio answered 400 while uploading")

    with pytest.raises(LabelStudioError, match="answered 400"):
        send_rest(_preds(range(3)), refused, lambda: pytest.fail("no check after a refusal"), sleep=lambda s: None)


def test_the_last_failure_is_raised_after_every_attempt() -> None:
    server = FakeServer(["none"] * 10)
    with pytest.raises(ServerError, match="database is locked"):
        send_predictions_checked(_preds(range(4)), server.send, server.counts, Counter(), sleep=lambda s: None)
    assert server.requests == [4, 4, 4, 4] and not server.stored


def test_create_once_finds_what_a_lost_answer_created_and_does_not_create_it_again() -> None:
    made: list[int] = []

    def create() -> int:
        made.append(len(made) + 1)
        raise RequestTimeout("Label Studio did not answer in time")

    assert create_once(create, lambda: made[-1] if made else None, sleep=lambda s: None) == 1
    assert made == [1]


def test_create_once_creates_again_when_nothing_was_created() -> None:
    answers = iter([LOCKED, 42])

    def create() -> int:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert create_once(create, lambda: None, sleep=lambda s: None) == 42


def test_subtract_is_a_multiset_difference_in_order() -> None:
    items = ["a", "b", "a", "c", "a"]
    assert subtract(items, ["a", "c", "a"], key=str) == ["b", "a"]
    assert subtract([{"task": 1}, {"task": 2}], [(2, "undefined")], key=prediction_key) == [{"task": 1}]
    assert subtract(items, [], key=str) == items


def test_new_since_and_keys() -> None:
    assert sorted(new_since(Counter({"x": 3, "y": 1}), Counter({"x": 1, "y": 2}))) == ["x", "x"]
    assert prediction_key({"task": "5"}) == (5, "undefined")
    assert [backoff(i) for i in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
