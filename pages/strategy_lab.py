"""Strategy lab: which query strategy would save the most labels? Replayed on texts whose labels are known.

Data (an uploaded labeled file, the current project's labels or the sample) -> guards -> settings and the
run's cost -> run with a progress bar -> learning curves, a table, a recommendation and the JSON. The
simulation, its checks and the recommendation live in ``al_core.lab.strategy_lab``; this page only places them.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

import streamlit as st

from al_core.errors import ALError
from al_core.lab import simulation, simulation_charts
from al_core.lab import strategy_lab as lab
from al_core.learning import models
from ui import services, state
from ui.common import CONNECT_PAGE, PROJECT_PAGE, md, need_connection, need_project

SOURCES = MappingProxyType(
    {"upload": "A labeled file", "project": "The current project's labels", "sample": "The sample (bank intents)"}
)
UPLOAD_TYPES = ("csv", "tsv", "tab", "json", "jsonl", "ndjson")
CHART_TITLE = "Learning curves (dashed: 95%, dotted: 99% of the accuracy with every training text labeled)"


def kept(key: tuple, read: Callable[[], lab.LabData]) -> lab.LabData:
    """The data read for ``key`` in this tab (read again only when the key changes: reruns stay fast)."""
    cached = st.session_state[state.LAB_DATA]
    if cached is None or cached[0] != key:
        st.session_state[state.LAB_DATA] = (key, read())
    return st.session_state[state.LAB_DATA][1]


def stop_with(message: str, link: str | None = None, label: str = "") -> None:
    st.info(message)
    if link:
        st.page_link(link, label=label)
    st.stop()


def from_upload() -> lab.LabData:
    uploaded = st.file_uploader(
        "A file with one text and one label per row", type=UPLOAD_TYPES, key=state.W_LAB_UPLOAD,
        help="CSV, TSV, JSON or JSON Lines; you map the columns below.",
    )  # fmt: skip
    if uploaded is None:
        stop_with("Upload a labeled file (e.g. text,label columns), or choose the sample to try the lab.")
    try:
        guess = lab.upload_columns(uploaded, uploaded.name)
        left, right = st.columns(2)
        columns = list(guess.columns)
        text = left.selectbox("Text column", columns, index=_index(columns, guess.text), key=state.W_LAB_TEXT_COLUMN)
        label = right.selectbox(
            "Label column", columns, index=_index(columns, guess.label), key=state.W_LAB_LABEL_COLUMN
        )
        return kept(
            ("upload", uploaded.file_id, text, label),
            lambda: lab.read_upload(uploaded, uploaded.name, text_column=text, label_column=label),
        )
    except ALError as err:
        st.error(md(err))
        st.stop()


def _index(columns: list[str], name: str | None) -> int:
    return columns.index(name) if name in columns else 0


def from_project() -> lab.LabData:
    conn = need_connection("a project's labels")
    project = need_project(conn, "its labels")
    key = ("project", conn.url, project.id)
    if st.button("Read the labels again", key=state.W_LAB_REREAD, help="After more labeling in Label Studio."):
        st.session_state[state.LAB_DATA] = None
    control = st.session_state[state.CONTROLS].get(project.id)
    try:
        with st.spinner(f"Reading the labels of {project.title} ..."):
            data = kept(key, lambda: lab.from_project(services.gateway(conn), project.id, control))
    except ALError as err:
        st.error(md(err))
        st.page_link(PROJECT_PAGE, label="Choose another project", icon=":material/folder_open:")
        st.stop()
    st.caption(
        "Labels collected by active learning are not a random sample of your texts (the queue chose them): "
        "read the comparison as indicative, and prefer a randomly labeled file when you have one."
    )
    return data


def choose_data() -> lab.LabData:
    if st.session_state[state.CONNECTION] is None:
        st.page_link(CONNECT_PAGE, label="Connect to Label Studio to use a project's labels", icon=":material/link:")
    source = st.radio("Data", list(SOURCES), format_func=SOURCES.__getitem__, horizontal=True, key=state.W_LAB_SOURCE)
    data = {"upload": from_upload, "project": from_project, "sample": lab.from_sample}[source]()
    try:
        lab.check(data)
    except ALError as err:
        stop_with(md(err))
    rows = "row" if data.n_dropped == 1 else "rows"
    why = "blank, repeated, skipped or with an unknown label"
    dropped = f"; {data.n_dropped:,} {rows} left out ({why})" if data.n_dropped else ""
    st.caption(f"{md(data.source)}: {data.n:,} labeled texts, {len(data.classes)} classes{dropped}.")
    return data


def settings(data: lab.LabData) -> tuple[dict, lab.RunPlan]:
    names = st.multiselect(
        "Strategies", simulation.ALL_STRATEGIES, default=list(simulation.ALL_STRATEGIES), key=state.W_LAB_STRATEGIES,
        help="random is the baseline: a strategy is worth it when it reaches the same accuracy with fewer labels.",
    )  # fmt: skip
    cols = st.columns(4)
    choices = models.available_models()
    preferred = models.default_model(len(data.classes))  # as an iteration given no model: by the number of classes
    default = choices.index(preferred) if preferred in choices else 0
    model = cols[0].selectbox("Model", choices, index=default, key=state.W_LAB_MODEL)
    budget = cols[1].number_input("Budget (labels)", 2, 100_000, 200, step=20, key=state.W_LAB_BUDGET)
    batch = cols[2].number_input("Batch (labels per round)", 1, 1000, 20, step=5, key=state.W_LAB_BATCH)
    seeds = cols[3].number_input("Seeds", 1, 10, 2, key=state.W_LAB_SEEDS, help="Repeats with other splits, averaged.")
    st.caption(models.MODELS[model].description)
    params = {"strategy_names": names, "budget": int(budget), "batch": int(batch), "seeds": int(seeds), "model": model}
    try:
        run_plan = lab.plan(data.n, **params, ceilings=lab.ceiling_models(model))
    except ALError as err:
        stop_with(md(err))
    return params, run_plan


def show_plan(run_plan: lab.RunPlan) -> None:
    if run_plan.capped:
        st.info(f"Budget capped at {run_plan.budget:,} labels: the training split holds {run_plan.n_train:,} texts.")
    cost = f"{run_plan.fits:,} model fits, roughly {_duration(run_plan.seconds)} (longer on a busy machine)"
    if run_plan.long:
        st.warning(
            f"This run would be long: {cost}. Lower the budget, the seeds or the strategies, or run it from a "
            "terminal: `python -m bench.label_efficiency --data FILE.csv`.",
            icon=":material/hourglass_top:",
        )
    else:
        st.caption(f"{cost}.")


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def run(data: lab.LabData, params: dict) -> None:
    bar = st.progress(0.0, text="Starting ...")

    def on_progress(done: int, total: int, message: str) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=md(message))

    try:
        st.session_state[state.LAB_RUN] = lab.run(data, on_progress=on_progress, **params)
    except ALError as err:
        st.error(md(err))
        return
    bar.empty()


def show(done: lab.LabRun) -> None:
    params = done.result["params"]
    st.subheader("Result")
    st.caption(
        f"{md(done.source)}: {done.n_rows:,} texts, {params['model']}, budget {params['budget']}, batch "
        f"{params['batch']}, {done.result['seeds']} seed(s), {done.result['seconds']:.0f} s."
    )
    st.success(md(done.recommendation), icon=":material/lightbulb:")
    st.plotly_chart(simulation_charts.figure({done.source: done.result}, title=CHART_TITLE), key="lab_curves")
    st.dataframe(simulation_charts.table(done.result), hide_index=True, width="stretch")
    st.caption(
        "AUC: mean test accuracy over the label range. Labels to 95% / 99%: the first label count reaching that "
        f"share of a model trained on the whole training split ({done.result['full_accuracy']:.1%}); None: not "
        "reached within the budget."
    )
    st.download_button(
        "Download the results (JSON)", done.to_json(), file_name="strategy_lab.json", mime="application/json",
        key=state.W_LAB_DOWNLOAD,
    )  # fmt: skip


st.title("Strategy lab")
st.caption(
    "Which query strategy would save your team the most labels? Each strategy picks batches of texts whose "
    "labels are already known, the model is retrained after every batch and tested on a held-out quarter."
)
data = choose_data()
params, run_plan = settings(data)
show_plan(run_plan)
if st.button("Run the simulation", type="primary", key=state.W_LAB_RUN, disabled=not params["strategy_names"]):
    run(data, params)
if st.session_state[state.LAB_RUN] is not None:
    show(st.session_state[state.LAB_RUN])
