"""What a project's earlier versions say to a new run: the reads, the version compared with, the kappas the
stopping rule reads (one per change of labels), whether anything changed, whether the evaluation sample is random."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from al_core.earlier import Earlier, before, eval_sample, read_earlier, stopping_kappas, unchanged_since
from al_core.learning.scoring import Before
from al_core.store import versions
from al_core.store.history import History
from al_core.store.records import IterationCounts, IterationRecord

SERVER = "http://127.0.0.1:8080"


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("AL_DATA_DIR", str(tmp_path))
    return tmp_path


def _succeed(history: History, project_id: int, version: str, kappa: float | None) -> None:
    record = history.start_iteration(project_id, None, {}, "manual")
    history.finish_iteration(record.id, status="succeeded", model_version=version, uncertainty={"kappa": kappa})


def test_earlier_reads_succeeded_versions_and_kappas_oldest_first(data_dir) -> None:
    history = History(f"sqlite:///{data_dir / 'history.sqlite'}", server=SERVER)
    _succeed(history, 1, "al-0001-n0", None)
    failed = history.start_iteration(1, None, {}, "manual")
    history.finish_iteration(failed.id, status="failed", error="boom")
    _succeed(history, 1, "al-0003-n40", 0.7)
    _succeed(history, 2, "al-0001-n9", 0.1)  # another project
    _succeed(History(history.url, server="https://ls.example.com"), 1, "al-0001-n7", 0.2)  # another server's 1
    earlier = read_earlier(history, 1)
    assert earlier.versions == ("al-0001-n0", "al-0003-n40") and earlier.kappas == (None, 0.7)


def test_before_takes_the_latest_version_that_scored_a_pool(data_dir) -> None:
    def save(version: str, predicted: tuple[str, ...]) -> None:
        pool = versions.PoolPredictions(np.array([5, 6]), predicted, np.array([1, 2]))
        versions.save_pool_predictions(SERVER, 3, version, pool)

    save("al-0002-n10", ("a", "b"))
    save("al-0003-n20", ("b", "b"))
    # al-0004 was a cold start (no pool file): the comparison is with al-0003.
    compared = before(
        SERVER, 3, Earlier(("al-0001-n0", "al-0002-n10", "al-0003-n20", "al-0004-n0"), (None, None, 0.5, None))
    )
    assert compared.predicted == {5: "b", 6: "b"} and compared.labeled_ids == frozenset({1, 2})
    assert compared.kappas == (None, None, 0.5, None)
    assert before(SERVER, 3, Earlier(("al-0001-n0",), (None,))) == Before(kappas=(None,))
    assert before("http://another:8080", 3, Earlier(("al-0003-n20",), (0.5,))) == Before(kappas=(0.5,)), "its own"


def record(n: int, fingerprint: str | None, *, order: str | None = "random", eval_labeled: int = 0, tasks: int = 100):
    counts = IterationCounts(
        n_tasks=tasks, label_fingerprint=fingerprint, eval_order=order, n_eval_labeled=eval_labeled
    )
    return IterationRecord(n, 1, n, f"al-{n:04d}", "succeeded", "manual", datetime(2026, 1, 1), counts=counts)


def earlier_of(*pairs: tuple[str | None, float | None]) -> Earlier:
    records = tuple(record(i + 1, fp) for i, (fp, _) in enumerate(pairs))
    return Earlier(tuple(r.model_version for r in records), tuple(k for _, k in pairs), records)


def test_a_re_run_on_the_same_labels_adds_no_pair_to_the_stopping_rule():
    # al-0003 re-learned al-0002's labels (kappa 1.0 with itself): not a stable pair
    earlier = earlier_of(("A", None), ("B", 0.9), ("B", 1.0), ("C", 0.95))
    assert stopping_kappas(earlier, "D") == (None, 0.9, 0.95)
    assert stopping_kappas(earlier, "C") == (None, 0.9), "a re-run of C replaces C's kappa"
    assert stopping_kappas(earlier_of(("A", None), ("A", 1.0)), "A") == ()
    assert stopping_kappas(earlier_of(("A", None), ("A", 1.0)), "B") == (None,)


def test_versions_without_a_fingerprint_each_count():
    earlier = earlier_of((None, None), (None, 0.99), (None, 0.99))
    assert stopping_kappas(earlier, "X") == (None, 0.99, 0.99)
    assert stopping_kappas(Earlier(("a", "b"), (None, 0.5)), None) == (None, 0.5)


def test_a_re_run_is_compared_with_the_version_before_its_labels(data_dir) -> None:
    for version, predicted in (("al-0001", ("a", "a")), ("al-0002", ("a", "b")), ("al-0003", ("a", "b"))):
        pool = versions.PoolPredictions(np.array([5, 6]), predicted, np.array([1]))
        versions.save_pool_predictions(SERVER, 1, version, pool)
    earlier = earlier_of(("A", None), ("B", 0.5), ("B", 1.0))
    assert before(SERVER, 1, earlier, "B").predicted == {5: "a", 6: "a"}, "al-0001: the last one on other labels"
    assert before(SERVER, 1, earlier, "B").kappas == (None,)
    assert before(SERVER, 1, earlier, "C").predicted == {5: "a", 6: "b"} and before(SERVER, 1, earlier, "C").kappas == (
        None,
        0.5,
    )


def test_unchanged_since_matches_only_the_last_version_with_the_same_labels_and_tasks():
    earlier = Earlier(("al-0001", "al-0002"), (None, None), (record(1, "A"), record(2, "B")))
    assert unchanged_since(earlier, "B", 100).model_version == "al-0002"
    assert unchanged_since(earlier, "A", 100) is None, "only the last version counts"
    assert unchanged_since(earlier, "B", 150) is None, "new tasks were imported: re-plan"
    assert unchanged_since(Earlier((), ()), "B", 100) is None
    legacy = Earlier(("al-0001",), (None,), (record(1, None),))
    assert unchanged_since(legacy, "B", 100) is None, "recorded before fingerprints: re-planned once"


def test_the_evaluation_sample_is_random_only_when_every_label_came_from_the_random_order():
    def of(*records: IterationRecord) -> Earlier:
        return Earlier(tuple(r.model_version for r in records), (None,) * len(records), records)

    assert eval_sample(of(), 10) == "random", "a new project"
    assert eval_sample(of(record(1, "A"), record(2, "B", eval_labeled=4)), 10) == "random"
    old = record(1, None, order=None)
    assert eval_sample(of(old), 0) == "random", "no evaluation label was served by the old queue"
    assert eval_sample(of(old), 6) == "biased", "these 6 were served in the strategy's order"
    assert eval_sample(of(old, record(2, "B", eval_labeled=6)), 20) == "biased", "and they are still measured on"
    assert eval_sample(of(old, record(2, "B", eval_labeled=0)), 20) == "random"
