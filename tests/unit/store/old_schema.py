"""A history database as the previous version of the dashboard wrote it (before typed records and migrations),
and (``write_database_before_servers``) as the version before servers were stored left it (revision 0002).

The tables mirror that version's ORM rows (``al_core/history.py`` at commit acfaf07) in SQLAlchemy Core, and
the rows hold what its engine stored: a cold start, a succeeded single-label version, a succeeded multi-label
version, a failed iteration and a running one (``counts={"n_labeled": None}``, the value that crashed readers).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, Text, UniqueConstraint, create_engine

metadata = MetaData()
iterations = Table(
    "iterations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, index=True, nullable=False),
    Column("number", Integer, nullable=False),
    Column("model_version", String(120), nullable=False),
    Column("status", String(20), nullable=False),
    Column("trigger", String(40), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=True),
    Column("settings", JSON, nullable=False),
    Column("counts", JSON, nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("uncertainty", JSON, nullable=False),
    Column("timings", JSON, nullable=False),
    Column("error", Text, nullable=True),
    Column("artifact_path", Text, nullable=True),
    Column("predictions_state", String(20), nullable=False),
    UniqueConstraint("project_id", "model_version"),
)
eval_tasks = Table(
    "eval_tasks",
    metadata,
    Column("project_id", Integer, primary_key=True),
    Column("task_id", Integer, primary_key=True),
)
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, index=True, nullable=False),
    Column("at", DateTime, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("detail", JSON, nullable=False),
)
automation = Table(
    "automation",
    metadata,
    Column("project_id", Integer, primary_key=True),
    Column("every", Integer, nullable=False),
    Column("settings", JSON, nullable=False),
    Column("counted", Integer, nullable=False),
    Column("seen", JSON, nullable=False),
)
run_locks = Table(
    "run_locks",
    metadata,
    Column("project_id", Integer, primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("acquired_at", DateTime, nullable=False),
    Column("heartbeat_at", DateTime, nullable=False),
)

SETTINGS = {
    "model": "tfidf-logreg",
    "model_params": {},
    "strategy": "margin",
    "diversity": True,
    "upload_top": 1000,
    "eval_size": None,
    "eval_every": 5,
    "keep_versions": 3,
    "random_state": 0,
    "control": None,
    "trigger": "manual",
}
READ_COUNTS = {
    "n_tasks": 500,
    "n_eval": 50,
    "n_unlabeled": 400,
    "skipped": 1,
    "unknown_labels": 0,
    "missing_text": 0,
    "ground_truth_used": 0,
    "tasks_fetched": 500,
    "full_sync": True,
}
UNCERTAINTY = {
    "n": 400,
    "quantiles": {"p05": 0.05, "p25": 0.2, "p50": 0.4, "p75": 0.6, "p95": 0.9},
    "histogram_counts": [20] * 20,
    "histogram_edges": [i / 20 for i in range(21)],
    "top_probability_quantiles": {"p05": 0.4, "p25": 0.5, "p50": 0.7, "p75": 0.8, "p95": 0.95},
    "mean_normalized_entropy": 0.42,
}


def _iteration(number: int, status: str, **values: object) -> dict:
    row = {
        "project_id": 1,
        "number": number,
        "model_version": f"al-{number:04d}",
        "status": status,
        "trigger": "manual",
        "started_at": datetime(2025, 3, 1, 9 + number),
        "finished_at": datetime(2025, 3, 1, 9 + number, 2) if status != "running" else None,
        "settings": SETTINGS,
        "counts": {"n_labeled": None},
        "metrics": {},
        "uncertainty": {},
        "timings": {},
        "error": None,
        "artifact_path": None,
        "predictions_state": "none",
    }
    return {**row, **values}


def rows() -> list[dict]:
    timings = {"read": 1.25, "labels": 0.1, "train": 2.0, "evaluate": 0.2, "score": 1.0, "upload": 3.0}
    counts = {"n_scored": 400, "n_predictions": 400, "cold_start": False}
    single = {
        "n_eval": 40,
        "accuracy": 0.75,
        "macro_f1": 0.7,
        "per_class_f1": {"billing": 0.8, "card": 0.6},
        "labels": ["billing", "card"],
        "confusion": [[20, 5], [5, 10]],
        "cv_accuracy": 0.8,
        "train_class_counts": {"billing": 30, "card": 15},
        "live_agreement": None,
        "n_live": 0,
    }
    multi = {
        "n_eval": 10,
        "accuracy": 0.5,
        "macro_f1": 0.6,
        "per_class_f1": {"billing": 0.7, "card": 0.5},
        "labels": ["billing", "card"],
        "confusion": [[4, 1, 1, 4], [5, 2, 1, 2]],
        "cv_accuracy": None,
        "train_class_counts": {"billing": 40, "card": 20},
        "live_agreement": 0.6,
        "n_live": 5,
    }
    stable = {"changed_share": 0.05, "kappa": 0.93, "consider_stopping": False}
    return [
        _iteration(
            1,
            "succeeded",
            model_version="al-0001-n3",
            counts={**READ_COUNTS, "n_labeled": 3, "n_eval_labeled": 0, "n_scored": 0, "n_predictions": 50}
            | {"cold_start": True},
            timings=timings,
            predictions_state="pruned",
        ),
        _iteration(
            2,
            "succeeded",
            model_version="al-0002-n45",
            counts={**READ_COUNTS, **counts, "n_labeled": 45, "n_eval_labeled": 40},
            metrics=single,
            uncertainty={**UNCERTAINTY, "changed_share": None, "kappa": None, "consider_stopping": False}
            | {"predicted_class_counts": {"billing": 300, "card": 100}},
            timings=timings,
            artifact_path="/old/al-0002-n45/model.joblib",
            predictions_state="kept",
        ),
        _iteration(
            3,
            "succeeded",
            model_version="al-0003-n60",
            counts={**READ_COUNTS, **counts, "n_labeled": 60, "n_eval_labeled": 10},
            metrics=multi,
            uncertainty={**UNCERTAINTY, **stable, "predicted_class_counts": {"billing|card": 150, "card": 250}},
            timings=timings,
            artifact_path="/old/al-0003-n60/model.joblib",
            predictions_state="kept",
        ),
        _iteration(4, "failed", error="Label Studio at http://localhost:8080 does not answer.", timings={"read": 30.0}),
        _iteration(5, "running"),
    ]


def write_old_database(url: str) -> None:
    """Create the previous version's tables and rows at ``url``."""
    engine = create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(iterations.insert(), rows())
        conn.execute(eval_tasks.insert(), [{"project_id": 1, "task_id": t} for t in (7, 3, 11)])
        at = datetime(2025, 3, 1, 12)
        conn.execute(events.insert(), [{"project_id": 1, "at": at, "kind": "rollback", "detail": {"to": "al-0002"}}])
        conn.execute(automation.insert(), [{"project_id": 1, "every": 7, "settings": {}, "counted": 2, "seen": [5]}])
    engine.dispose()


def write_database_before_servers(url: str, revision: str = "0002") -> None:
    """A database as the version before servers were stored left it: the previous version's rows, upgraded to
    ``revision`` (0002: the schema that version created and wrote; 0004: with the label reviews table, as the
    release before 0005 left it), and the run lock of a run that was going on."""
    from alembic import command

    from al_core.store import schema

    write_old_database(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        command.stamp(schema._config(conn), schema.BASELINE)
        command.upgrade(schema._config(conn), revision)
        at = datetime(2025, 3, 1, 12)
        lock = {"project_id": 1, "owner": "a run", "host": "h", "pid": 1, "acquired_at": at, "heartbeat_at": at}
        conn.execute(run_locks.insert(), [lock])
    engine.dispose()
