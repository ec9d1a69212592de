"""Background pruning never makes Label Studio refuse an annotator (the real server on SQLite).

The old way (Label Studio's version delete: one transaction over every prediction of the version) is run first
on the same kind of project, to show the test reproduces the failure it guards against; the pruner's way then
runs with a simulated annotator asking ``/next`` and submitting annotations continuously, with no retries.
The numbers at scale are in bench/README.md (``python -m bench.prune_annotators``).
"""

from __future__ import annotations

import time

from al_core.labelstudio.gateway import Gateway
from al_core.pruning import Pacing, delete_version_paced, prune_versions
from al_core.store.history import History
from bench.prune_annotators import Annotator, build_project

OLD = 150  # predictions of the old version: the old way then holds the write lock ~10 s (> SQLite's 5 s timeout)
PACED = 60  # the pruner's way takes ~0.4-2.7 s a prediction: enough batches to meet the annotator many times


def _annotating_while(label_studio, project_id: int, prune) -> tuple[list, object]:
    annotator = Annotator(label_studio.url, label_studio.api_key, project_id, think=0.0, seed=1)
    annotator.start()
    time.sleep(2)  # the annotator is labeling before the prune starts
    try:
        result = prune()
    finally:
        annotator.stop.set()
        annotator.join(120)
    return annotator.calls.rows, result


def test_the_old_way_makes_label_studio_refuse_the_annotator(label_studio, gateway: Gateway) -> None:
    project_id, old = build_project(gateway, tasks=400, old=OLD, seed=1)
    rows, _ = _annotating_while(
        label_studio, project_id, lambda: delete_version_paced(gateway, project_id, old, Pacing(batch=0, pause=0))
    )
    failed = [what for _, ok, what in rows if not ok]
    assert failed, f"the old way did not reproduce a refusal in {len(rows)} requests"
    assert old not in gateway.model_versions(project_id)


def test_no_annotator_request_fails_while_the_pruner_deletes_a_version(
    label_studio, gateway: Gateway, tmp_path
) -> None:
    project_id, old = build_project(gateway, tasks=400, old=PACED, seed=2)
    history = History(f"sqlite:///{tmp_path / 'history.sqlite'}")
    rows, pruned = _annotating_while(label_studio, project_id, lambda: prune_versions(gateway, history, project_id, 1))
    assert pruned == [old]
    assert gateway.model_versions(project_id) == {"al-0002-now": 400}
    failed = [what for _, ok, what in rows if not ok]
    assert len(rows) > 10 and failed == [], f"{len(failed)} of {len(rows)} annotator requests failed: {failed[:3]}"
