"""What of an iteration is testable without a server: names, settings, defaults, the reads of earlier versions."""

from __future__ import annotations

import numpy as np
import pytest

from al_core.iteration import Earlier, _before, _earlier, version_name
from al_core.learning.scoring import Before
from al_core.store import versions
from al_core.store.history import History


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("AL_DATA_DIR", str(tmp_path))
    return tmp_path


def test_version_names_sort_in_order_and_say_the_labels() -> None:
    assert version_name(7, 350) == "al-0007-n350"
    assert sorted([version_name(10, 5), version_name(9, 900)]) == ["al-0009-n900", "al-0010-n5"]


def _succeed(history: History, project_id: int, version: str, kappa: float | None) -> None:
    record = history.start_iteration(project_id, None, {}, "manual")
    history.finish_iteration(record.id, status="succeeded", model_version=version, uncertainty={"kappa": kappa})


def test_earlier_reads_succeeded_versions_and_kappas_oldest_first(data_dir) -> None:
    history = History(f"sqlite:///{data_dir / 'history.sqlite'}")
    _succeed(history, 1, "al-0001-n0", None)
    failed = history.start_iteration(1, None, {}, "manual")
    history.finish_iteration(failed.id, status="failed", error="boom")
    _succeed(history, 1, "al-0003-n40", 0.7)
    _succeed(history, 2, "al-0001-n9", 0.1)  # another project
    earlier = _earlier(history, 1)
    assert earlier.versions == ("al-0001-n0", "al-0003-n40") and earlier.kappas == (None, 0.7)


def test_before_takes_the_latest_version_that_scored_a_pool(data_dir) -> None:
    def save(version: str, predicted: tuple[str, ...]) -> None:
        pool = versions.PoolPredictions(np.array([5, 6]), predicted, np.array([1, 2]))
        versions.save_pool_predictions(3, version, pool)

    save("al-0002-n10", ("a", "b"))
    save("al-0003-n20", ("b", "b"))
    # al-0004 was a cold start (no pool file): the comparison is with al-0003.
    before = _before(3, Earlier(("al-0001-n0", "al-0002-n10", "al-0003-n20", "al-0004-n0"), (None, None, 0.5, None)))
    assert before.predicted == {5: "b", 6: "b"} and before.labeled_ids == frozenset({1, 2})
    assert before.kappas == (None, None, 0.5, None)
    assert _before(3, Earlier(("al-0001-n0",), (None,))) == Before(kappas=(None,))
