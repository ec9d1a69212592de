"""Progress: is the model getting better, how sure is it, is it time to stop? Every model version at a glance.

Everything comes from the history store (and Label Studio for the version its queue uses), never from this
tab's session, so teammates in other browsers see the same page. ``?project=ID&version=NAME`` opens a
version directly.
"""

from __future__ import annotations

import streamlit as st

from al_core.errors import ALError
from al_core.labelstudio.gateway import server_health
from al_core.reports import charts, class_charts, mistakes, version_summary
from al_core.store import versions
from al_core.store.records import IterationRecord, succeeded_versions
from ui import activity, figures, services, state
from ui.common import AL_PAGE, PROJECT_PAGE, md, need_connection

# Widget keys of this page (the shared ones live in ui/state.py).
W_VERSION = "w_progress_version"
W_COMPARE_A = "w_progress_compare_a"
W_COMPARE_B = "w_progress_compare_b"
W_PAGE_REFRESH = "w_progress_refresh"
W_CSV = "w_progress_csv"
W_MODEL_FILE = "w_progress_model_file"
W_PREPARE_PREDICTIONS = "w_progress_prepare_predictions"
W_PREDICTIONS_FILE = "w_progress_predictions_file"
PREPARED_PREDICTIONS = "progress_prepared_predictions"  # (server, project, version) -> (csv bytes, rows, warnings)


def live_version(conn: services.Connected, project_id: int) -> tuple[str | None, str]:
    """(model version Label Studio's queue uses, project title); a warning when Label Studio is unreachable."""
    try:
        if not server_health(conn.url):
            raise ALError(f"Label Studio at {conn.url} does not answer.")
        project = services.project(conn, project_id)
    except ALError as err:
        st.warning(f"Showing the history only: {md(err)}", icon=":material/cloud_off:")
        return None, f"project {project_id}"
    return project.model_version or None, project.title


def version_label(done: list[IterationRecord], live: str | None) -> dict[str, str]:
    labels = {r.model_version: r.model_version for r in done}
    labels[done[-1].model_version] += " (latest)"
    if live in labels:
        labels[live] += " · live in Label Studio"
    return labels


def chosen_version(done: list[IterationRecord], records: list[IterationRecord]) -> IterationRecord:
    """The version of ``?version=`` (or this tab's choice), else the latest; the selectbox follows the URL."""
    by_name = {r.model_version: r for r in done}
    wanted = st.query_params.get("version") or st.session_state[state.VERSION]
    if wanted and wanted not in by_name:
        failed = next((r for r in records if r.model_version == wanted), None)
        why = f"it {failed.status}" if failed else "no such version in this project"
        st.warning(f"Version {md(wanted)} cannot be shown ({md(why)}); showing the latest instead.")
        st.query_params.pop("version", None)
        st.session_state[state.VERSION] = wanted = None
    st.session_state[W_VERSION] = wanted or done[-1].model_version
    return by_name[st.session_state[W_VERSION]]


def pick_version(done: list[IterationRecord], labels: dict[str, str]) -> None:
    def on_change() -> None:
        st.session_state[state.VERSION] = st.session_state[W_VERSION]
        st.query_params["version"] = st.session_state[W_VERSION]

    names = [r.model_version for r in reversed(done)]
    st.selectbox(
        "Model version shown in this section and the next",
        names,
        key=W_VERSION,
        format_func=labels.__getitem__,
        on_change=on_change,
        help="Also in the page's URL (&version=), so a copied link opens this version.",
    )


def _no_arrow_if_unchanged(delta: str | None, delta_color: str = "normal") -> dict[str, str]:
    """A shown change of zero ("+0", "+0.00", "-0.00") in grey without an arrow; Streamlit draws any delta with
    an arrow, and a zero as an up arrow (red with ``inverse``)."""
    unchanged = delta is not None and not delta.strip("+-0.,")
    return {"delta_color": "off", "delta_arrow": "off"} if unchanged else {"delta_color": delta_color}


