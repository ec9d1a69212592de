"""Background pruning never makes Label Studio refuse an annotator: checked as properties that hold on a quiet
machine and on a loaded one, against the real server. The measured error rates and latencies during a prune are
in bench/README.md (``python -m bench.prune_annotators``): a race with load, so a benchmark, not a test.

Label Studio (SQLite) refuses a person's request when a writer holds its database's write lock past the 5 s busy
timeout (a browser's session and last-activity writes are not retried; see tests/ls_sqlite.py). So:
- the old way (Label Studio's version delete) holds the write lock over the whole delete;
- the pruner deletes one prediction per request (each its own short transaction), ``Pacing.batch`` at a time, and
  at every pause the database is free for writers and an annotator's ``/next`` and annotation are served.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from al_core.labelstudio.gateway import Gateway
from al_core.pruning import DEFAULT_PACING, Pacing, delete_version_paced, prune_versions
from al_core.store.history import History
from bench.prune_annotators import Annotator, build_project
from tests import ls_sqlite


class Recording(Gateway):
    """The real gateway; records the method and path of each raw request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.requests: list[tuple[str, str]] = []

    def _raw(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        self.requests.append((method, path))
        return super()._raw(method, path, what, **kwargs)


def test_the_old_way_holds_label_studios_write_lock_while_it_deletes(label_studio_server, gateway: Gateway) -> None:
    project_id, old = build_project(gateway, tasks=60, old=60, seed=1)
    db = ls_sqlite.database(label_studio_server)
    assert not ls_sqlite.writer_must_wait(db)  # nobody holds it before
    deleting = threading.Thread(target=delete_version_paced, args=(gateway, project_id, old, Pacing(0, 0)))
    seen = []
    deleting.start()
    while deleting.is_alive():  # one transaction over ~60 x 63+ ms: polled every few ms, it cannot be missed
        seen.append(ls_sqlite.writer_must_wait(db))
        deleting.join(0.005)
    assert any(seen), f"the write lock was never held in {len(seen)} looks during the version delete"
    assert old not in gateway.model_versions(project_id)


def test_the_pruner_deletes_one_prediction_a_request_and_frees_label_studio_at_every_pause(
    label_studio, label_studio_server, tmp_path
) -> None:
    gateway = Recording(label_studio.url, label_studio.api_key)
    project_id, old = build_project(gateway, tasks=25, old=25, seed=2)
    db = ls_sqlite.database(label_studio_server)
    annotator = Annotator(label_studio.url, label_studio.api_key, project_id, think=0.0, seed=2)
    pauses = []

    def pause(seconds: float) -> None:  # instead of sleeping: look at Label Studio while the pruner waits
        deleted = sum(method == "DELETE" for method, _ in gateway.requests)
        pauses.append((seconds, deleted, ls_sqlite.writer_must_wait(db)))
        annotator.label_one()

    gateway.requests.clear()
    history = History(f"sqlite:///{tmp_path / 'history.sqlite'}", server=gateway.url)
    pruned = prune_versions(gateway, history, project_id, 1, sleep=pause)
    assert pruned == [old] and gateway.model_versions(project_id) == {"al-0002-now": 25}
    deletes = [path for method, path in gateway.requests if method == "DELETE"]
    assert len(deletes) == 25 and all(re.fullmatch(r"api/predictions/\d+/", p) for p in deletes), deletes
    # a pause of Pacing.pause after each batch of Pacing.batch but the last, the database free for writers in each
    batch, pause = DEFAULT_PACING.batch, DEFAULT_PACING.pause
    assert pause > 0 and pauses == [(pause, n, False) for n in range(batch, 25, batch)], pauses
    rows = annotator.calls.rows
    assert [what for _, _, what in rows] == ["next", "annotate"] * len(pauses) and all(ok for _, ok, _ in rows), rows
