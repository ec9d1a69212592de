"""Every session-state key the dashboard uses, in one place, and their initial values.

Session state is per browser tab; nothing here is shared between users. The API key lives only in
``CONNECTION`` (and, while typed, in the Connect page's password widget): never on disk or in a URL.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

# -- values the app sets ----------------------------------------------------------------------------
CONNECTION = "al_connection"  # ui.services.Connected | None: the validated connection of this tab
AUTO_CONNECT_TRIED = "al_auto_connect_tried"  # the configured default connection was tried once
AUTO_CONNECT_ERROR = "al_auto_connect_error"  # why the default connection failed (shown on Connect)
PROJECT_ID = "al_project_id"  # int | None: the current project (mirrored in the URL's ?project=)
VERSION = "al_version"  # str | None: a model version from the URL's &version= (read by the Progress page)
CONTROLS = "al_controls"  # {project id: <Choices> name} when a config has several Choices
FLASH = "al_flash"  # [(kind, text)] shown once at the top of the next page run
IMPORT_SUMMARY = "al_import_summary"  # {project id: counters of the last import}
LAST_RESULT = "al_last_result"  # {project id: IterationResult of this tab's last run}
PRUNE_THREAD = "al_prune_thread"  # {project id: threading.Thread} started from this tab
UPLOADS_DONE = "al_uploads_done"  # imports finished in this tab: part of the uploader's key, to empty it
LAB_RUN = "al_lab_run"  # al_core.lab.strategy_lab.LabRun | None: this tab's last Strategy lab simulation
LAB_DATA = "al_lab_data"  # (key, LabData) | None: the upload or project labels last read, kept across reruns
LABEL_ISSUES = "al_label_issues"  # {(server url, project id): al_core.quality.LabelIssues} found in this tab
AGREEMENT = "al_agreement"  # {(server url, project id): al_core.quality.AnnotatorReport} measured in this tab
TOLD_SLOW_IMPORT = "al_told_slow_import"  # {server url: model version whose result said uploads are slow there}

# -- widget keys ------------------------------------------------------------------------------------
W_SIDEBAR_PROJECT = "w_sidebar_project"
W_PROJECT_PICK = "w_project_pick"
W_CONNECT_URL = "w_connect_url"
W_CONNECT_KEY = "w_connect_key"
W_CONNECT_SUBMIT = "w_connect_submit"
W_DISCONNECT = "w_disconnect"
W_REFRESH = "w_refresh"
W_NEW_TITLE = "w_new_title"
W_NEW_TEMPLATE = "w_new_template"
W_NEW_XML = "w_new_xml"
W_NEW_CONTROL = "w_new_control"
W_CREATE = "w_create_project"
W_UPLOAD = "w_upload"  # + "-" + UPLOADS_DONE
W_TEXT_COLUMN = "w_text_column"
W_IMPORT = "w_import"
W_SAMPLE_IMPORT = "w_sample_import"
W_SAMPLE_CREATE = "w_sample_create"
W_SAMPLING = "w_set_sampling"
W_MODEL = "w_model"
W_STRATEGY = "w_strategy"
W_DIVERSITY = "w_diversity"
W_EVAL_SIZE = "w_eval_size"
W_UPLOAD_TOP = "w_upload_top"
W_UPLOAD_ALL = "w_upload_all"
W_DASK_SCHEDULER = "w_dask_scheduler"
W_AL_CONTROL = "w_al_control"
W_RUN = "w_run_iteration"
W_RUN_FORCE = "w_run_iteration_anyway"  # after a skipped run: retrain on the same labels
W_ROLLBACK_PREFIX = "w_rollback_"  # + model version
W_PRUNE = "w_prune"
W_LAB_SOURCE = "w_lab_source"
W_LAB_UPLOAD = "w_lab_upload"
W_LAB_TEXT_COLUMN = "w_lab_text_column"
W_LAB_LABEL_COLUMN = "w_lab_label_column"
W_LAB_REREAD = "w_lab_reread"
W_LAB_STRATEGIES = "w_lab_strategies"
W_LAB_MODEL = "w_lab_model"
W_LAB_BUDGET = "w_lab_budget"
W_LAB_BATCH = "w_lab_batch"
W_LAB_SEEDS = "w_lab_seeds"
W_LAB_RUN = "w_lab_run"
W_LAB_DOWNLOAD = "w_lab_download"

_DEFAULTS: dict[str, Any] = {
    CONNECTION: None,
    AUTO_CONNECT_TRIED: False,
    AUTO_CONNECT_ERROR: None,
    PROJECT_ID: None,
    VERSION: None,
    UPLOADS_DONE: 0,
    LAB_RUN: None,
    LAB_DATA: None,
    TOLD_SLOW_IMPORT: {},
}
_PER_PROJECT = (CONTROLS, IMPORT_SUMMARY, LAST_RESULT, PRUNE_THREAD, LABEL_ISSUES, AGREEMENT)


def init() -> None:
    """Give every key its initial value once per session (called at the start of every run)."""
    for key, value in _DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = value
    for key in _PER_PROJECT:
        if key not in st.session_state:
            st.session_state[key] = {}
    if FLASH not in st.session_state:
        st.session_state[FLASH] = []


def flash(kind: str, text: str) -> None:
    """Queue a message for the next run (after ``st.rerun()``); ``kind`` is success, info or warning."""
    st.session_state[FLASH].append((kind, text))


def take_flash() -> list[tuple[str, str]]:
    messages, st.session_state[FLASH] = st.session_state[FLASH], []
    return messages
