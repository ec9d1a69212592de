"""bench.scale end to end at a small size (its --pool option), against the session's real Label Studio.

Under `make test-scale` (marker ``scale``): it runs two iterations in processes of their own and imports,
lists and exports through the real server (~1-2 min); the engine paths it drives are tested in `make test`
(tests/unit/bench/test_bench_scale.py, the task-cache and iteration tests)."""

from __future__ import annotations

import pytest

from al_core.settings import Connection
from bench import scale

pytestmark = pytest.mark.scale


def test_a_small_scale_run_imports_lists_and_iterates_cold_then_warm(
    label_studio: Connection, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.api_key)
    monkeypatch.setenv("AL_DATA_DIR", str(tmp_path))  # run() points it at its own temporary dir; restored after
    result = scale.run(pool=150, labeled=60, more=2, chunk=100, compare_pool=40)

    assert result["import"]["tasks"] == 150 and result["import"]["annotations"] == 60
    listing = result["listing"]
    assert listing["n_tasks"] == listing["n_exported"] == 40 and listing["faster"] in ("paginated", "export")
    cold, warm = result["cold"], result["warm"]
    assert cold["full_sync"] and cold["tasks_fetched"] == 150
    assert not warm["full_sync"] and 2 <= warm["tasks_fetched"] < 150, "the warm run lists only what changed"
    assert warm["n_labeled"] + warm["n_unlabeled"] > cold["n_labeled"]  # the 2 new labels were read
    for run in (cold, warm):
        assert run["app_peak_rss_mb"] > 50 and run["n_predictions"] > 0
        assert run["server_peak_rss_mb"] is not None  # the server's process was found by its port
    md = scale.table(result)
    assert "| import |" in md and "| cold iteration |" in md and "| warm iteration |" in md
    assert "| listing 40 tasks, export |" in md
