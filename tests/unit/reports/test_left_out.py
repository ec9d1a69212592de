"""What an iteration left out, as sentences built from its counts."""

from __future__ import annotations

from al_core.labelstudio.gateway_payloads import SLOW_IMPORT_WARNING
from al_core.reports.left_out import COLD_START_QUEUED, iteration_warnings, run_message


def test_nothing_left_out_says_nothing():
    assert iteration_warnings({}) == []
    assert iteration_warnings({"missing_text": 0, "skipped": 0, "unknown_labels": {}, "n_labeled": 40}) == []


def test_each_kind_left_out_is_one_sentence_with_its_count():
    counts = {
        "missing_text": 3,
        "skipped": 1,
        "unknown_labels": {"Spam": 2, "Ham": 1},
        "no_usable_label": 2,
        "predictions_left_out": 1,
    }
    assert iteration_warnings(counts) == [
        "3 tasks have no text in the field the labeling config shows: left out of training and scoring.",
        "1 task was skipped by every annotator: not trained on.",
        "3 annotations name labels not in the labeling config: 'Ham' (1), 'Spam' (2); ignored. Add the labels to "
        "the config or fix the annotations.",
        "2 labeled tasks have no usable answer (empty, for another control, several choices where the config allows "
        "one, or only unknown labels): neither trained on nor queued.",
        "1 prediction was left out: its task was deleted in Label Studio during the run.",
    ]


def test_a_stored_count_of_unknown_labels_and_malformed_counts():
    assert iteration_warnings({"unknown_labels": 1, "skipped": "2", "missing_text": None, "no_usable_label": True}) == [
        "1 annotation names a label not in the labeling config; ignored. Add the labels to the config or fix the "
        "annotations."
    ]


def test_a_run_message_announces_a_queue_only_when_predictions_landed():
    cold = "Cold start: no model yet."
    assert run_message(cold, True, 50, 50) == f"{cold} {COLD_START_QUEUED}"
    assert run_message("Trained x.", False, 10, 10) == "Trained x."
    nothing = run_message(cold, True, 0, 0)
    assert COLD_START_QUEUED not in nothing
    assert (
        nothing
        == f"{cold} Nothing was queued: every task is labeled, so nothing is left to queue; import more tasks to continue."
    )
    deleted = run_message("Trained x.", False, 0, 12)
    assert (
        deleted
        == "Trained x. Nothing was queued: all 12 tasks it scored were deleted from Label Studio during the run; run it again."
    )


def test_a_server_whose_uploads_recount_the_project_is_told_its_fix():
    assert iteration_warnings({"prediction_import": "per-project"}) == [SLOW_IMPORT_WARNING]
    assert iteration_warnings({"prediction_import": "per-prediction"}) == []
    assert iteration_warnings({"prediction_import": None}) == []
