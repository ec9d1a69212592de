"""Tests for al_core.quality's pure parts: the result's JSON (stable keys), top-N, hiding reviewed tasks, the
warnings about what was left out, and which model a project's issues are found with. The whole flow runs
against the real Label Studio in tests/integration/test_label_issues.py."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from al_core.context import IterationSettings
from al_core.quality import LabelIssue, LabelIssues, project_model, quality_warnings
from al_core.store.history import History
from al_core.store.reviews import Review


def _result() -> LabelIssues:
    issues = (
        LabelIssue(11, "card", "billing", 0.9512345678, 0.0487654322, "charged twice"),
        LabelIssue(12, "billing", "card", 0.8, 0.2, "lost my card"),
        LabelIssue(13, "card", "transfer", 0.7, 0.3, "send money"),
    )
    return LabelIssues(7, "tfidf-logreg", 5, 100, 98, 0, issues, {"card": 0.81, "billing": 0.7}, {"rare_class": 2})


def test_json_has_the_stable_keys_first_most_likely_error_first():
    out = _result().to_json()
    assert list(out)[:2] == ["project", "issues"] and out["project"] == 7
    assert out["issues"][0] == {
        "task_id": 11,
        "given": "card",
        "suggested": "billing",
        "score": 0.951235,
        "self_confidence": 0.048765,
    }
    assert [i["task_id"] for i in out["issues"]] == [11, 12, 13]
    assert out["n_ranked"] == 98 and out["thresholds"] == {"card": 0.81, "billing": 0.7} and out["warnings"] == []


def test_top_and_reviewed_tasks_hidden_only_while_their_label_is_unchanged():
    at = datetime(2026, 1, 1)
    reviewed = {11: Review(11, "card", "ann", at), 12: Review(12, "transfer", "bob", at)}  # 12 relabeled since
    seen = _result().without_reviewed(reviewed)
    assert [i.task_id for i in seen.issues] == [12, 13] and seen.n_reviewed_hidden == 1
    assert [i.task_id for i in seen.top(1).issues] == [12] and seen.top(None) is seen
    assert _result().without_reviewed({}) == _result()


def test_warnings_say_what_was_left_out_of_the_ranking():
    said = quality_warnings({"skipped": 2, "missing_text": 1, "no_usable_label": 3, "rare_class": 4})
    assert said == [
        "1 task has no text in the field the labeling config shows: left out of the ranking.",
        "2 tasks were skipped by every annotator: not ranked.",
        "3 labeled tasks have no usable answer (empty, for another control, several choices where the config allows "
        "one, or only unknown labels): not ranked.",
        "4 labeled tasks are not ranked: their class has fewer than 3 labels, too few to cross-validate. Label more "
        "of it.",
    ]
    assert quality_warnings({"rare_class": 0}) == []


def test_the_model_is_the_latest_succeeded_versions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AL_MODEL", "tfidf-cnb")
    history = History(f"sqlite:///{tmp_path / 'h.db'}", server="http://127.0.0.1:8080")
    assert project_model(history, 3).model == "tfidf-cnb"  # no version yet: the default
    chosen = IterationSettings(model="tfidf-svm", model_params={"C": 2.0}, control="intent")
    record = history.start_iteration(3, 10, chosen.to_json(), "manual")
    history.finish_iteration(record.id, status="succeeded", model_version="al-0001-n10")
    failed = history.start_iteration(3, 12, IterationSettings(model="tfidf-logreg").to_json(), "manual")
    history.finish_iteration(failed.id, status="failed")
    got = project_model(history, 3)
    assert (got.model, got.model_params, got.control) == ("tfidf-svm", {"C": 2.0}, "intent")


def test_the_agreement_report_json_names_the_rule_and_every_figure():
    from al_core.learning import agreement
    from al_core.quality import AGGREGATION_RULE, AnnotatorReport

    votes = [(1, 5, "x"), (1, 6, "x"), (1, 7, "y"), (2, 5, "y"), (2, 6, "y"), (2, 7, "y"), (3, 5, "x"), (3, 6, "x")]
    found = agreement.agreement(votes)
    out = AnnotatorReport(4, len(votes), found, AGGREGATION_RULE, 0, {5: 0.9}).to_json()
    assert out["project"] == 4 and out["n_tasks_several_annotations"] == 3 and out["fleiss_kappa"] == found.fleiss_kappa
    assert out["annotators"][0] == {
        "annotator": 5,
        "n_votes": 3,
        "n_compared": 2,  # on task 1 the others are tied (x, y): no consensus to compare with
        "agreement": 1.0,
        "dawid_skene_reliability": 0.9,
        "name": "user 5",  # the server's users were not given: the id, said as such
        "email": None,
    }
    assert out["disputed"] == [{"task_id": 1, "votes": {"x": 2, "y": 1}, "agreement": 2 / 3}]
    assert out["rule"].startswith("majority vote") and out["dawid_skene_changes"] == 0


def test_reviewed_issues_are_kept_aside_and_come_back_in_rank_order_when_unmarked():
    at = datetime(2026, 1, 1)
    both = _result().without_reviewed({11: Review(11, "card", "ann", at), 13: Review(13, "card", "ann", at)})
    assert [i.task_id for i in both.issues] == [12] and [i.task_id for i in both.reviewed] == [11, 13]
    assert both.n_reviewed_hidden == 2
    one = both.without_reviewed({13: Review(13, "card", "ann", at)})  # 11 unmarked: back first, as ranked
    assert [i.task_id for i in one.issues] == [11, 12] and [i.task_id for i in one.reviewed] == [13]
    assert one.n_reviewed_hidden == 1 and both.without_reviewed({}) == _result()
    assert one.without_reviewed({13: Review(13, "card", "ann", at)}) is one


def test_annotators_are_named_the_way_the_team_knows_them_and_a_deleted_user_by_id():
    from al_core.labelstudio.gateway_payloads import User
    from al_core.learning import agreement
    from al_core.quality import AGGREGATION_RULE, AnnotatorReport

    votes = [(1, 5, "x"), (1, 6, "x"), (1, 9, "y"), (2, 5, "y"), (2, 6, "y"), (2, 9, "y"), (3, 5, "x"), (3, 6, "y")]
    users = {5: User(5, "ann@example.com", "ann", "Ann", "Lee"), 6: User(6, "bob@example.com", "bob")}
    report = AnnotatorReport(4, len(votes), agreement.agreement(votes), AGGREGATION_RULE, 1, {}, users)
    out = report.to_json()
    named = {a["annotator"]: (a["name"], a["email"]) for a in out["annotators"]}
    assert named == {5: ("Ann Lee <ann@example.com>", "ann@example.com"), 6: ("bob@example.com", "bob@example.com"),
                     9: ("user 9", None)}  # fmt: skip
    pair = next(p for p in out["pairs"] if {p["a"], p["b"]} == {5, 6})
    assert {pair["a_name"], pair["b_name"]} == {"Ann Lee <ann@example.com>", "bob@example.com"}
    text = "\n".join(report.lines())
    assert "Ann Lee <ann@example.com>: 3 votes" in text and "user 9: 2 votes" in text and "Fleiss' kappa" in text
    assert "Dawid-Skene would change 1 of them" in text and report.name(None) == "deleted user"


def test_annotator_names_fall_back_to_ids_with_a_warning_when_users_cannot_be_listed():
    from al_core.errors import AuthenticationFailed
    from al_core.labelstudio.gateway_payloads import User
    from al_core.quality import _users

    class NoUsers:
        def list_users(self):
            raise AuthenticationFailed("403 Forbidden")

    class Users:
        def list_users(self):
            return [User(3, "c@example.com", "c")]

    assert _users(Users()) == ({3: User(3, "c@example.com", "c")}, ())
    users, warnings = _users(NoUsers())
    assert users == {} and warnings[0].startswith("Annotators are shown by user id: this API key may not list")