def headline(records: list[IterationRecord]) -> None:
    s = version_summary.summary(records)
    if s["last_failed"]:
        st.warning(md(s["last_failed"]), icon=":material/error:")
    acc, f1, ent, kappa, history = s["accuracy"], s["macro_f1"], s["mean_entropy"], s["kappa"], s["history"]
    since = f" Change since {s['previous']}." if s["previous"] else ""
    tested = s["paired_verdict"] in ("better", "worse")  # else the delta is grey: within noise or untested
    paired = "" if s["paired_verdict"] is None else f" Paired test on the same evaluation tasks: {s['paired_verdict']}."
    cols = st.columns(5)
    cols[0].metric(
        "Accuracy",
        "n/a" if acc is None else f"{acc:.1%}",
        None if s["accuracy_delta"] is None else f"{s['accuracy_delta']:+.1f} points",
        delta_color="normal" if tested else "off",
        delta_arrow="auto" if tested else "off",
        delta_description=None
        if s["accuracy_delta"] is None
        else f"{s['paired_verdict'] or 'not tested'}; 95% interval {version_summary.interval_text(s['accuracy_ci'])}, "
        f"n = {s['n_eval']:,}",
        chart_data=history["accuracy"] or None,
        help=f"Share of the held-out evaluation set the latest version gets right (never trained on), "
        f"{s['n_eval']:,} evaluation labels, 95% interval {version_summary.interval_text(s['accuracy_ci']) or 'n/a'}."
        f"{since}{paired}",
        border=True,
    )
    f1_tested = (
        tested and s["macro_f1_delta"] is not None and (s["macro_f1_delta"] > 0) == (s["paired_verdict"] == "better")
    )
    cols[1].metric(
        "Macro-F1",
        "n/a" if f1 is None else f"{f1:.1%}",
        None if s["macro_f1_delta"] is None else f"{s['macro_f1_delta']:+.1f} points",
        delta_color="normal" if f1_tested else "off",
        delta_arrow="auto" if f1_tested else "off",
        chart_data=history["macro_f1"] or None,
        help=f"F1 averaged over classes: a weak small class pulls it down even when accuracy looks good. "
        f"95% interval {version_summary.interval_text(s['macro_f1_ci']) or 'n/a'}.{since}{paired}",
        border=True,
    )
    labels_delta = None if s["n_labeled_delta"] is None else f"{s['n_labeled_delta']:+,}"
    entropy_delta = None if s["entropy_delta"] is None else f"{s['entropy_delta']:+.2f}"
    cols[2].metric(
        "Training labels",
        "n/a" if s["n_labeled"] is None else f"{s['n_labeled']:,}",
        labels_delta,
        **_no_arrow_if_unchanged(labels_delta),
        chart_data=history["n_labeled"] or None,
        help="Labels the latest version was trained on (the evaluation set is never trained on).",
        border=True,
    )
    cols[3].metric(
        "Mean entropy",
        "n/a" if ent is None else f"{ent:.2f}",
        entropy_delta,
        **_no_arrow_if_unchanged(entropy_delta, delta_color="inverse"),  # less uncertainty is good news
        chart_data=history["mean_entropy"] or None,
        help="How unsure the model is about the unlabeled tasks on average (0 = sure, 1 = no idea).",
        border=True,
    )
    cols[4].metric(
        "Kappa",
        "n/a" if kappa is None else f"{kappa:.3f}",
        chart_data=history["kappa"] or None,
        help=f"Agreement of the latest version's predictions for the pool with the previous version's "
        f"(1 = identical). Above {charts.STOP_KAPPA} for 3 versions in a row: consider stopping.",
        border=True,
    )
    (st.success if s["consider_stopping"] else st.info)(md(s["verdict"]), icon=":material/insights:")


