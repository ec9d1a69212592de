"""Automation: Label Studio's webhooks trigger an iteration after every N new annotations.

Every setting the Active learning page offers is stored here for automatic runs (the receiver reads them):
model, strategy, diversity, predictions to upload, the evaluation-set size (until the set is drawn) and, when
the labeling config has several ``<Choices>``, the one the model learns.
"""

from __future__ import annotations

import httpx
import pandas as pd
import streamlit as st

from al_core import settings
from al_core.automation import registration as automation
from al_core.automation.receiver import MAX_WAIT_SECONDS, QUIET_SECONDS
from al_core.context import (
    MODEL_BY_CLASSES,
    MODEL_RULE,
    default_of,
    model_choice,
    model_choices,
    model_label,
    model_setting,
)
from al_core.errors import ALError
from al_core.labelstudio.label_config import choices_controls
from al_core.labelstudio.records import Project
from al_core.learning import evaluation, strategies
from al_core.store.history import History
from ui import activity, services
from ui.common import md, need_connection, need_project

W_EVERY, W_MODEL, W_STRATEGY, W_TOP = "w_auto_every", "w_auto_model", "w_auto_strategy", "w_auto_top"
W_DIVERSITY, W_EVAL_SIZE, W_CONTROL = "w_auto_diversity", "w_auto_eval_size", "w_auto_control"
W_SAVE, W_REGISTER, W_REMOVE = "w_auto_save", "w_auto_register", "w_auto_remove"
W_DASK = "w_auto_dask_scheduler"


def _seconds(value: float) -> str:
    return f"{value / 60:g} min" if value >= 60 else f"{value:g} seconds"


@st.cache_data(ttl=30, show_spinner=False)
def receiver_serves_another_server(receiver_url: str, server_url: str) -> bool:
    """True when the receiver answers ``/health`` for another Label Studio server than this tab's (its
    webhooks from this server would be refused); False when it serves this one or cannot be asked."""
    health = receiver_url.rsplit("/webhook", 1)[0] + "/health"
    try:
        served = httpx.get(health, timeout=1).json().get("server")
    except (httpx.HTTPError, ValueError, AttributeError):
        return False
    return bool(served) and served != settings.server_slug(server_url)


def settings_form(history: History, project: Project, current: automation.AutomationState, eval_size_now: int) -> None:
    """N and every setting of the Active learning page, stored for the receiver's runs."""
    stored = current.settings
    with st.form("automation_settings"):
        every = st.number_input("Iterate after every N new annotations", 1, 10_000, current.every, key=W_EVERY)
        names = model_choices()
        chosen_model = model_choice(stored.get("model", default_of("model")))  # a stored null: auto
        model = st.selectbox(
            "Model",
            names,
            index=names.index(chosen_model) if chosen_model in names else 0,
            format_func=model_label,
            key=W_MODEL,
        )
        if model == MODEL_BY_CLASSES:
            st.caption(f"Each automatic run chooses its model {MODEL_RULE}.")
        chosen_strategy = stored.get("strategy", default_of("strategy"))
        strategy = st.selectbox(
            "Query strategy",
            strategies.STRATEGIES,
            index=list(strategies.STRATEGIES).index(chosen_strategy),
            key=W_STRATEGY,
        )
        diversity = st.checkbox(
            "Diversity-aware batch order", value=bool(stored.get("diversity", default_of("diversity"))), key=W_DIVERSITY
        )
        top = st.number_input(
            "Predictions to upload (0 = every unlabeled task)",
            0,
            1_000_000,
            int(stored.get("upload_top", default_of("upload_top"))),
            key=W_TOP,
        )
        chosen = {"model": model_setting(model), "strategy": strategy, "diversity": diversity, "upload_top": int(top)}
        if not eval_size_now:  # the first iteration draws the set: an automatic one uses this size
            size = stored.get("eval_size")
            size = evaluation.default_eval_size(project.task_number) if size is None else int(size)
            chosen["eval_size"] = int(
                st.number_input("Evaluation-set size", 0, max(project.task_number, size, 0), size, key=W_EVAL_SIZE)
            )
        else:
            chosen["eval_size"] = stored.get("eval_size")
        controls = choices_controls(project.label_config)
        if len(controls) > 1:
            remembered = stored.get("control")
            chosen["control"] = st.selectbox(
                "Which <Choices> the model learns",
                controls,
                index=controls.index(remembered) if remembered in controls else 0,
                key=W_CONTROL,
            )
        dask_scheduler = st.text_input(
            "Dask scheduler (optional)",
            str(stored.get("dask_scheduler") or ""),
            placeholder="tcp://HOST:PORT (empty: AL_DASK_SCHEDULER or the receiver's machine)",
            key=W_DASK,
        ).strip()
        if dask_scheduler:  # empty: not stored, so the receiver's AL_DASK_SCHEDULER (or its own process) applies
            chosen["dask_scheduler"] = dask_scheduler
        if st.form_submit_button("Save", key=W_SAVE):
            try:
                automation.save_settings(history, project.id, every=int(every), settings=chosen)
                st.success("Saved: the receiver uses these settings from the next trigger on.")
            except ALError as err:
                st.error(str(err))


