"""Active learning: choose the model and strategy, run an iteration, see its result, the history and versions."""

from __future__ import annotations

from types import MappingProxyType

import streamlit as st

from al_core.compute.engine import SCHEDULER_VARIABLE
from al_core.context import (
    MODEL_BY_CLASSES,
    MODEL_RULE,
    default_of,
    model_choice,
    model_choices,
    model_label,
    model_setting,
    model_text,
)
from al_core.errors import ALError, IterationLocked, LabelConfigError
from al_core.iteration import IterationResult, IterationSettings, run_iteration
from al_core.labelstudio.gateway_payloads import SLOW_IMPORT_WARNING
from al_core.labelstudio.label_config import choices_controls
from al_core.labelstudio.records import Project
from al_core.learning import embeddings, evaluation, models, strategies
from al_core.progress import STEPS
from al_core.pruning import prune_after_run
from al_core.reports import version_summary
from al_core.store import versions
from al_core.store.history import History
from al_core.store.records import IterationRecord, StoredMetrics
from ui import activity, services, state, versions_panel
from ui.common import PROJECT_PAGE, md, need_connection, need_project, percent
from ui.services import Connected

STRATEGY_HELP = MappingProxyType(
    {
        "margin": "Margin: the smallest gap between the two most likely labels first (a strong default).",
        "least_confidence": "Least confidence: the lowest top probability first.",
        "entropy": "Entropy: the most spread-out probabilities first (looks at every label).",
        "random": "Random: a random order (the baseline active learning should beat).",
    }
)
UPLOAD_COST = (
    "Every prediction costs about 1-2 ms to upload, and about 63 ms for Label Studio to delete when its "
    "version is pruned later: uploading only the first tasks of the queue keeps iterations fast."
)


def choose_control(project: Project, known: str | None = None) -> str | None:
    """The <Choices> block to learn when the config has several (remembered per project in this tab; at first
    ``known``: the one the project's last iteration or its automatic runs learned)."""
    try:
        controls = choices_controls(project.label_config)
    except LabelConfigError as err:
        st.error(f"Project {project.id} cannot be used for text classification: {err}")
        st.page_link(PROJECT_PAGE, label="Choose another project", icon=":material/folder_open:")
        st.stop()
    if len(controls) <= 1:
        return None
    remembered = st.session_state[state.CONTROLS].get(project.id) or known
    index = controls.index(remembered) if remembered in controls else 0
    control = st.selectbox("Which <Choices> the model learns", controls, index=index, key=state.W_AL_CONTROL)
    st.session_state[state.CONTROLS][project.id] = control
    return control


def settings_form(project: Project, eval_size_now: int, control: str | None) -> IterationSettings:
    left, right = st.columns(2)
    with left:
        choices = model_choices()
        default_model = model_choice(default_of("model"))
        model = st.selectbox(
            "Model (text representation + classifier)",
            choices,
            index=choices.index(default_model) if default_model in choices else 0,
            format_func=model_label,
            key=state.W_MODEL,
        )
        st.caption(f"Chosen {MODEL_RULE}." if model == MODEL_BY_CLASSES else models.MODELS[model].description)
        missing = embeddings.unavailable_reason()
        if missing:
            st.caption(f"Sentence-embedding models are not offered: {missing}")
        elif model == MODEL_BY_CLASSES or models.uses_embeddings(model):
            st.caption(
                "The first iteration embeds every task (minutes for tens of thousands); later ones only new or changed tasks."
            )
        strategy = st.selectbox(
            "Query strategy",
            strategies.STRATEGIES,
            index=strategies.STRATEGIES.index(default_of("strategy")),
            format_func=lambda s: s.replace("_", " "),
            key=state.W_STRATEGY,
        )
        st.caption(STRATEGY_HELP.get(strategy, ""))
        diversity = st.checkbox(
            "Diversity-aware batch order",
            value=default_of("diversity"),
            key=state.W_DIVERSITY,
            help="Interleave clusters of similar texts so one batch does not ask about near-duplicates.",
        )
    with right:
        eval_size = None
        if eval_size_now:
            st.metric("Evaluation set", f"{eval_size_now:,} tasks", help="Fixed at the first iteration.")
        else:
            eval_size = st.number_input(
                "Evaluation-set size",
                min_value=0,
                max_value=max(project.task_number, 0),
                value=evaluation.default_eval_size(project.task_number),
                key=state.W_EVAL_SIZE,
                help="Tasks set aside (labeled along the way, never trained on) to measure the model honestly. "
                "Fixed at the first iteration.",
            )
        upload_all = st.checkbox("Upload a prediction for every unlabeled task", key=state.W_UPLOAD_ALL)
        upload_top = st.number_input(
            "Predictions to upload (the front of the queue)",
            min_value=1,
            value=default_of("upload_top"),
            step=100,
            key=state.W_UPLOAD_TOP,
            disabled=upload_all,
        )
        st.caption(UPLOAD_COST)
        dask_scheduler = st.text_input(
            "Dask scheduler (optional)",
            placeholder=f"tcp://HOST:PORT (empty: {SCHEDULER_VARIABLE} or this machine)",
            key=state.W_DASK_SCHEDULER,
            help="Embed and score the pool in chunks on this Dask cluster (its workers need this app's environment).",
        )
    return IterationSettings(
        model=model_setting(model),
        strategy=strategy,
        diversity=diversity,
        eval_size=int(eval_size) if eval_size is not None else None,
        upload_top=0 if upload_all else int(upload_top),
        control=control,
        dask_scheduler=dask_scheduler,
    )


