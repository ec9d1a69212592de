"""Tests for al_core.reports.version_summary: the versions table and the plain-language summary."""

from __future__ import annotations

import pandas as pd
import pytest

from al_core.reports import version_summary
from al_core.store.records import IterationRecord
from tests.unit.records import many, record, stored_as


# -- table ---------------------------------------------------------------------------------------------------
def test_versions_table(three: list[IterationRecord]) -> None:
    table = version_summary.versions_table([*three, record(4, status="failed", error="Label Studio is down")])
    assert list(table.columns) == list(version_summary.TABLE_COLUMNS)
    assert list(table["version"]) == ["al-0004-n80", "al-0003-n60", "al-0002-n40", "al-0001-n3"]
    assert table.loc[0, "error"] == "Label Studio is down"
    assert table.loc[1, "accuracy"] == pytest.approx(0.742)
    assert pd.isna(table.loc[3, "accuracy"])
    assert pd.isna(table.loc[2, "kappa"])
    assert table.loc[1, "total seconds"] == 7.5
    assert table["accuracy"].dtype == "float64"
    assert list(version_summary.versions_table([]).columns) == list(version_summary.TABLE_COLUMNS)
    assert table.to_csv(index=False).startswith("version,status,trigger,started,labels")
    assert table.loc[1, "accuracy 95% interval"] == "60%-86%"  # Wilson of 30 right of 40 (read from 74.2%)
    assert table.loc[1, "vs previous (paired test)"] == "not tested (no per-task outcomes)"
    assert table.loc[3, "accuracy 95% interval"] == ""


# -- summary ------------------------------------------------------------------------------------------------
def test_summary_without_versions() -> None:
    out = version_summary.summary([])
    assert out["n_versions"] == 0
    assert out["latest"] is None
    assert out["verdict"].startswith("No model versions yet")
    assert out["history"]["accuracy"] == []


def test_summary_of_an_improving_model(three: list[IterationRecord]) -> None:
    out = version_summary.summary(three)
    assert out["latest"] == "al-0003-n60"
    assert out["accuracy_text"] == "+4.2 points since al-0002-n40"
    assert out["accuracy_delta"] == pytest.approx(4.2)
    # Versions stored without per-task outcomes are never called better or worse.
    assert "+4.2 points since al-0002-n40: not tested for a real difference" in out["verdict"]
    assert "improving" not in out["verdict"] and out["paired_verdict"] is None
    assert "Mean entropy down from 0.50 to 0.42" in out["verdict"]
    assert "keep labeling" in out["verdict"]
    assert (out["n_labeled"], out["n_labeled_delta"]) == (60, 20)
    assert out["consider_stopping"] is False
    assert out["entropy_delta"] == pytest.approx(-0.08)
    assert out["history"] == {
        "accuracy": [0.70, 0.742],
        "macro_f1": pytest.approx([0.65, 0.692]),
        "n_labeled": [3, 40, 60],
        "mean_entropy": [0.50, 0.42],
        "kappa": [0.93],
    }


def test_summary_of_a_worse_model() -> None:
    out = version_summary.summary(
        [record(1, accuracy=0.8, entropy=0.3), record(2, accuracy=0.75, entropy=0.4, kappa=0.8)]
    )
    assert out["accuracy_text"] == "-5.0 points since al-0001-n20"
    assert "not tested for a real difference" in out["verdict"] and "worse" not in out["verdict"]
    assert "Mean entropy up from 0.30 to 0.40" in out["verdict"]


def test_a_version_is_better_only_when_the_paired_test_says_so() -> None:
    first = record(1, accuracy=0.5, right=set(range(1, 21)))
    better = record(2, accuracy=0.9, right=set(range(1, 37)))  # 16 tasks fixed, none broken
    out = version_summary.summary([first, better])
    assert out["paired_verdict"] == "better" and out["paired_p"] == pytest.approx(2 * 0.5**16)
    assert "+40.0 points since al-0001-n20: the model is improving (on the same 40 evaluation tasks" in out["verdict"]


def test_a_version_is_worse_only_when_the_paired_test_says_so() -> None:
    first = record(1, accuracy=0.9, right=set(range(1, 37)))
    worse = record(2, accuracy=0.5, right=set(range(1, 21)))
    out = version_summary.summary([first, worse])
    assert out["paired_verdict"] == "worse"
    assert "the model got worse (on the same 40 evaluation tasks, McNemar p = 3.1e-05); check recent" in out["verdict"]


