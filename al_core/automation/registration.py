"""Automatic active learning: the webhook registration in Label Studio and the per-project settings
(N and the iteration settings) that the webhook receiver reads from the history store.

Everything the Active learning page offers (``IterationSettings``: model, strategy, diversity, predictions to
upload, evaluation-set size, the ``<Choices>`` to learn, versions kept) can be stored for automatic runs: by the
Automation page or ``python -m al_core automation``. A stored ``"model": null`` (``auto``) lets each run choose the
model by the number of classes, as an iteration given no model does; a stored name is that model. Settings and counters belong to one project of one Label
Studio server (the history's); the webhook carries that server in a header, so a receiver serving another
server refuses its calls instead of counting them for a project of the same id.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from al_core.context import IterationSettings
from al_core.errors import ConfigError
from al_core.labelstudio.gateway import Gateway, Webhook
from al_core.labelstudio.label_config import choices_controls, parse_label_config
from al_core.labelstudio.records import Project
from al_core.settings import server_slug
from al_core.store.history import Event, History
from al_core.validation import check_int

DEFAULT_EVERY = 10  # an automatic iteration after this many new annotations, until a project chooses its own
SECRET_HEADER = "X-AL-Secret"  # the header carrying the shared secret of Label Studio's webhook calls
SERVER_HEADER = "X-AL-Server"  # the header naming the Label Studio server the webhook was registered on
# What automatic runs can be told (``model_by_classes`` is not a choice: each run records why its model was chosen).
_NOT_STORED = {"trigger", "model_params", "random_state", "model_by_classes"}
STORED = tuple(f.name for f in fields(IterationSettings) if f.name not in _NOT_STORED)


@dataclass(frozen=True)
class AutomationState:
    """What the Automation section shows for one project."""

    every: int
    settings: dict[str, Any]
    counted: int  # annotations counted since the last automatic run started
    webhooks: tuple[Webhook, ...]  # our webhooks registered in Label Studio for this project
    triggers: tuple[Event, ...]  # recent automatic runs and their outcome, newest first


def state(gateway: Gateway, history: History, project_id: int, receiver_url: str) -> AutomationState:
    history.check_server(gateway.url)
    row = history.automation(project_id)
    hooks = tuple(h for h in gateway.list_webhooks(project_id) if h.url == receiver_url)
    return AutomationState(
        every=row.every if row else DEFAULT_EVERY,
        settings=dict(row.settings or {}) if row else {},
        counted=row.counted if row else 0,
        webhooks=hooks,
        triggers=tuple(history.events(project_id, "trigger", limit=20)),
    )


def save_settings(history: History, project_id: int, *, every: int, settings: dict[str, Any]) -> None:
    """N and the iteration settings (model, strategy, upload_top, ..., control) used by automatic runs; each
    is checked as an iteration would check it (ConfigError), an empty ``control`` is stored as none."""
    check_int("every", every, 1)
    unknown = sorted(set(settings) - set(STORED))
    if unknown:
        raise ConfigError(f"Automatic runs have no setting {', '.join(unknown)}; they have {', '.join(STORED)}.")
    IterationSettings.from_json(settings)
    if "control" in settings:  # "" (a cleared choice) is no choice
        settings = {**settings, "control": settings["control"] or None}
    history.save_automation(project_id, every=every, settings=settings)


def update_settings(history: History, project: Project, *, every: int | None, chosen: dict[str, Any]) -> None:
    """Store ``chosen`` over the project's stored settings (and N when given): ``automation`` on the command
    line. A ``control`` must name a ``<Choices>`` of the project's labeling config (LabelConfigError)."""
    stored = history.automation(project.id)
    settings = {k: v for k, v in (stored.settings if stored else {}).items() if k in STORED} | chosen
    if settings.get("control"):
        parse_label_config(project.label_config, settings["control"])
    every = every if every is not None else stored.every if stored else DEFAULT_EVERY
    save_settings(history, project.id, every=every, settings=settings)


def needs_control(project: Project, settings: dict[str, Any]) -> list[str]:
    """The ``<Choices>`` names to choose from when the config has several and ``settings`` chose none (an
    automatic run would fail), else an empty list."""
    controls = list(choices_controls(project.label_config))
    return controls if len(controls) > 1 and not settings.get("control") else []


def register(gateway: Gateway, project_id: int, receiver_url: str, secret: str) -> Webhook:
    """Register (or re-register) the receiver's webhook on the project, with the secret and server headers."""
    if not secret:
        raise ConfigError("No webhook secret: set AL_WEBHOOK_SECRET (make run generates one in .data/).")
    remove(gateway, project_id, receiver_url)
    headers = {SECRET_HEADER: secret, SERVER_HEADER: server_slug(gateway.url)}
    return gateway.create_webhook(project_id, receiver_url, headers=headers)


def remove(gateway: Gateway, project_id: int, receiver_url: str) -> int:
    """Remove our webhooks from the project; returns how many were removed."""
    hooks = [h for h in gateway.list_webhooks(project_id) if h.url == receiver_url]
    for hook in hooks:
        gateway.delete_webhook(hook.id)
    return len(hooks)
