"""The Dask embedding bench: its texts are distinct per run and its table reads rates and ratios right."""

from __future__ import annotations

from bench.dask_embedding import separate_processes, table, texts_for


def test_texts_are_distinct_within_and_across_runs():
    first, second = texts_for("a", 3000), texts_for("b", 10)
    assert len(set(first)) == 3000 and not set(first) & set(second)


def test_the_table_gives_rates_and_the_ratio_to_this_process():
    rows = [
        {"engine": "in-process", "workers": 0, "texts": 100, "seconds": 2.0, "load_seconds": 5.0},
        {"engine": "dask", "workers": 2, "texts": 100, "seconds": 1.0, "load_seconds": 9.0},
    ]
    lines = table(rows).splitlines()
    assert lines[2] == "| in-process | - | 100 | 2.0 | 50.0 | 1.00 | 5.0 |"
    assert lines[3] == "| dask | 2 | 100 | 1.0 | 100.0 | 2.00 | 9.0 |"


def test_a_cluster_in_processes_of_its_own_embeds_and_is_stopped():
    """``--separate``: a scheduler and a worker started as processes of their own, reached over TCP, embed the
    texts; both are stopped before the row is returned (a connect entered too early once failed this path)."""
    import psutil

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    row = separate_processes(1, 4)
    assert row["engine"] == "dask, separate scheduler" and row["workers"] == 1 and row["texts"] == 4
    assert row["seconds"] > 0 and row["load_seconds"] > 0
    assert {p.pid for p in psutil.Process().children(recursive=True)} <= before, "scheduler or worker left running"
