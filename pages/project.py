"""Project: choose or create a text-classification project, import tasks or the sample, set the queue order."""

from __future__ import annotations

from types import MappingProxyType

import streamlit as st

from al_core.errors import ALError, LabelConfigError
from al_core.lab import sample
from al_core.labelstudio import uploads
from al_core.labelstudio.gateway import UNCERTAINTY_SAMPLING
from al_core.labelstudio.label_config import TEMPLATES, LabelSpec, choices_controls, parse_label_config
from al_core.labelstudio.records import Project
from ui import services, state
from ui.common import AL_PAGE, md, need_connection
from ui.services import Connected
from ui.sidebar import project_selectbox

CUSTOM = "custom"
TEMPLATE_TITLES = MappingProxyType(
    {"sentiment": "Sentiment (3 labels)", "topic": "News topic (4 labels)", "intent": "Banking intent (15)"}
)
UPLOAD_TYPES = ("csv", "tsv", "tab", "json", "jsonl", "ndjson", "txt")
IMPORT_COUNTERS = (("Rows read", "rows"), ("Empty", "empty"), ("Duplicates", "duplicates"), ("Imported", "imported"))
SAMPLE_LABELS = frozenset(parse_label_config(TEMPLATES[sample.SAMPLE_TEMPLATE]).labels)


def understood(xml: str, control: str | None) -> LabelSpec:
    """The config as the model will read it (raises LabelConfigError with a message for the user)."""
    return parse_label_config(xml, control)


def show_spec(spec: LabelSpec) -> None:
    kind = "several labels per text (multi-label)" if spec.multiple else "one label per text"
    st.markdown(
        f"- Text: the **{md(spec.object_tag)}** tag **{md(spec.object_name)}** shows the task field "
        f"**{md(spec.data_key)}**\n"
        f"- Labels from the **Choices** tag **{md(spec.control_name)}**: {kind}\n"
        f"- {len(spec.labels)} labels: " + ", ".join(md(label) for label in spec.labels)
    )


def project_spec(project: Project) -> LabelSpec | None:
    """The current project's spec, or None after showing why its config does not fit."""
    controls = st.session_state[state.CONTROLS]
    try:
        return understood(project.label_config, controls.get(project.id))
    except LabelConfigError as err:
        st.error(f"Project {project.id} cannot be used for text classification: {err}")
        return None


def choose(available: list[Project]) -> None:
    st.subheader("Choose a project")
    if not available:
        st.info("There are no projects on this server yet: create one below, or create the sample project.")
        return
    project_selectbox("Work on", state.W_PROJECT_PICK, available)
    with st.expander(f"All projects on this server ({len(available)})"):
        all_projects(available)


def all_projects(available: list[Project]) -> None:
    rows = [
        {
            "id": p.id,
            "title": p.title,
            "tasks": p.task_number,
            "labeled": p.num_tasks_with_annotations,
            "model version": p.model_version or "",
            "queue order": p.sampling,
        }
        for p in available
    ]
    st.dataframe(rows, hide_index=True, width="stretch")


def create(conn: Connected) -> None:
    title = st.text_input("Title", key=state.W_NEW_TITLE, placeholder="e.g. Support tickets by intent")
    options = [*TEMPLATES, CUSTOM]
    template = st.selectbox(
        "Labeling config",
        options,
        key=state.W_NEW_TEMPLATE,
        format_func=lambda t: TEMPLATE_TITLES.get(t, "Custom XML"),
    )
    if template == CUSTOM:
        xml = st.text_area("Labeling config (XML)", value=TEMPLATES["sentiment"], height=220, key=state.W_NEW_XML)
    else:
        xml = TEMPLATES[template]
        with st.expander("Show the XML"):
            st.code(xml, language="xml")
    control, spec = None, None
    try:
        controls = choices_controls(xml)
        if len(controls) > 1:
            control = st.selectbox(
                "Several <Choices> blocks: which one should the model learn?", controls, key=state.W_NEW_CONTROL
            )
        spec = understood(xml, control)
    except LabelConfigError as err:
        st.error(str(err))
    if spec is not None:
        st.caption("What the dashboard understood:")
        show_spec(spec)
    too_short = len((title or "").strip()) < 3
    if too_short:
        st.caption("The title needs at least 3 characters.")
    if st.button("Create project", key=state.W_CREATE, type="primary", disabled=spec is None or too_short):
        try:
            with st.spinner("Creating the project in Label Studio ..."):
                project = services.gateway(conn).create_project(title, xml)
        except ALError as err:
            st.error(str(err))
            return
        if control:
            st.session_state[state.CONTROLS][project.id] = control
        opened(conn, project.id, f"Created project {md(project.title)} (#{project.id}). Next: import tasks.")


