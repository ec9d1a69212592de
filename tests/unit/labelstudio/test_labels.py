"""Tests of al_core.labelstudio.labels: from annotations to one training label per task."""

from __future__ import annotations

from al_core.labelstudio.label_config import LabelSpec
from al_core.labelstudio.labels import LabeledSet, Vote, aggregate, fingerprint, from_annotations, votes
from al_core.labelstudio.records import Annotation, Task

SPEC = LabelSpec("text", "Text", "text", "sentiment", ("Positive", "Negative", "Neutral"), multiple=False)
MULTI = LabelSpec("text", "Text", "text", "topic", ("Sports", "Politics", "Tech"), multiple=True)


def ann(
    id: int,
    *choices: str,
    control: str = "sentiment",
    at: str = "2025-01-01T10:00:00Z",
    cancelled: bool = False,
    truth: bool = False,
) -> Annotation:
    result = (
        ({"from_name": control, "to_name": "text", "type": "choices", "value": {"choices": list(choices)}},)
        if choices
        else ()
    )
    return Annotation(id=id, result=result, was_cancelled=cancelled, ground_truth=truth, updated_at=at)


def task(id: int, *annotations: Annotation, text: object = "some text") -> Task:
    return Task(id=id, data={"text": text}, annotations=annotations)


def test_single_annotation():
    assert aggregate(task(1, ann(1, "Positive")), SPEC) == "Positive"


def test_cancelled_annotations_are_dropped_and_all_cancelled_tasks_counted_as_skipped():
    tasks = [
        task(1, ann(1, cancelled=True)),
        task(2, ann(2, "Negative", cancelled=True), ann(3, "Positive")),
        task(3),  # not annotated yet: not a skip
    ]
    labeled = from_annotations(tasks, SPEC)
    assert labeled.task_ids == (2,)
    assert labeled.labels == ("Positive",)
    assert labeled.skipped == 1


def test_majority_vote():
    t = task(
        1,
        ann(1, "Negative", at="2025-01-03T00:00:00Z"),
        ann(2, "Positive", at="2025-01-01T00:00:00Z"),
        ann(3, "Positive", at="2025-01-02T00:00:00Z"),
    )
    assert aggregate(t, SPEC) == "Positive"


def test_tie_goes_to_the_latest_annotation():
    t = task(1, ann(1, "Negative", at="2025-01-02T00:00:00Z"), ann(2, "Positive", at="2025-01-01T00:00:00Z"))
    assert aggregate(t, SPEC) == "Negative"


def test_tie_with_equal_timestamps_goes_to_the_highest_id():
    t = task(1, ann(7, "Negative"), ann(9, "Neutral"))
    assert aggregate(t, SPEC) == "Neutral"


def test_timestamps_are_compared_as_times_not_strings():
    # As strings "...:00Z" > "...:00.500Z", although it is the earlier time.
    t = task(1, ann(1, "Negative", at="2025-01-01T10:00:00.500Z"), ann(2, "Positive", at="2025-01-01T10:00:00Z"))
    assert aggregate(t, SPEC) == "Negative"


def test_ground_truth_wins_over_the_majority():
    t = task(1, ann(1, "Positive"), ann(2, "Positive"), ann(3, "Neutral", truth=True))
    assert aggregate(t, SPEC) == "Neutral"
    labeled = from_annotations([t, task(2, ann(4, "Negative"))], SPEC)
    assert labeled.ground_truth_used == 1


def test_unknown_label_is_counted_and_its_annotation_ignored():
    tasks = [
        task(1, ann(1, "Angry"), ann(2, "Negative")),
        task(2, ann(3, "Angry")),
        task(3, ann(4, "Bored")),
    ]
    labeled = from_annotations(tasks, SPEC)
    assert labeled.labels == ("Negative",)
    assert labeled.unknown_labels == {"Angry": 2, "Bored": 1}


def test_empty_results_and_other_controls_are_ignored():
    other = ann(2, "Positive", control="mood")
    assert aggregate(task(1, ann(1), other), SPEC) is None
    assert aggregate(task(1, ann(1), other, ann(3, "Neutral")), SPEC) == "Neutral"


def test_single_choice_spec_ignores_annotations_with_several_choices():
    assert aggregate(task(1, ann(1, "Positive", "Negative")), SPEC) is None


def test_multi_label_keeps_labels_chosen_by_more_than_half():
    t = task(
        1,
        ann(1, "Tech", "Sports", control="topic"),
        ann(2, "Sports", control="topic"),
        ann(3, "Sports", "Tech", "Politics", control="topic"),
    )
    assert aggregate(t, MULTI) == ("Sports", "Tech")  # config order


def test_multi_label_without_a_majority_takes_the_latest_set():
    t = task(
        1,
        ann(1, "Tech", control="topic", at="2025-01-01T00:00:00Z"),
        ann(2, "Politics", "Sports", control="topic", at="2025-01-02T00:00:00Z"),
    )
    assert aggregate(t, MULTI) == ("Sports", "Politics")


