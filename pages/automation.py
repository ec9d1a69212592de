"""Automation: Label Studio's webhooks trigger an iteration after every N new annotations."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from al_core import settings
from al_core.automation import registration as automation
from al_core.automation.receiver import MAX_WAIT_SECONDS, QUIET_SECONDS
from al_core.compute.engine import check_scheduler
from al_core.context import default_of
from al_core.errors import ALError
from al_core.learning import models, strategies
from ui import activity, services
from ui.common import need_connection, need_project

W_EVERY, W_MODEL, W_STRATEGY, W_TOP = "w_auto_every", "w_auto_model", "w_auto_strategy", "w_auto_top"
W_SAVE, W_REGISTER, W_REMOVE = "w_auto_save", "w_auto_register", "w_auto_remove"
W_DASK = "w_auto_dask_scheduler"


def _seconds(value: float) -> str:
    return f"{value / 60:g} min" if value >= 60 else f"{value:g} seconds"


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
gw, history = services.gateway(conn), services.history()
receiver_url = settings.webhook_url()
activity.banner(project.id)

try:
    current = automation.state(gw, history, project.id, receiver_url)
except ALError as err:
    st.error(str(err))
    st.stop()

left, right = st.columns(2)
with left:
    st.subheader("Settings for automatic runs")
    with st.form("automation_settings"):
        every = st.number_input("Iterate after every N new annotations", 1, 10_000, current.every, key=W_EVERY)
        names = models.available_models()
        chosen_model = current.settings.get("model", default_of("model"))
        model = st.selectbox(
            "Model", names, index=names.index(chosen_model) if chosen_model in names else 0, key=W_MODEL
        )
        chosen_strategy = current.settings.get("strategy", default_of("strategy"))
        strategy = st.selectbox(
            "Query strategy",
            strategies.STRATEGIES,
            index=list(strategies.STRATEGIES).index(chosen_strategy),
            key=W_STRATEGY,
        )
        top = st.number_input(
            "Predictions to upload (0 = every unlabeled task)",
            0,
            1_000_000,
            int(current.settings.get("upload_top", default_of("upload_top"))),
            key=W_TOP,
        )
        dask_scheduler = st.text_input(
            "Dask scheduler (optional)",
            str(current.settings.get("dask_scheduler") or ""),
            placeholder="tcp://HOST:PORT (empty: AL_DASK_SCHEDULER or the receiver's machine)",
            key=W_DASK,
        )
        if st.form_submit_button("Save", key=W_SAVE):
            try:
                automation.save_settings(
                    history,
                    project.id,
                    every=int(every),
                    settings={
                        "model": model,
                        "strategy": strategy,
                        "upload_top": int(top),
                        "dask_scheduler": check_scheduler(dask_scheduler),
                    },
                )
                st.success("Saved: the receiver uses these settings from the next trigger on.")
            except ALError as err:
                st.error(str(err))
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