def opened(conn: Connected, project_id: int, message: str) -> None:
    """After creating a project here: select it, automate it under ``make run``, say so, rerun."""
    services.refresh()
    services.select_project(project_id)
    state.flash("success", message)
    if note := services.automate_new_project(conn, project_id):
        state.flash("info", note)
    st.rerun()


def import_file(conn: Connected, project: Project, spec: LabelSpec) -> None:
    st.subheader("Import tasks")
    uploaded = st.file_uploader(
        "A file of texts: CSV, TSV, JSON, JSON Lines or plain text",
        UPLOAD_TYPES,
        key=f"{state.W_UPLOAD}-{st.session_state[state.UPLOADS_DONE]}",
    )
    last = st.session_state[state.IMPORT_SUMMARY].get(project.id)
    if last:
        st.caption(f"Last import: {md(last['file'])}")
        cols = st.columns(4)
        for col, (label, key) in zip(cols, IMPORT_COUNTERS, strict=True):
            col.metric(label, f"{last[key]:,}")
        st.caption(last.get("summary", ""))
        for warning in last.get("warnings", ()):
            st.warning(warning, icon=":material/warning:")
    if uploaded is None:
        st.caption("One text per row. Empty rows and repeated texts are skipped.")
        return
    try:
        preview = uploads.preview_upload(uploaded, uploaded.name)
    except ALError as err:
        st.error(str(err))
        return
    if not preview.columns:
        st.error(f"{uploaded.name}: no columns found; upload a file with a header row.")
        return
    suggested = preview.columns.index(preview.suggested_text_column) if preview.suggested_text_column else 0
    column = st.selectbox(
        f"Column holding the text (goes to the task field '{spec.data_key}')",
        preview.columns,
        index=suggested,
        key=state.W_TEXT_COLUMN,
    )
    n_rows = f"{preview.n_rows:,} rows" if preview.n_rows is not None else "a large file"
    st.caption(f"{preview.format.upper()}, {preview.encoding}, {n_rows}; the first {len(preview.rows)} rows:")
    st.dataframe(preview.rows, hide_index=True, width="stretch", column_order=list(preview.columns))
    if not st.button("Import", key=state.W_IMPORT, type="primary", icon=":material/upload:"):
        return
    stream = uploads.iter_task_chunks(uploaded, uploaded.name, text_column=column, data_key=spec.data_key)
    bar = st.progress(0.0, text="Checking the whole file, then importing ...")

    def on_progress(done: int, _total: int) -> None:  # by bytes read: right without counting a large file's rows
        bar.progress(stream.fraction, text=f"{done:,} tasks imported ({stream.fraction:.0%} of the file) ...")

    try:
        imported = services.gateway(conn).import_tasks_counted(project.id, stream, on_progress=on_progress)
    except ALError as err:
        st.error(f"{err} ({stream.n_tasks:,} tasks were sent before the error.)")
        services.refresh()
        return
    report = uploads.import_report(stream, imported)
    bar.progress(1.0, text=report.summary)
    st.session_state[state.IMPORT_SUMMARY][project.id] = {
        "file": uploaded.name,
        "rows": stream.n_rows,
        "empty": stream.n_empty,
        "duplicates": stream.n_duplicates,
        "imported": imported.tasks,
        "summary": report.summary,
        "warnings": report.warnings,
    }
    st.session_state[state.UPLOADS_DONE] += 1  # a new, empty uploader: the same file is not imported twice
    services.refresh()
    state.flash("success", f"Imported {imported.tasks:,} tasks from {md(uploaded.name)}.")
    st.rerun()