def test_multi_label_set_and_classes():
    labeled = from_annotations(
        [task(1, ann(1, "Tech", control="topic")), task(2, ann(2, "Politics", "Tech", control="topic"))],
        MULTI,
    )
    assert labeled.labels == (("Tech",), ("Politics", "Tech"))
    assert labeled.classes == ("Politics", "Tech")


def test_missing_text_is_counted():
    tasks = [
        Task(1, {"body": "x"}, (ann(1, "Positive"),)),
        task(2, ann(2, "Positive"), text="   "),
        task(3, ann(3, "Positive"), text=None),
        task(4, ann(4, "Negative"), text="fine"),
        task(5, text=""),  # unlabeled: not counted
    ]
    labeled = from_annotations(tasks, SPEC)
    assert labeled.missing_text == 3
    assert (labeled.n, labeled.texts) == (1, ("fine",))


def test_labeled_set_fields_are_aligned_and_classes_sorted():
    tasks = [task(i, ann(i, label), text=f"t{i}") for i, label in enumerate(["Neutral", "Negative", "Neutral"])]
    labeled = from_annotations(tasks, SPEC)
    assert labeled == LabeledSet((0, 1, 2), ("t0", "t1", "t2"), ("Neutral", "Negative", "Neutral"))
    assert labeled.classes == ("Negative", "Neutral")
    assert labeled.n == 3


# -- the fingerprint of what an iteration learned from -----------------------------------------------------------
def labeled(*pairs: tuple[int, object]) -> LabeledSet:
    return LabeledSet(
        task_ids=tuple(t for t, _ in pairs), texts=tuple("x" for _ in pairs), labels=tuple(lb for _, lb in pairs)
    )


def test_the_fingerprint_ignores_the_reading_order_texts_and_counts():
    a = fingerprint(labeled((1, "pos"), (2, "neg")), labeled((9, "pos")))
    assert a == "9da254456dfb8ca8"
    assert fingerprint(labeled((2, "neg"), (1, "pos")), labeled((9, "pos"))) == a
    other_texts = LabeledSet(task_ids=(1, 2), texts=("p", "q"), labels=("pos", "neg"), skipped=4)
    assert fingerprint(other_texts, labeled((9, "pos"))) == a


def test_a_new_or_changed_label_changes_the_fingerprint():
    a = fingerprint(labeled((1, "pos"), (2, "neg")), labeled((9, "pos")))
    changed = [
        fingerprint(labeled((1, "pos"), (2, "pos")), labeled((9, "pos"))),  # a changed label
        fingerprint(labeled((1, "pos"), (2, "neg"), (3, "neg")), labeled((9, "pos"))),  # a new training label
        fingerprint(labeled((1, "pos"), (2, "neg")), labeled((9, "pos"), (8, "neg"))),  # a new evaluation label
        fingerprint(labeled((1, "pos"), (2, "neg"), (9, "pos")), labeled()),  # the same labels, another part
        fingerprint(labeled((1, "pos")), labeled((9, "pos"))),  # a label removed
    ]
    assert len({a, *changed}) == 6


def test_multi_label_sets_are_fingerprinted_as_sets_of_their_labels():
    a = fingerprint(labeled((1, ("a", "b"))), labeled())
    assert a == fingerprint(labeled((1, ("a", "b"))), labeled())
    assert a != fingerprint(labeled((1, ("a",))), labeled())
    assert a != fingerprint(labeled((1, "a|b")), labeled())


def test_votes_are_the_usable_single_choices_with_their_annotator():
    def by(user: int | None, annotation: Annotation) -> Annotation:
        return Annotation(annotation.id, annotation.result, annotation.was_cancelled, completed_by=user)

    tasks = [
        task(1, by(5, ann(1, "Positive")), by(6, ann(2, "Negative")), by(7, ann(3, "Positive", cancelled=True))),
        task(2, by(5, ann(4, "Angry")), by(6, ann(5, "Positive", "Negative")), by(None, ann(6, "Neutral"))),
        task(3, by(5, ann(7)), by(6, ann(8, "Neutral", control="other"))),
    ]
    assert votes(tasks, SPEC) == [Vote(1, 5, "Positive"), Vote(1, 6, "Negative"), Vote(2, None, "Neutral")]
    assert votes(tasks, MULTI) == []


def test_a_subset_keeps_the_chosen_examples_in_order_and_the_counts_of_what_was_left_out():
    full = LabeledSet(task_ids=(1, 2, 3), texts=("a", "b", "c"), labels=("x", "y", "x"), skipped=2, missing_text=1)
    part = full.subset(lambda tid: tid != 2)
    assert (part.task_ids, part.texts, part.labels) == ((1, 3), ("a", "c"), ("x", "x"))
    assert (part.skipped, part.missing_text) == (2, 1)
