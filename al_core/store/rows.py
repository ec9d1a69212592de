"""The history database's tables (SQLAlchemy ORM), private to ``al_core.store``.

Readers outside the store get typed records (``al_core.store.records``), never these rows. The schema is
created and upgraded by the Alembic migrations in ``al_core/store/migrations`` (a change here needs one there).

Every row belongs to one project of one Label Studio server: ``server`` is the server's key
(``settings.server_key``, its normalized URL) and is part of every key, since project and task ids are only
unique within a server. ``""`` marks a row of a history written before servers were stored and not yet
attached to one (see migration 0005 and ``History``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SERVER_LENGTH = 500  # a server key is a URL
UNATTACHED = ""  # the server of a row written before servers were stored, until a server claims it


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class IterationRow(Base):
    __tablename__ = "iterations"
    __table_args__ = (UniqueConstraint("server", "project_id", "model_version", name="uq_iterations_server_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server: Mapped[str] = mapped_column(String(SERVER_LENGTH), server_default=UNATTACHED)
    project_id: Mapped[int] = mapped_column(Integer, index=True)
    number: Mapped[int] = mapped_column(Integer)
    model_version: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20))  # running | succeeded | failed
    trigger: Mapped[str] = mapped_column(String(40), default="manual")
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    uncertainty: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    artifact_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    predictions_state: Mapped[str] = mapped_column(String(20), default="none")  # none|kept|pruned|pruning
    step: Mapped[str | None] = mapped_column(String(40), nullable=True)  # the step a running iteration is on


class EvalTaskRow(Base):
    __tablename__ = "eval_tasks"
    server: Mapped[str] = mapped_column(String(SERVER_LENGTH), primary_key=True, server_default=UNATTACHED)
    project_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_server_project", "server", "project_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server: Mapped[str] = mapped_column(String(SERVER_LENGTH), server_default=UNATTACHED)
    project_id: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))  # rollback | prune | trigger | ...
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AutomationRow(Base):
    __tablename__ = "automation"
    server: Mapped[str] = mapped_column(String(SERVER_LENGTH), primary_key=True, server_default=UNATTACHED)
    project_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    every: Mapped[int] = mapped_column(Integer, default=10)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    counted: Mapped[int] = mapped_column(Integer, default=0)
    seen: Mapped[list[Any]] = mapped_column(JSON, default=list)  # recent annotation ids, for duplicates


class LockRow(Base):
    __tablename__ = "run_locks"
    server: Mapped[str] = mapped_column(String(SERVER_LENGTH), primary_key=True, server_default=UNATTACHED)
    project_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    acquired_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ReviewRow(Base):
    """A likely label error a person reviewed (Label issues page): hidden while the task keeps that label."""

    __tablename__ = "label_reviews"
    server: Mapped[str] = mapped_column(String(300), primary_key=True)  # the Label Studio URL: ids are per server
    project_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(Text)  # the given label when reviewed ("|"-joined for several)
    reviewed_by: Mapped[str] = mapped_column(String(200), default="")
    reviewed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