def run(
    conn: Connected, hist: History, project: Project, settings: IterationSettings, *, force: bool = False
) -> IterationResult | None:
    with st.status(f"Running an iteration on {md(project.title)} ...", expanded=True) as status:
        bar = st.progress(0.0, text="Starting ...")

        def on_progress(step: str, fraction: float, message: str) -> None:
            done = STEPS.index(step) if step in STEPS else 0
            bar.progress(min((done + fraction) / len(STEPS), 1.0), text=md(message))
            if fraction == 0.0:
                st.write(f":material/arrow_right: {md(message)}")

        try:
            result = run_iteration(
                services.gateway(conn),
                hist,
                project.id,
                settings,
                on_progress=on_progress,
                owner=f"a dashboard user ({conn.email})",
                force=force,
            )
        except IterationLocked as err:
            status.update(label="Another iteration is running on this project", state="error")
            st.warning(str(err))
            return None
        except ALError as err:
            status.update(label="The iteration failed; Label Studio's queue is unchanged", state="error")
            st.error(str(err))
            return None
        if result.status == "skipped":
            status.update(label="Nothing to do: no new labels", state="complete", expanded=False)
        else:
            status.update(label=f"Iteration done: {md(result.model_version)}", state="complete", expanded=False)
    services.refresh()
    return result


def labeling_link(result: IterationResult) -> None:
    """The button annotators start from: Label Studio's tab ordered by the current version's score."""
    if result.labeling_url:
        st.link_button("Open the labeling stream", result.labeling_url, icon=":material/open_in_new:", type="primary")


def show_skipped(result: IterationResult) -> None:
    st.subheader("Nothing to do")
    st.info(result.message)
    labeling_link(result)


def once_per_server(result: IterationResult, server: str) -> list[str]:
    """The result's warnings; that a server's uploads are slow is told once in this tab (with the first result)."""
    told = st.session_state[state.TOLD_SLOW_IMPORT]
    if SLOW_IMPORT_WARNING in result.warnings:
        told.setdefault(server, result.model_version)
    return [w for w in result.warnings if w != SLOW_IMPORT_WARNING or told[server] == result.model_version]


def show_result(result: IterationResult, server: str) -> None:
    if result.status == "skipped":
        show_skipped(result)
        return
    st.subheader(f"Result of {result.model_version}")
    (st.info if result.cold_start else st.success)(result.message)
    if result.model_by_classes is not None:  # said once: nobody chose the model, the number of classes did
        st.caption(f"Model: {md(model_text(result.model, result.model_by_classes))}, chosen {MODEL_RULE}.")
    for warning in once_per_server(result, server):
        st.warning(warning, icon=":material/warning:")
    if result.consider_stopping:
        st.info("The model's predictions have stopped changing between versions: consider stopping labeling.")
    measured = StoredMetrics.from_json(result.metrics)
    f1_ci = version_summary.interval_text(measured.macro_f1_ci) or "n/a"
    cols = st.columns(4)
    acc_ci = version_summary.interval_text(measured.accuracy_ci)
    cols[0].metric(
        "Accuracy",
        percent(measured.accuracy),
        f"95% interval {acc_ci}, n = {measured.n_eval or 0}" if acc_ci else None,
        delta_color="off",
        delta_arrow="off",
        help=f"On the labeled evaluation-set tasks: {version_summary.accuracy_caption(measured)}.",
    )
    cols[1].metric(
        "Macro-F1",
        percent(measured.macro_f1),
        None if measured.macro_f1_ci is None else f"95% interval {f1_ci}",
        delta_color="off",
        delta_arrow="off",
        help=f"F1 averaged over the labels; 95% interval {f1_ci}.",
    )
    cols[2].metric("Labeled (training)", f"{result.n_labeled:,}")
    cols[3].metric("Predictions uploaded", f"{result.n_predictions:,}")
    left, right = st.columns([2, 3])
    with left:
        st.caption("Time per step")
        rows = [{"step": step, "seconds": seconds} for step, seconds in result.timings.items()]
        st.dataframe(
            rows,
            hide_index=True,
            column_config={"seconds": st.column_config.NumberColumn(format="%.2f")},
        )
    with right:
        st.write(
            "Annotators now get the most informative tasks first, from this link or from Label Studio's "
            "**Label All Tasks** button."
        )
        labeling_link(result)