def model_download(project_id: int, record: IterationRecord) -> None:
    # The file is looked up where this process keeps artifacts, not at a path read from the database.
    if not record.artifact_path:
        st.caption(f"No model file: {record.model_version} trained no model (cold start).")
        return
    path = versions.saved_model(record)
    if not path.is_file():
        st.caption(f"The model file of {record.model_version} is not on this machine (deleted or elsewhere).")
        return
    st.download_button(
        f"Download the model of {record.model_version} (joblib, {path.stat().st_size / 1e6:.1f} MB)",
        data=path.read_bytes,  # read only when clicked
        file_name=f"project-{project_id}-{record.model_version}.joblib",
        mime="application/octet-stream",
        on_click="ignore",
        icon=":material/download:",
        key=W_MODEL_FILE,
    )
    st.caption("Load it with `al_core.learning.models.load_model(path)` (same Python and scikit-learn versions).")


def predictions_download(conn: services.Connected, project_id: int, record: IterationRecord) -> None:
    """The version's prediction for every task, as ``python -m al_core export-predictions`` writes it (CSV)."""
    if not record.artifact_path:
        return
    prepared = st.session_state.setdefault(PREPARED_PREDICTIONS, {})
    key = (conn.url, project_id, record.model_version)
    if st.button(
        f"Prepare the predictions of {record.model_version} for every task (CSV)",
        key=W_PREPARE_PREDICTIONS,
        icon=":material/table_view:",
        help="For teams that auto-label the rest: task_id, predicted, confidence, margin, is_eval, label.",
    ):
        # Imported here, not at the top: it loads scikit-learn (~1 s) the page does not need to render.
        from al_core import export

        bar = st.progress(0.0, text="Predicting every task ...")

        try:
            result = export.export_predictions(
                services.gateway(conn), services.history(conn), project_id, record.model_version,
                on_progress=lambda done, total: bar.progress(done / max(total, 1), text=f"{done:,} of {total:,} tasks"),
            )  # fmt: skip
        except ALError as err:
            bar.empty()
            st.error(md(err))
            return
        bar.empty()
        prepared[key] = (export.to_csv(result.rows).encode("utf-8"), len(result.rows), result.warnings)
    if key in prepared:
        data, n_rows, warnings = prepared[key]
        for warning in warnings:
            st.warning(md(warning))
        st.download_button(
            f"Download {n_rows:,} predictions of {record.model_version} (CSV)",
            data=data,
            file_name=f"project-{project_id}-{record.model_version}-predictions.csv",
            mime="text/csv",
            on_click="ignore",
            icon=":material/download:",
            key=W_PREDICTIONS_FILE,
        )


def compare(done: list[IterationRecord], labels: dict[str, str]) -> None:
    st.subheader("Compare two versions")
    if len(done) < 2:
        st.caption("Comparing needs two model versions.")
        return
    names = [r.model_version for r in reversed(done)]
    left, right = st.columns(2)
    a = left.selectbox("First version", names, index=1, key=W_COMPARE_A, format_func=labels.__getitem__)
    b = right.selectbox("Second version", names, index=0, key=W_COMPARE_B, format_func=labels.__getitem__)
    by_name = {r.model_version: r for r in done}
    test = version_summary.paired(by_name[a], by_name[b])
    if test is None:
        st.caption("Not tested for a real difference: one of these versions has no stored per-task outcomes.")
    else:
        st.caption(md(test.sentence(a, b)))
    st.plotly_chart(class_charts.compare_versions(by_name[a], by_name[b]), width="stretch", key="chart_compare")


def wrong_answers(conn: services.Connected, project_id: int, record: IterationRecord) -> None:
    st.subheader("What the model gets wrong")
    if not record.metrics.eval_outcomes:
        st.caption(f"{md(record.model_version)} was measured before per-task outcomes were stored (or has no model).")
        return
    try:
        texts = mistakes.cached_texts(conn.url, project_id, services.project(conn, project_id).label_config, record)
    except ALError as err:
        st.caption(f"Texts unavailable: {md(err)}")
        texts = {}
    frame = mistakes.mistakes_table(record, texts, conn.url, project_id)
    n = len(record.metrics.eval_outcomes)
    st.caption(
        f"{md(record.model_version)} gets {len(frame):,} of its {n:,} evaluation tasks wrong; most confident first."
    )
    if len(frame):
        st.dataframe(
            frame,
            hide_index=True,
            column_config={
                "confidence": st.column_config.NumberColumn(format="percent"),
                "open in Label Studio": st.column_config.LinkColumn(display_text="open task"),
            },
        )