def test_a_small_difference_is_within_noise() -> None:
    first = record(1, accuracy=0.7, right=set(range(1, 29)))
    second = record(2, accuracy=0.75, right=set(range(1, 30)) - {5} | {30, 31})  # 3 fixed, 1 broken
    out = version_summary.summary([first, second])
    assert out["paired_verdict"] == "within noise" and out["paired_p"] == pytest.approx(0.625)
    assert "+5.0 points since al-0001-n20: within noise (3 fixed, 1 broken on the same 40" in out["verdict"]
    assert "improving" not in out["verdict"] and "worse" not in out["verdict"]
    table = version_summary.versions_table([first, second])
    assert list(table["vs previous (paired test)"]) == ["within noise (p = 0.62, 40 tasks)", ""]


def test_versions_without_common_tasks_are_not_compared() -> None:
    first = stored_as(record(1, accuracy=0.7), metrics={"eval_outcomes": {"101": ["card", True, 0.8]}})
    out = version_summary.summary([first, record(2, accuracy=0.9, right={1, 2})])
    assert out["paired_verdict"] == "no common tasks"
    assert "no evaluation task in common with al-0001-n20: not compared" in out["verdict"]


def test_summary_when_the_model_says_stop() -> None:
    out = version_summary.summary([record(1, accuracy=0.9), record(2, accuracy=0.905, kappa=0.995, stop=True)])
    assert out["consider_stopping"] is True
    assert "+0.5 points since al-0001-n20: not tested for a real difference" in out["verdict"]
    assert "consider stopping" in out["verdict"]


def test_summary_of_a_single_cold_start() -> None:
    out = version_summary.summary([record(1, cold=True, n_labeled=3)])
    assert out["n_versions"] == 1
    assert out["accuracy"] is None and out["accuracy_text"] == ""
    assert "al-0001-n3 was a cold start" in out["verdict"]


def test_summary_of_a_model_without_evaluation_labels() -> None:
    out = version_summary.summary([record(1, cold=True), record(2, accuracy=None, entropy=0.6)])
    assert "no evaluation-set labels yet" in out["verdict"]
    assert "Mean entropy over the unlabeled pool is 0.60" in out["verdict"]


def test_summary_of_the_first_measured_version_warns_about_a_small_evaluation_set() -> None:
    out = version_summary.summary([record(1, accuracy=0.75, n_eval=12)])
    assert out["accuracy_text"] == "first measured version"
    assert out["accuracy_ci"] == pytest.approx((0.4677, 0.9111), abs=1e-4)  # Wilson, from 9 of 12 right
    assert out["labels_for_margin"] == 274
    assert (
        "on only 12 held-out evaluation labels (±23 points: 95% interval 47%-91%; "
        "about 274 more evaluation labels for ±5 points)" in out["verdict"]
    )


def test_summary_reports_a_failed_last_iteration(three: list[IterationRecord]) -> None:
    out = version_summary.summary([*three, record(4, status="failed", error="Label Studio is down")])
    assert out["last_failed"] == "The last iteration (al-0004-n80) failed: Label Studio is down"
    assert out["latest"] == "al-0003-n60"
    assert version_summary.summary(three)["last_failed"] is None


def test_summary_of_200_versions() -> None:
    out = version_summary.summary(many(200))
    assert out["n_versions"] == 200
    assert out["latest"] == "al-0200-n4000"
    assert out["accuracy_text"].endswith("since al-0199-n3980")


def test_an_accuracy_measured_before_the_evaluation_order_fix_says_its_sample_was_biased() -> None:
    old = record(1, accuracy=0.75, n_eval=60)  # written before ``eval_sample`` was stored
    out = version_summary.summary([old])
    assert out["verdict"].startswith("Accuracy is 75.0% on 60 held-out evaluation labels (±11 points: ")
    assert "), measured on a biased sample of the evaluation set (before the fix)" in out["verdict"]
    fixed = stored_as(old, metrics={"eval_sample": "random"})
    assert "biased sample" not in version_summary.summary([fixed])["verdict"]
    assert "biased sample" not in version_summary.summary([record(1, accuracy=None)])["verdict"], "nothing measured"


def test_accuracy_caption_gives_n_the_interval_and_the_labels_for_5_points() -> None:
    assert version_summary.accuracy_caption(record(1, accuracy=0.75).metrics) == (
        "75.0% on 40 evaluation labels (±14 points: 95% interval 60%-86%; about 246 more evaluation labels for ±5 points)"
    )
    assert version_summary.accuracy_caption(record(1, cold=True).metrics) == "accuracy not measured"
