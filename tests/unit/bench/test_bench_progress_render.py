"""bench.progress_render's offline part on 5 versions: the history it builds through the store's API reads back
as realistic succeeded versions, and every report function the Progress page calls is timed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from al_core.store.records import succeeded_versions
from bench import progress_render


def test_the_history_holds_realistic_versions(tmp_path: Path) -> None:
    history = progress_render.build_history(f"sqlite:///{tmp_path / 'history.db'}", 5)
    records = history.iterations(1)
    assert [r.model_version for r in succeeded_versions(records)] == [f"al-{i:04d}-n{20 * i}" for i in range(1, 6)]
    latest = records[-1]
    assert len(latest.metrics.labels) == 15 and len(latest.metrics.confusion) == 15
    assert len(latest.uncertainty.histogram_counts) == 20 and latest.uncertainty.kappa is not None
    assert records[0].uncertainty.kappa is None and set(latest.timings) >= {"read", "train", "upload"}


def test_every_report_of_the_page_is_timed(tmp_path: Path) -> None:
    history = progress_render.build_history(f"sqlite:///{tmp_path / 'history.db'}", 5)
    timed = progress_render.time_reports(history)
    assert set(timed) == {"read_history", *progress_render._report_calls(history.iterations(1))}
    assert {"learning_curve", "compare_versions", "versions_table"} <= set(timed)
    assert all(seconds >= 0 for seconds in timed.values())


def test_main_writes_json_and_leaves_the_environment_alone(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    before = os.environ.get("AL_DATA_DIR")
    out = tmp_path / "result.json"
    assert progress_render.main(["--versions", "5", "--no-page", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["versions"] == 5 and result["reports_total_s"] > 0 and "page" not in result
    assert "5 versions; reports" in capsys.readouterr().out
    assert os.environ.get("AL_DATA_DIR") == before


def test_too_few_versions_is_refused(capsys: pytest.CaptureFixture) -> None:
    assert progress_render.main(["--versions", "1"]) == 2
    assert "--versions must be at least 2. Got 1 instead." in capsys.readouterr().err
