"""Tests for al_core.store.history: typed records round-trip through SQLite files, and old databases migrate."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from al_core.errors import ConfigError, IterationLocked
from al_core.reports import charts, class_charts, version_summary
from al_core.store import schema
from al_core.store.history import History
from al_core.store.records import IterationCounts, StoredMetrics, StoredUncertainty
from tests.unit.store.old_schema import write_old_database
from tests.unit.store.test_records import engine_metrics, engine_uncertainty

ROOT = Path(__file__).resolve().parents[3]


LS = "http://127.0.0.1:8080"  # the Label Studio server these histories belong to


def test_a_running_iteration_reads_back_with_its_step(url: str) -> None:
    history = History(url, server=LS)
    started = history.start_iteration(1, None, {"strategy": "margin", "model": "tfidf-logreg"}, "manual")
    assert started.status == "running" and started.model_version == "al-0001" and started.n_labeled is None
    seen: list[str] = []
    report = history.step_recorder(started.id, lambda step, _f, _m: seen.append(step))
    report("read", 0.0, "Reading")
    report("read", 0.5, "Reading")
    report("train", 0.0, "Training")
    (running,) = History(url, server=LS).iterations(1)
    assert running.step == "train" and seen == ["read", "read", "train"]
    assert running.settings.strategy == "margin" and running.counts == IterationCounts()
    assert running.state_text().endswith("step train") and running.finished_at is None


def test_a_failed_iteration_keeps_its_error_and_timings(url: str) -> None:
    history = History(url, server=LS)
    started = history.start_iteration(1, None, {}, "webhook")
    history.finish_iteration(started.id, status="failed", error="boom", timings={"read": 1.5})
    (failed,) = history.iterations(1)
    assert failed.status == "failed" and failed.error == "boom" and failed.timings == {"read": 1.5}
    assert failed.metrics == StoredMetrics() and failed.n_labeled is None and failed.finished_at is not None
    assert history.succeeded(1) == []


def test_a_discarded_run_leaves_no_record_and_its_number_goes_to_the_next(url: str) -> None:
    history = History(url, server=LS)
    done = history.start_iteration(1, 5, {}, "manual")
    history.finish_iteration(done.id, status="succeeded")
    skipped = history.start_iteration(1, None, {}, "manual")
    assert history.discard_iteration(skipped.id) is True
    assert [it.model_version for it in history.iterations(1)] == ["al-0001-n5"]
    assert history.start_iteration(1, None, {}, "manual").model_version == "al-0002"
    assert history.discard_iteration(done.id) is False, "a finished iteration is never deleted"
    assert len(history.iterations(1)) == 2


def test_a_succeeded_iteration_stores_the_engine_dicts_as_typed_records(url: str) -> None:
    history = History(url, server=LS)
    started = history.start_iteration(1, None, {"strategy": "entropy"}, "manual")
    history.name_version(started.id, "al-0001-n45")
    counts = {"n_labeled": np.int64(45), "n_eval_labeled": 4, "cold_start": False, "multi_label": False}
    history.finish_iteration(
        started.id,
        status="succeeded",
        model_version="al-0001-n45",
        counts=counts,
        metrics=engine_metrics(),
        uncertainty=engine_uncertainty(),
        predictions_state="kept",
    )
    history.finish_iteration(started.id, status="succeeded", timings={"read": np.float32(0.5), "train": 2})
    record = history.get_iteration(1, "al-0001-n45")
    assert record is not None and record.n_labeled == 45 and record.counts.cold_start is False
    assert record.metrics == StoredMetrics.from_json(engine_metrics())
    assert record.uncertainty == StoredUncertainty.read(engine_uncertainty(), multi_label=False)
    assert record.timings == {"read": 0.5, "train": 2.0} and record.predictions_state == "kept"
    assert [r.model_version for r in history.succeeded(1)] == ["al-0001-n45"]


def test_multi_label_predictions_read_back_as_tuples_of_str(url: str) -> None:
    history = History(url, server=LS)
    started = history.start_iteration(1, 10, {}, "manual")
    uncertainty = {**engine_uncertainty(), "predicted_class_counts": {"a|b": 3, "b": 2}}
    history.finish_iteration(
        started.id, status="succeeded", counts={"n_labeled": 10, "multi_label": True}, uncertainty=uncertainty
    )
    (record,) = History(url, server=LS).iterations(1)
    assert record.multi_label is True
    assert record.uncertainty.predicted_class_counts == {("a", "b"): 3, ("b",): 2}
    assert all(isinstance(label, str) for labels in record.uncertainty.predicted_class_counts for label in labels)


# -- one database, several Label Studio servers (their project and task ids collide) -------------------------
OTHER = "https://ls.example.com"


def test_two_servers_sharing_a_database_each_have_their_own_project_1(url: str) -> None:
    mine, theirs = History(url, server=LS), History(url, server=OTHER + "/")
    done = mine.start_iteration(1, 20, {"control": "topic"}, "manual")
    mine.finish_iteration(done.id, status="succeeded")
    mine.save_eval_set(1, [5, 6, 7])
    mine.add_event(1, "rollback", {"to": "al-0001-n20"})
    mine.save_automation(1, every=3, settings={"control": "topic"})
    assert mine.count_annotation(1, 77, default_every=10) == (1, 3, True)

    assert theirs.server == OTHER and theirs.iterations(1) == [] and theirs.last_change(1) != mine.last_change(1)
    assert theirs.eval_set(1) == () and theirs.events(1) == [] and theirs.automation(1) is None
    assert theirs.count_annotation(1, 77, default_every=10) == (1, 10, True), "its own counter, its own N"
    assert theirs.start_iteration(1, 8, {}, "manual").model_version == "al-0001-n8", "its own numbering"
    theirs.save_eval_set(1, [1, 2])
    assert (mine.eval_set(1), theirs.eval_set(1)) == ((5, 6, 7), (1, 2))
    assert [r.model_version for r in mine.iterations(1)] == ["al-0001-n20"] and mine.automation(1).counted == 1  # type: ignore[union-attr]
    assert mine.get_iteration(1, "al-0001-n8") is None and mine.iterations(1)[0].server == LS

    with mine.run_lock(1, "a run on the first server"):
        assert theirs.lock_holder(1) is None
        with theirs.run_lock(1, "a run on the second server"):  # never "already running" for another server's
            assert mine.lock_holder(1).owner == "a run on the first server"  # type: ignore[union-attr]
            assert theirs.lock_holder(1).owner == "a run on the second server"  # type: ignore[union-attr]
        again = History(url, server=LS)
        with pytest.raises(IterationLocked, match="already running on project 1"), again.run_lock(1, "a second run"):
            pass
    assert mine.lock_holder(1) is None and theirs.lock_holder(1) is None


def test_a_history_refuses_another_servers_gateway_url(url: str) -> None:
    history = History(url, server=" http://127.0.0.1:8080/ ")
    assert history.server == LS
    history.check_server("http://127.0.0.1:8080")  # the same server, however it was written
    with pytest.raises(ConfigError, match="history of the Label Studio at http://127.0.0.1:8080 was given for"):
        history.check_server(OTHER)
    with pytest.raises(ConfigError, match="belongs to one Label Studio server"):
        History(url, server=" ")


def test_finish_iteration_rejects_a_field_it_does_not_store(url: str) -> None:
    history = History(url, server=LS)
    started = history.start_iteration(1, 3, {}, "manual")
    with pytest.raises(TypeError, match=r"unknown fields \['metric'\]"):
        history.finish_iteration(started.id, status="succeeded", metric={})


# -- a database written by the previous version ----------------------------------------------------------
def test_a_history_database_of_the_previous_version_opens_with_its_versions(url: str) -> None:
    write_old_database(url)
    history = History(url, server=LS)
    records = history.iterations(1)
    assert [(r.number, r.model_version, r.status) for r in records] == [
        (1, "al-0001-n3", "succeeded"),
        (2, "al-0002-n45", "succeeded"),
        (3, "al-0003-n60", "succeeded"),
        (4, "al-0004", "failed"),
        (5, "al-0005", "running"),
    ]
    cold, single, multi, failed, running = records
    assert cold.counts.cold_start is True and cold.metrics == StoredMetrics() and cold.n_labeled == 3
    assert single.n_labeled == 45 and single.metrics.accuracy == 0.75 and single.metrics.confusion[0] == (20, 5)
    assert single.counts.full_sync is True and single.settings.strategy == "margin" and single.timings["read"] == 1.25
    assert single.uncertainty.kappa is None and single.uncertainty.predicted_class_counts[("billing",)] == 300
    assert single.multi_label is False and single.counts.multi_label is False  # set by the migration
    assert multi.multi_label is True and multi.uncertainty.kappa == 0.93
    assert multi.uncertainty.predicted_class_counts == {("billing", "card"): 150, ("card",): 250}
    assert cold.counts.multi_label is None  # measured nothing: unknown
    assert failed.error and failed.state_text().startswith("failed: Label Studio") and failed.n_labeled is None
    assert running.n_labeled is None and running.step is None and running.state_text().startswith("running since")
    assert history.eval_set(1) == (3, 7, 11) and history.events(1)[0].detail == {"to": "al-0002"}
    assert history.automation(1).counted == 2  # type: ignore[union-attr]
    with create_engine(url).connect() as conn:
        assert schema.current(conn) == schema.head()


def test_reports_build_from_the_previous_versions_records(url: str) -> None:
    write_old_database(url)
    records = History(url, server=LS).iterations(1)
    s = version_summary.summary(records)
    assert s["latest"] == "al-0003-n60" and s["accuracy"] == 0.5 and s["previous"] == "al-0002-n45"
    assert s["n_labeled_delta"] == 15 and s["kappa"] == 0.93
    table = version_summary.versions_table(records)
    assert list(table["version"]) == ["al-0005", "al-0004", "al-0003-n60", "al-0002-n45", "al-0001-n3"]
    assert table["error"][0].startswith("running since") and table["labels"].isna()[0]
    assert list(charts.learning_curve(records).data[0].x) == [45, 60]
    heat = class_charts.confusion_matrix(records[2]).data[0]
    assert list(heat.x) == ["True negative", "False positive", "False negative", "True positive"]
    balance = class_charts.class_balance(records[2], ["billing", "card"]).data[1]
    assert list(balance.x) == pytest.approx([150 / 550, 400 / 550])


# -- several processes open one database at once -----------------------------------------------------------
_OPEN = """
import sys, time
from al_core.store.history import History
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
history = History(sys.argv[1], server="http://127.0.0.1:8080")
history.start_iteration(int(sys.argv[3]), None, {}, "manual")  # under a run lock per project in real use
"""


@pytest.mark.parametrize("old", [False, True], ids=["new", "previous-version"])
def test_two_processes_opening_one_database_at_once_both_succeed(url: str, old: bool) -> None:
    if old:
        write_old_database(url)
    at = str(time.time() + 4.0)  # both start their upgrade at the same moment, after importing
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _OPEN, url, at, str(project)], cwd=ROOT, stderr=subprocess.PIPE, text=True
        )
        for project in (2, 3)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    history = History(url, server=LS)
    assert [len(history.iterations(project)) for project in (1, 2, 3)] == [5 if old else 0, 1, 1]
    with create_engine(url).connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [schema.head()]


def test_last_change_moves_with_every_start_step_and_finish(url: str) -> None:
    history = History(url, server=LS)
    seen = [history.last_change(1)]
    started = history.start_iteration(1, None, {"strategy": "margin"}, "manual")
    seen.append(history.last_change(1))
    history.set_step(started.id, "train")
    seen.append(history.last_change(1))
    history.finish_iteration(started.id, status="succeeded", model_version="al-0001-n5")
    seen.append(history.last_change(1))
    history.set_predictions_state(1, "al-0001-n5", "pruned")
    seen.append(history.last_change(1))
    assert len(set(seen)) == len(seen), seen
    assert history.last_change(1) == seen[-1], "unchanged history, same key"
    history.start_iteration(2, None, {}, "manual")
    assert history.last_change(1) == seen[-1], "another project's runs do not change it"


def test_the_run_lock_admits_one_holder_per_project(url: str) -> None:
    first, second = History(url, server=LS), History(url, server=LS)  # two processes' views of one database
    with first.run_lock(1, "a teammate"):
        with pytest.raises(IterationLocked, match="started by a teammate"), second.run_lock(1, "me"):
            pass
        with second.run_lock(2, "me"):  # another project is free
            pass
    with second.run_lock(1, "me"):  # released
        pass
