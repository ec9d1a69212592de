"""What the earlier succeeded versions of a project say to a new run, read once per run (``read_earlier``).

Which version a new one is compared with (``before``), the kappas the stopping rule reads (one per change of
labels: ``stopping_kappas``), whether anything changed since the last version (``unchanged_since``) and
whether the evaluation labels were served as a simple random sample (``eval_sample``). Pure functions of the
stored records, except that ``before`` reads the kept pool predictions of a version.
"""

from __future__ import annotations

from dataclasses import dataclass

from al_core.labelstudio.queue import EVAL_ORDER
from al_core.learning.scoring import Before
from al_core.store import versions
from al_core.store.history import History
from al_core.store.records import IterationRecord

__all__ = ["Earlier", "before", "eval_sample", "read_earlier", "stopping_kappas", "unchanged_since"]


@dataclass(frozen=True)
class Earlier:
    """What the history says about the project's earlier succeeded iterations, oldest first."""

    versions: tuple[str, ...]
    kappas: tuple[float | None, ...]
    records: tuple[IterationRecord, ...] = ()

    @property
    def artifact_paths(self) -> tuple[str | None, ...]:
        """Per version, where its record says its model was saved (finds versions made before artifacts were
        kept per server: ``versions.saved_dir``); None when not known."""
        if not self.records:
            return (None,) * len(self.versions)
        return tuple(r.artifact_path for r in self.records)

    @property
    def fingerprints(self) -> tuple[str | None, ...]:
        """Per version, the digest of the labels it learned from (None: not known, recorded before it was)."""
        if not self.records:
            return (None,) * len(self.versions)
        return tuple(r.counts.label_fingerprint for r in self.records)


def read_earlier(history: History, project_id: int) -> Earlier:
    """The one read of stored iteration records in a run: the succeeded versions and their kappas."""
    done = history.succeeded(project_id)
    return Earlier(
        versions=tuple(it.model_version for it in done),
        kappas=tuple(it.uncertainty.kappa for it in done),
        records=tuple(done),
    )


def before(server: str, project_id: int, earlier: Earlier, fingerprint: str | None = None) -> Before:
    """What scoring compares with: the latest earlier version of ``server``'s project that scored a pool (cold
    starts did not) and learned from other labels than ``fingerprint`` (a re-run on the same labels is compared
    with what came before them, so its kappa measures what the labels changed, not a model with itself)."""
    kappas = stopping_kappas(earlier, fingerprint)
    known = zip(earlier.versions, earlier.fingerprints, earlier.artifact_paths, strict=True)
    for version, seen, artifact_path in reversed(list(known)):
        if fingerprint is not None and seen == fingerprint:
            continue
        pool = versions.load_pool_predictions(server, project_id, version, artifact_path)
        if pool is not None:
            return Before(pool.as_dict(), frozenset(pool.labeled_ids.tolist()), kappas)
    return Before(kappas=kappas)


def stopping_kappas(earlier: Earlier, fingerprint: str | None) -> tuple[float | None, ...]:
    """The kappas the stopping rule reads: one per change of labels, oldest first.

    A version learned from the same labels as the one before it (a forced re-run) adds no pair; when this run
    re-learns the last versions' labels, its own kappa replaces theirs. Unknown fingerprints count as changes.
    """
    kept: list[tuple[str | None, float | None]] = []
    previous: str | None = None
    for seen, kappa in zip(earlier.fingerprints, earlier.kappas, strict=True):
        if seen is None or seen != previous:
            kept.append((seen, kappa))
        previous = seen
    if kept and fingerprint is not None and kept[-1][0] == fingerprint:
        kept.pop()
    return tuple(kappa for _, kappa in kept)


def unchanged_since(earlier: Earlier, fingerprint: str, n_tasks: int) -> IterationRecord | None:
    """The last succeeded version when it learned from exactly these labels with these many tasks, else None
    (a version recorded without a fingerprint is never matched: its project is re-planned once)."""
    last = earlier.records[-1] if earlier.records else None
    if last is None or last.counts.label_fingerprint != fingerprint or last.counts.n_tasks != n_tasks:
        return None
    return last


def eval_sample(earlier: Earlier, n_eval_labeled: int) -> str:
    """``random`` when every evaluation label measured on was served in the set's fixed random order, else
    ``biased``: the labels that the first version planning that order measured on were served by the earlier
    queues, in the strategy's order (a project that planned it from its first version has none)."""
    planned = [(r.counts.eval_order == EVAL_ORDER, r.counts.n_eval_labeled or 0) for r in earlier.records]
    planned.append((True, n_eval_labeled))
    if planned[0][0]:
        return "random"
    return "random" if next(n for is_random, n in planned if is_random) == 0 else "biased"