def history_table(iterations: list[IterationRecord]) -> None:
    st.subheader("History")
    if not iterations:
        st.info("No iterations yet: the first one orders the queue (a cold start when fewer than two labels exist).")
        return
    rows = [
        {
            "version": it.model_version,
            "status": it.status,
            "trigger": it.trigger,
            "model": model_text(it.settings.model, it.settings.model_by_classes) if it.settings.model else "",
            "labels": it.n_labeled,
            "accuracy": it.metrics.accuracy,
            "accuracy 95% interval": version_summary.interval_text(it.metrics.accuracy_ci),
            "evaluation labels": it.metrics.n_eval,
            "macro-F1": it.metrics.macro_f1,
            "macro-F1 95% interval": version_summary.interval_text(it.metrics.macro_f1_ci),
            "started": it.started_at,
            "error": it.error or (it.state_text() if it.status == "running" else ""),
            "left out": " ".join(it.counts.warnings),
        }
        for it in reversed(iterations)
    ]
    pct = st.column_config.NumberColumn(format="percent")
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        column_config={
            "accuracy": pct,
            "macro-F1": pct,
            "started": st.column_config.DatetimeColumn("started (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        },
    )


state.init()
st.title("Active learning")
conn = need_connection("active learning")
project = need_project(conn, "active learning")
if project.task_number == 0:
    st.info(f"Project {md(project.title)} has no tasks yet: import texts first.")
    st.page_link(PROJECT_PAGE, label="Import tasks", icon=":material/upload:")
    st.stop()
try:
    hist = services.history(conn)
    eval_size_now = len(hist.eval_set(project.id))
    earlier = hist.iterations(project.id)
    automatic = hist.automation(project.id)
except ALError as err:
    st.error(str(err))
    st.stop()

st.caption(
    f"{md(project.title)} (#{project.id}): {project.task_number:,} tasks, "
    f"{project.num_tasks_with_annotations:,} labeled, serving {md(project.model_version or 'no model yet')}."
)
known = earlier[-1].settings.control if earlier else None
control = choose_control(project, known or (automatic.settings.get("control") if automatic else None))
try:
    iteration_settings = settings_form(project, eval_size_now, control)
except ALError as err:
    st.error(str(err))
    st.stop()
activity.banner(conn, project.id)
last = st.session_state[state.LAST_RESULT].get(project.id)
clicked = st.button("Run iteration", key=state.W_RUN, type="primary", icon=":material/play_arrow:")
forced = (
    last is not None
    and last.status == "skipped"
    and st.button(
        "Run anyway on the same labels",
        key=state.W_RUN_FORCE,
        help="Retrain although no label changed (e.g. to try another model); the stopping signal ignores re-runs.",
    )
)
if clicked or forced:
    result = run(conn, hist, project, iteration_settings, force=bool(forced))
    if result is not None:
        st.session_state[state.LAST_RESULT][project.id] = result
        if result.status != "skipped":
            # Old versions' predictions go in the background after a successful switch (Label Studio is slow).
            st.session_state[state.PRUNE_THREAD][project.id] = prune_after_run(
                services.gateway(conn), hist, project.id, iteration_settings.keep_versions
            )
        st.rerun()  # every part of the page (evaluation set, serving version, history) shows the new state
last = st.session_state[state.LAST_RESULT].get(project.id)
if last is not None:
    show_result(last, conn.url)
try:
    iterations = hist.iterations(project.id)
except ALError as err:
    st.error(str(err))
    st.stop()
history_table(iterations)
try:
    present = services.gateway(conn).model_versions(project.id)
    old = versions.versions_to_prune(services.gateway(conn), hist, project.id, versions_panel.KEEP_VERSIONS)
except ALError as err:
    st.error(str(err))
    st.stop()
versions_panel.kept_versions(conn, hist, project, iterations, present, old)
versions_panel.prune(conn, hist, project, old)
