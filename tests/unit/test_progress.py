"""The iteration's steps: their order, their timing (summed when a step repeats) and the progress reports."""

from __future__ import annotations

import pytest

from al_core import progress
from al_core.progress import STEPS, StepTimer


def test_the_steps_in_the_order_an_iteration_runs_them():
    assert STEPS == ("read", "labels", "embed", "train", "evaluate", "score", "strategy", "upload", "switch", "record")


def test_a_step_reports_its_start_and_end_and_sums_its_time(monkeypatch):
    clock = iter([10.0, 10.5, 20.0, 20.25, 30.0, 31.0])
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    reports: list[tuple[str, float, str]] = []
    timer = StepTimer(lambda *report: reports.append(report))
    with timer.step("train", "Training"):
        pass
    with timer.step("upload", "Uploading"):
        timer.report("upload", 0.5, "half")
    with timer.step("train", "Training again"):
        pass
    assert timer.timings == {"train": 1.5, "upload": 0.25}
    assert reports == [
        ("train", 0.0, "Training"),
        ("train", 1.0, "Training"),
        ("upload", 0.0, "Uploading"),
        ("upload", 0.5, "half"),
        ("upload", 1.0, "Uploading"),
        ("train", 0.0, "Training again"),
        ("train", 1.0, "Training again"),
    ]


def test_fractions_are_clamped_to_zero_and_one():
    reports: list[float] = []
    timer = StepTimer(lambda step, fraction, message: reports.append(fraction))
    for fraction in (-0.5, 0.25, 1.75):
        timer.report("read", fraction, "")
    assert reports == [0.0, 0.25, 1.0]


def test_a_failing_step_is_timed_but_not_reported_done(monkeypatch):
    clock = iter([1.0, 3.5])
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    reports: list[float] = []
    timer = StepTimer(lambda step, fraction, message: reports.append(fraction))
    with pytest.raises(KeyError), timer.step("labels", "Reading labels"):
        raise KeyError("boom")
    assert (timer.timings, reports) == ({"labels": 2.5}, [0.0])


def test_without_a_callback_it_only_times():
    timer = StepTimer()
    with timer.step("read", "Reading"):
        timer.report("read", 0.5, "half")
    assert list(timer.timings) == ["read"] and timer.timings["read"] >= 0.0
