"""Automatic active learning: the webhook registration in Label Studio and the per-project settings
(N and the iteration settings) that the webhook receiver reads from the history store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from al_core.errors import ConfigError
from al_core.labelstudio.gateway import Gateway, Webhook
from al_core.store.history import Event, History
from al_core.validation import check_int

DEFAULT_EVERY = 10  # an automatic iteration after this many new annotations, until a project chooses its own
SECRET_HEADER = "X-AL-Secret"  # the header carrying the shared secret of Label Studio's webhook calls


@dataclass(frozen=True)
class AutomationState:
    """What the Automation section shows for one project."""

    every: int
    settings: dict[str, Any]
    counted: int  # annotations counted since the last automatic run started
    webhooks: tuple[Webhook, ...]  # our webhooks registered in Label Studio for this project
    triggers: tuple[Event, ...]  # recent automatic runs and their outcome, newest first


def state(gateway: Gateway, history: History, project_id: int, receiver_url: str) -> AutomationState:
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
    """N and the iteration settings (model, strategy, upload_top, ...) used by automatic runs."""
    check_int("every", every, 1)
    history.save_automation(project_id, every=every, settings=settings)


def register(gateway: Gateway, project_id: int, receiver_url: str, secret: str) -> Webhook:
    """Register (or re-register) the receiver's webhook on the project, with the secret header."""
    if not secret:
        raise ConfigError("No webhook secret: set AL_WEBHOOK_SECRET (make run generates one in .data/).")
    remove(gateway, project_id, receiver_url)
    return gateway.create_webhook(project_id, receiver_url, headers={SECRET_HEADER: secret})


def remove(gateway: Gateway, project_id: int, receiver_url: str) -> int:
    """Remove our webhooks from the project; returns how many were removed."""
    hooks = [h for h in gateway.list_webhooks(project_id) if h.url == receiver_url]
    for hook in hooks:
        gateway.delete_webhook(hook.id)
    return len(hooks)
