"""Label issues: the labeled tasks whose given label the model finds least likely, for the team to review.

Every labeled task is predicted by the project's model trained without it (out-of-fold); confident learning
flags the tasks the model is confident belong to another class. Marking one as reviewed hides it for everyone
(stored in the history database) while its label stays the same. ``?project=ID`` opens a project directly.
"""

from __future__ import annotations

import streamlit as st

from al_core import quality
from al_core.errors import ALError
from al_core.reports.mistakes import excerpt, task_link
from al_core.store import reviews
from ui import services, state
from ui.common import md, need_connection, need_project

# Widget keys of this page (the shared ones live in ui/state.py).
W_FIND = "w_issues_find"
W_SHOWN = "w_issues_shown"
W_REVIEWED_PREFIX = "w_issues_reviewed_"  # + task id
W_UNMARK_PREFIX = "w_issues_unmark_"  # + task id
W_SHOW_REVIEWED = "w_issues_show_reviewed"
W_AGREEMENT = "w_issues_agreement"
PAGE_SIZE = 25


def find(conn: services.Connected, project_id: int) -> bool:
    bar = st.progress(0.0, text="Reading the labeled tasks ...")
    steps = quality.STEPS

    def progress(step: str, fraction: float, message: str) -> None:
        done = (steps.index(step) + fraction) / len(steps) if step in steps else 0.0
        bar.progress(min(done, 1.0), text=message)

    try:
        found = quality.find_label_issues(
            services.gateway(conn), services.history(conn), project_id, on_progress=progress
        )
    except ALError as err:
        bar.empty()
        st.error(md(err))
        return False
    bar.empty()
    st.session_state[state.LABEL_ISSUES][(conn.url, project_id)] = found
    return True


def mark(conn: services.Connected, project_id: int, issue: quality.LabelIssue) -> None:
    try:
        reviews.mark_reviewed(services.history(conn), project_id, issue.task_id, issue.given, by=conn.email)
    except ALError as err:
        state.flash("warning", str(err))
        return
    state.flash("success", f"Task {issue.task_id} marked as reviewed: hidden while it keeps the label {issue.given!r}.")


def unmark(conn: services.Connected, project_id: int, issue: quality.LabelIssue) -> None:
    try:
        reviews.unmark(services.history(conn), project_id, issue.task_id)
    except ALError as err:
        state.flash("warning", str(err))
        return
    state.flash("success", f"Task {issue.task_id} unmarked: it is back in the list of likely label errors.")


def issue_row(
    conn: services.Connected, project_id: int, issue: quality.LabelIssue, review: reviews.Review | None = None
) -> None:
    with st.container(border=True):
        text, labels, actions = st.columns([5, 3, 2], vertical_alignment="center")
        text.markdown(md(excerpt(issue.text)))
        text.caption(f"Task {issue.task_id}")
        labels.markdown(f"Given **{md(issue.given)}** · suggested **{md(issue.suggested)}**")
        labels.caption(f"Score {issue.score:.2f}: the model gives the given label {issue.self_confidence:.0%}")
        if review is not None:
            who = f" by {md(review.reviewed_by)}" if review.reviewed_by else ""
            labels.caption(f"Reviewed{who} on {review.reviewed_at:%Y-%m-%d %H:%M} UTC")
        actions.link_button("Open in Label Studio", task_link(conn.url, project_id, issue.task_id), width="stretch")
        if review is None:
            key, label, action, icon = f"{W_REVIEWED_PREFIX}{issue.task_id}", "Mark reviewed", mark, ":material/done:"
        else:
            key, label, action, icon = f"{W_UNMARK_PREFIX}{issue.task_id}", "Unmark", unmark, ":material/undo:"
        actions.button(label, key=key, on_click=action, args=(conn, project_id, issue), icon=icon, width="stretch")