def table(project_id: int, records: list[IterationRecord]) -> None:
    st.subheader("All iterations")
    frame = version_summary.versions_table(records)
    percent = st.column_config.NumberColumn(format="percent")
    st.dataframe(
        frame,
        hide_index=True,
        column_config={
            "accuracy": percent,
            "macro-F1": percent,
            "CV accuracy (biased)": percent,
            "live agreement": percent,
            "kappa": st.column_config.NumberColumn(format="%.3f"),
            "mean entropy": st.column_config.NumberColumn(format="%.3f"),
            "started": st.column_config.DatetimeColumn("started (UTC)", format="YYYY-MM-DD HH:mm"),
        },
    )
    st.download_button(
        "Download as CSV",
        data=frame.to_csv(index=False),
        file_name=f"project-{project_id}-versions.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        key=W_CSV,
    )


state.init()
conn = need_connection("the Progress page")
project_id = services.current_project_id()
if project_id is None:
    st.info("Choose or create a project to see its progress (the project selector is in the sidebar).")
    st.page_link(PROJECT_PAGE, label="Set up a project", icon=":material/folder_open:")
    st.stop()

head, button = st.columns([5, 1], vertical_alignment="bottom")
button.button("Refresh", key=W_PAGE_REFRESH, on_click=services.refresh, icon=":material/refresh:", width="stretch")
live, title = live_version(conn, project_id)
head.title(f"Progress of {md(title)}")
try:
    records, last_change = services.iterations(conn, project_id)  # read again only after the history changed
except ALError as err:
    st.error(str(err))
    st.stop()
charts, class_charts = figures.Cached(charts, last_change), figures.Cached(class_charts, last_change)
done = succeeded_versions(records)
activity.banner(conn, project_id, records, failed=not done)  # with versions, the headline says when the last failed
if not done:
    st.info("No model versions yet: label a few tasks in Label Studio, then run an iteration.")
    st.page_link(AL_PAGE, label="Run an iteration", icon=":material/model_training:")
    st.stop()

labels = version_label(done, live)
if live and live != done[-1].model_version:
    st.caption(f"Label Studio's queue uses {md(labels.get(live, live))}, not the latest version.")
record = chosen_version(done, records)  # early, so a bad link's warning shows at the top
headline(records)

st.subheader("Learning curve")
st.plotly_chart(charts.learning_curve(done), width="stretch", key="chart_learning")
st.subheader("Uncertainty")
st.plotly_chart(charts.uncertainty_by_version(done), width="stretch", key="chart_uncertainty")
previous = next((r for r in reversed(done) if r.number < record.number), None)
st.caption(f"The histogram shows {md(record.model_version)} (chosen below) against the version before it.")
st.plotly_chart(charts.uncertainty_histogram(record, previous), width="stretch", key="chart_histogram")
st.subheader("Stopping signals")
st.plotly_chart(charts.stopping_signals(done), width="stretch", key="chart_stopping")

st.subheader("Class balance")
pick_version(done, labels)
st.plotly_chart(class_charts.class_balance(record, record.metrics.labels), width="stretch", key="chart_balance")
st.subheader("Confusion matrix & per-class F1")
st.caption(f"Of {md(record.model_version)}, the version chosen above.")
st.plotly_chart(class_charts.confusion_matrix(record), width="stretch", key="chart_confusion")
st.plotly_chart(class_charts.per_class_f1(record), width="stretch", key="chart_f1")
wrong_answers(conn, project_id, record)
compare(done, labels)

st.subheader("Per-step timings")
st.plotly_chart(charts.step_timings(done), width="stretch", key="chart_timings")
table(project_id, records)
model_download(project_id, record)
predictions_download(conn, project_id, record)
