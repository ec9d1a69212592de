"""Home: what the dashboard does, the three steps, and the current project's live counts."""

from __future__ import annotations

import streamlit as st

from al_core.errors import ALError
from ui import activity, services, state
from ui.common import AL_PAGE, CONNECT_PAGE, PROJECT_PAGE, md

state.init()
st.title("Active learning for Label Studio")
st.write(
    "Label fewer texts for the same accuracy. This dashboard trains a small text classifier on the labels "
    "your team has given so far in Label Studio, scores every unlabeled task, and reorders Label Studio's "
    "labeling queue so annotators see the most informative texts first. A fixed evaluation set, labeled "
    "along the way and never trained on, tells you honestly how good the model is after each iteration."
)

conn = st.session_state[state.CONNECTION]
steps = st.columns(3)
with steps[0].container(border=True):
    st.markdown("**1. Connect**")
    st.caption("Your Label Studio URL and API key.")
    st.page_link(CONNECT_PAGE, label="Connect", icon=":material/link:")
with steps[1].container(border=True):
    st.markdown("**2. Set up a project**")
    st.caption("Create a text-classification project, import texts or the sample data.")
    st.page_link(PROJECT_PAGE, label="Project", icon=":material/folder_open:")
with steps[2].container(border=True):
    st.markdown("**3. Iterate**")
    st.caption("Label a few tasks in Label Studio, run an iteration, repeat.")
    st.page_link(AL_PAGE, label="Active learning", icon=":material/model_training:")

st.subheader("Current project")
if conn is None:
    st.info("Not connected to Label Studio yet: start with step 1.")
    st.page_link(CONNECT_PAGE, label="Connect to Label Studio", icon=":material/link:")
    st.stop()
project_id = services.current_project_id()
if project_id is None:
    st.info("No project selected: pick one in the sidebar, or create one in step 2.")
    st.page_link(PROJECT_PAGE, label="Set up a project", icon=":material/folder_open:")
    st.stop()
try:
    project = services.project(conn, project_id)
    eval_size = len(services.history(conn).eval_set(project_id))
except ALError as err:
    st.error(str(err))
    st.stop()

st.markdown(f"**{md(project.title)}** (#{project.id})")
cols = st.columns(4)
cols[0].metric("Tasks", f"{project.task_number:,}")
cols[1].metric("Labeled", f"{project.num_tasks_with_annotations:,}")
cols[2].metric("Evaluation set", f"{eval_size:,}" if eval_size else "not drawn yet")
cols[3].metric("Model version", project.model_version or "none yet")
activity.banner(conn, project.id)
if project.task_number == 0:
    st.info("This project has no tasks yet: import texts or the sample data.")
    st.page_link(PROJECT_PAGE, label="Import tasks", icon=":material/upload:")
elif not project.model_version:
    st.info("No model yet: run the first iteration to order the labeling queue.")
    st.page_link(AL_PAGE, label="Run the first iteration", icon=":material/model_training:")