def agreement_section(conn: services.Connected, project_id: int) -> None:
    st.subheader("Annotator agreement")
    key = (conn.url, project_id)
    if st.button("Measure agreement between annotators", key=W_AGREEMENT, icon=":material/groups:"):
        with st.spinner("Reading every annotation ..."):
            try:
                st.session_state[state.AGREEMENT][key] = quality.annotator_agreement(services.gateway(conn), project_id)
            except ALError as err:
                st.error(md(err))
                return
    report = st.session_state[state.AGREEMENT].get(key)
    if report is None:
        st.caption("Where several annotators labeled the same tasks: kappas, who agrees with whom, disputed tasks.")
        return
    a = report.agreement
    if not a.n_tasks:
        st.info(
            f"No task has two annotations yet ({a.n_single:,} tasks have one): agreement needs the same tasks labeled "
            "by several people. In Label Studio, raise the project's overlap (Settings > Annotation) for a sample."
        )
        return
    for warning in report.warnings:
        st.warning(md(warning))
    cols = st.columns(3)
    cols[0].metric("Fleiss' kappa", "n/a" if a.fleiss_kappa is None else f"{a.fleiss_kappa:.2f}", border=True)
    cols[1].metric("Tasks with several annotations", f"{a.n_tasks:,}", border=True)
    cols[2].metric("Annotators", f"{len(a.annotators):,}", border=True)
    st.caption(
        f"Training labels today: {md(report.rule)}. Dawid-Skene, which weighs each annotator by estimated reliability, "
        f"would label {report.dawid_skene_changes:,} of these {a.n_tasks:,} tasks differently."
    )
    st.dataframe(
        [
            {
                "annotator": report.name(x.annotator),
                "annotations": x.n_votes,
                "compared": x.n_compared,
                "agreement with the others' majority": x.agreement,
                "Dawid-Skene reliability": report.reliability.get(x.annotator),
            }
            for x in a.annotators
        ],  # fmt: skip
        hide_index=True,
        column_config={
            "agreement with the others' majority": st.column_config.NumberColumn(format="percent"),
            "Dawid-Skene reliability": st.column_config.NumberColumn(format="percent"),
        },
    )
    if a.pairs:
        st.caption("Cohen's kappa of each pair of annotators, on the tasks both labeled")
        st.dataframe(
            [
                {
                    "annotator": report.name(p.a),
                    "other annotator": report.name(p.b),
                    "tasks": p.n,
                    "Cohen's kappa": p.kappa,
                }
                for p in a.pairs
            ],
            hide_index=True,
            column_config={"Cohen's kappa": st.column_config.NumberColumn(format="%.2f")},
        )
    if a.disputed:
        st.caption("The most disputed tasks: the smallest share of votes for the leading label first")
        st.dataframe(
            [
                {
                    "task": d.task_id,
                    "votes": ", ".join(f"{k} x{v}" for k, v in d.votes.items()),
                    "leading share": d.agreement,
                    "open in Label Studio": task_link(conn.url, project_id, d.task_id),
                }
                for d in a.disputed
            ],  # fmt: skip
            hide_index=True,
            column_config={
                "leading share": st.column_config.NumberColumn(format="percent"),
                "open in Label Studio": st.column_config.LinkColumn(display_text="open task"),
            },
        )


def issues_section(conn: services.Connected, project_id: int) -> None:
    st.subheader("Likely label errors")
    found = st.session_state[state.LABEL_ISSUES].get((conn.url, project_id))
    again = "Look again (after relabeling)" if found else "Find likely label errors"
    if st.button(again, key=W_FIND, type="primary" if found is None else "secondary", icon=":material/search:"):
        if not find(conn, project_id):
            return
        found = st.session_state[state.LABEL_ISSUES][(conn.url, project_id)]
    if found is None:
        st.info(
            "Press **Find likely label errors** to check the labels given so far. It needs at least two labeled "
            "classes; a few hundred labels take seconds, sentence-embedding models take longer the first time."
        )
        return
    try:
        reviewed = reviews.reviews(services.history(conn), project_id)
    except ALError as err:
        st.error(md(err))
        return
    found = found.without_reviewed(reviewed)
    for warning in found.warnings:
        st.warning(md(warning))
    st.caption(
        f"{len(found.issues):,} likely label errors among {found.n_ranked:,} ranked labeled tasks ({md(found.model)}, "
        f"{found.folds}-fold out-of-fold); {found.n_reviewed_hidden:,} reviewed ones hidden."
    )
    if found.issues:
        shown = st.number_input(
            "Issues shown, most likely first", min_value=1, value=PAGE_SIZE, step=PAGE_SIZE, key=W_SHOWN
        )
        for issue in found.issues[: int(shown)]:
            issue_row(conn, project_id, issue)
    else:
        st.success("No likely label errors left: the model agrees with the labels it can judge. Look again later.")
    reviewed_section(conn, project_id, found, reviewed)


def reviewed_section(
    conn: services.Connected, project_id: int, found: quality.LabelIssues, reviewed: dict[int, reviews.Review]
) -> None:
    label = f"Show reviewed ({len(found.reviewed):,})"
    if not st.toggle(label, key=W_SHOW_REVIEWED, help="The tasks marked reviewed, to look again or unmark them"):
        return
    if not found.reviewed:
        st.caption("No task is marked reviewed under its current label.")
    for issue in found.reviewed:
        issue_row(conn, project_id, issue, reviewed[issue.task_id])


state.init()
conn = need_connection("the Label issues page")
project = need_project(conn, "the Label issues page")
st.title(f"Label issues in {md(project.title)}")
st.caption(
    "Each labeled task is predicted by the project's model trained without it (5-fold cross-validation). A task is "
    "listed when the model is confident it belongs to another class (confident learning, Northcutt et al. 2021); "
    "the score is 1 minus the probability of the given label, so the most likely errors come first. Open a task, "
    "fix its label in Label Studio if it is wrong, and mark it reviewed."
)
issues_section(conn, project.id)
agreement_section(conn, project.id)
