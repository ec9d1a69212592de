"""A file streamed into a real Label Studio project chunk by chunk, with progress by bytes read (the
Project page's import path: ``iter_task_chunks`` -> ``Gateway.import_tasks``)."""

from __future__ import annotations

from pathlib import Path

from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import TEMPLATES
from al_core.labelstudio.uploads import iter_task_chunks


def test_a_file_is_imported_in_chunks_with_progress(gateway: Gateway, unique_title: str, tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("id,review\n")
        f.writelines(f'{i},"Review {i}: works, mostly"\n' for i in range(2_500))
        f.write('2500,"Review 7: works, mostly"\n2501,\n')  # a duplicate and an empty row: skipped
    project = gateway.create_project(unique_title, TEMPLATES["sentiment"])
    stream = iter_task_chunks(path, path.name, text_column="review", chunk_size=1000)
    progress: list[tuple[int, float]] = []

    created = gateway.import_tasks(
        project.id, stream, on_progress=lambda done, _: progress.append((done, stream.fraction))
    )

    assert progress[:-1] == [(1000, progress[0][1]), (2000, progress[1][1])] and progress[-1] == (2500, 1.0)
    assert 0 < progress[0][1] < progress[1][1] < 1.0, "three requests, each moving the bar forward"
    assert created == stream.n_tasks == 2500 and (stream.n_duplicates, stream.n_empty) == (1, 1)
    assert gateway.get_project(project.id).task_number == 2500
    texts = {t.data["text"] for t in gateway.list_tasks(project.id)}
    assert len(texts) == 2500 and "Review 2499: works, mostly" in texts