def sample_data(conn: Connected, project: Project | None, spec: LabelSpec | None) -> None:
    st.subheader("Sample data")
    st.caption(sample.SAMPLE_ATTRIBUTION)
    if project is not None and spec is not None and set(spec.labels) == SAMPLE_LABELS:
        if project.task_number:
            st.caption(f"This project already has {project.task_number:,} tasks; importing again adds the texts again.")
        kind = "secondary" if project.task_number else "primary"
        if st.button("Import the sample dataset", key=state.W_SAMPLE_IMPORT, type=kind):
            total = len(sample.sample_rows())
            bar = st.progress(0.0, text="Importing the sample ...")
            try:
                created = sample.import_sample(
                    services.gateway(conn),
                    project.id,
                    spec.data_key,
                    on_progress=lambda done, _: bar.progress(min(done / total, 1.0), text=f"{done:,} of {total:,}"),
                )
            except ALError as err:
                st.error(str(err))
                return
            services.refresh()
            state.flash("success", f"Imported {created:,} sample texts into {md(project.title)}.")
            st.rerun()
        return
    st.write("The sample needs a project whose labels are its 15 banking intents; create one in one click.")
    if st.button("Create a sample project", key=state.W_SAMPLE_CREATE, type="primary"):
        try:
            with st.spinner(f"Creating a project and importing {len(sample.sample_rows()):,} texts ..."):
                created = sample.create_sample_project(services.gateway(conn))
        except ALError as err:
            st.error(str(err))
            return
        opened(conn, created.id, f"Created {md(created.title)} (#{created.id}) with {created.task_number:,} tasks.")


def queue_order(conn: Connected, project: Project) -> None:
    st.subheader("Labeling queue order")
    if project.sampling == UNCERTAINTY_SAMPLING:
        st.success("This project serves tasks by uncertainty sampling: the model's order applies.")
    else:
        st.write(f"This project serves tasks by **{md(project.sampling or 'an unknown order')}**.")
        if st.button("Switch to uncertainty sampling", key=state.W_SAMPLING):
            try:
                services.gateway(conn).set_sampling(project.id)
            except ALError as err:
                st.error(str(err))
                return
            services.refresh()
            state.flash("success", "The project now serves tasks by uncertainty sampling.")
            st.rerun()
    st.info(
        "Annotators get the model's order two ways: the **Open the labeling stream** link the Active learning "
        "page gives after each iteration (a Label Studio tab, *Active learning queue*, ordered by the model's "
        "score), or Label Studio's own **Label All Tasks** button with no tasks selected and no filters. Label "
        "Studio's web UI shows uncertainty sampling greyed out as an Enterprise feature, but the open-source "
        "server honours the setting made here (each iteration also sets it)."
    )


state.init()
st.title("Project")
conn = need_connection("the Project page")
try:
    available = services.projects(conn)
    current = services.project(conn, services.current_project_id()) if services.current_project_id() else None
except ALError as err:
    st.error(str(err))
    st.stop()

choose(available)
with st.expander("Create a project", expanded=current is None, icon=":material/add:"):
    create(conn)
st.divider()
spec = project_spec(current) if current is not None else None
if current is None:
    st.info("Choose or create a project above to import tasks into it.")
else:
    st.markdown(f"### Working on {md(current.title)} (#{current.id})")
    st.caption(f"{current.task_number:,} tasks, {current.num_tasks_with_annotations:,} labeled.")
    if spec is not None:
        import_file(conn, current, spec)
sample_data(conn, current, spec)
if current is not None:
    st.divider()
    queue_order(conn, current)
    st.page_link(AL_PAGE, label="Next: run an iteration", icon=":material/model_training:")