def burst_note() -> str:
    """How a burst of labels becomes one run, with the receiver's own numbers."""
    return (
        f"A burst of labels makes one run, not many: after the N-th annotation the receiver waits until "
        f"{_seconds(QUIET_SECONDS)} pass without a new one (at the latest {_seconds(MAX_WAIT_SECONDS)} after "
        "the N-th), then retrains once on everything labeled so far."
    )


st.title("Automation")
st.caption(
    "Annotators should not wait for someone to click: after every N new annotations the receiver retrains "
    "and Label Studio's queue re-orders by itself. One run at a time per project; annotations that arrive "
    "during a run count toward the next one."
)
st.caption(burst_note())
conn = need_connection("automation")
project = need_project(conn, "automation")
gw, history = services.gateway(conn), services.history(conn)
receiver_url = settings.webhook_url()
activity.banner(conn, project.id)

try:
    current = automation.state(gw, history, project.id, receiver_url)
    eval_size_now = len(history.eval_set(project.id))
    missing_control = automation.needs_control(project, current.settings)
except ALError as err:
    st.error(str(err))
    st.stop()

left, right = st.columns(2)
with left:
    st.subheader("Settings for automatic runs")
    if missing_control:
        st.warning(
            f"This labeling config has several <Choices> ({md(', '.join(missing_control))}): choose the one the "
            "model learns and save, or automatic runs fail."
        )
    settings_form(history, project, current, eval_size_now)
    st.metric(
        "Annotations counted since the last automatic run", current.counted, help=f"A run starts at {current.every}."
    )

with right:
    st.subheader("Webhook in Label Studio")
    st.markdown("Receiver (started by `make run`; the secret is sent in the `X-AL-Secret` header):")
    st.code(receiver_url, language=None)  # shown as typed: markdown escapes would show up inside a code span
    if current.webhooks:
        st.success(f"Registered on project {project.id} (webhook #{current.webhooks[0].id}).")
        if st.button("Remove the webhook", key=W_REMOVE):
            try:
                automation.remove(gw, project.id, receiver_url)
                st.rerun()
            except ALError as err:
                st.error(str(err))
    else:
        st.info("Not registered: Label Studio does not call the receiver for this project yet.")
        if st.button("Register the webhook", type="primary", key=W_REGISTER):
            try:
                automation.register(gw, project.id, receiver_url, settings.webhook_secret() or "")
                st.rerun()
            except ALError as err:
                st.error(str(err))
    if receiver_serves_another_server(receiver_url, conn.url):
        st.warning(
            f"The receiver at {md(receiver_url)} serves another Label Studio server: it refuses webhooks from "
            f"{md(conn.url)}. Run a receiver connected to this server (`python -m al_core serve-webhooks --url ...`) "
            "and set AL_WEBHOOK_URL to it."
        )
    st.caption(
        "A local Label Studio started by `make run` accepts webhooks to 127.0.0.1. A remote one refuses "
        "loopback addresses (SSRF protection): run the receiver where it can reach it and set AL_WEBHOOK_URL."
    )

st.subheader("Recent automatic runs")
if not current.triggers:
    first = "Label tasks" if current.webhooks else "Register the webhook, then label tasks"
    st.info(
        f"No automatic run yet. {first} in Label Studio ('Label All Tasks'): a run starts after {current.every} new annotations."
    )
else:
    rows = [
        {
            "at (UTC)": e.at.strftime("%Y-%m-%d %H:%M:%S"),
            "outcome": e.detail.get("outcome", ""),
            "model version": e.detail.get("model_version", ""),
            "labels": e.detail.get("n_labeled"),
            "annotations": e.detail.get("annotations"),
            "seconds": e.detail.get("seconds"),
            "error": e.detail.get("error", ""),
        }
        for e in current.triggers
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
