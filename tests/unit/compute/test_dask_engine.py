"""The pool's embedding and scoring on a real Dask cluster (a ``LocalCluster`` of two worker processes).

One cluster for the module (each worker imports PyTorch once: seconds), a pool of a few hundred texts. The cluster
must give the vectors of this process bit for bit, the same probabilities and so the same queue order, report
progress per chunk, survive a lost worker while another remains, and fail in one line when it cannot go on.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator

import numpy as np
import pytest

from al_core.compute import dask_engine
from al_core.compute.dask_engine import DaskEngine
from al_core.compute.engine import InProcess
from al_core.errors import ComputeError, ConfigError
from al_core.lab.sample import sample_tasks
from al_core.labelstudio.label_config import LabelSpec
from al_core.labelstudio.labels import LabeledSet
from al_core.learning import embeddings, scoring
from al_core.learning.scoring import Before, PoolData, ScoringSettings
from tests.conftest import free_port

distributed = pytest.importorskip("distributed")
needs_embeddings = pytest.mark.skipif(os.environ.get("AL_EMBEDDINGS") == "0", reason="installed with AL_EMBEDDINGS=0")

TEXTS = [t["data"]["text"] for t in sample_tasks()[::17]]  # 133 texts of the bundled sample
SPEC = LabelSpec("text", "Text", "text", "topic", ("card", "other"))


def _label(text: str) -> str:
    return "card" if "card" in text else "other"


def _data() -> PoolData:
    train, pool = TEXTS[:60], TEXTS[60:]
    training = LabeledSet(tuple(range(60)), tuple(train), tuple(_label(t) for t in train))
    evaluation = LabeledSet((), (), ())
    return PoolData(SPEC, training, evaluation, np.arange(1000, 1000 + len(pool)), pool, ())


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.LocalCluster]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.CRITICAL
    ) as local:
        yield local


@pytest.fixture
def fresh_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's encoder without the vectors earlier tests left in its memo: a text embedded in another batch
    differs in the last bits (padding to another length), and the comparison here is bit for bit."""
    encoder = embeddings.get_encoder(embeddings.DEFAULT_ENCODER)
    monkeypatch.setattr(encoder, "_memo", {})
    monkeypatch.setattr(encoder, "_mapped", {})
    monkeypatch.setattr(encoder, "_maps", [])


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dask_engine, "EMBED_CHUNK", embeddings.BATCH_SIZE)  # 64 texts a chunk: four chunks
    monkeypatch.setattr(dask_engine, "SCORE_CHUNK", 50)


def _fill(engine, texts: list[str], progress: list | None = None) -> np.ndarray:
    out = np.zeros((len(texts), 384), dtype=np.float32)
    report = (lambda d, t: progress.append((d, t))) if progress is not None else None
    engine.fill(embeddings.DEFAULT_ENCODER, texts, out, np.arange(len(texts)), on_progress=report)
    return out


@needs_embeddings
def test_vectors_probabilities_and_queue_order_equal_this_process_s(cluster, small_chunks, fresh_memo) -> None:
    texts = TEXTS + TEXTS[:10]  # repeated texts are embedded once and written to every row that wants them
    here = _fill(InProcess(), texts)
    progress: list[tuple[int, int]] = []
    with DaskEngine.connect(cluster.scheduler_address) as there:
        assert there.where == f"Dask at {cluster.scheduler_address} (2 workers at the start)"
        np.testing.assert_array_equal(_fill(there, texts, progress), here)
        assert progress == [(64, 133), (128, 133), (133, 133)] or sorted(progress) == progress
        assert len(progress) == 3 and progress[-1] == (133, 133), "progress after each chunk"

        settings = ScoringSettings("tfidf-logreg", {}, "margin", True, 0)
        local = scoring.train_and_score(_data(), settings, Before())
        scored: list[tuple[int, int]] = []
        remote = scoring.train_and_score(
            _data(),
            settings,
            Before(),
            predict=lambda m, t: there.predict_proba(m, t, on_progress=lambda d, n: scored.append((d, n))),
        )
    np.testing.assert_array_equal(remote.order, local.order)
    assert remote.predicted == local.predicted and remote.uncertainty == local.uncertainty
    assert [n for _, n in scored] == [73, 73] and scored[-1] == (73, 73), "progress after each chunk"


@needs_embeddings
def test_a_worker_lost_mid_run_is_replaced_and_the_vectors_are_the_same(cluster, small_chunks, fresh_memo) -> None:
    texts = [f"{t} (lost worker run)" for t in TEXTS[:100]]  # two chunks
    here = _fill(InProcess(), texts)
    pids = [nanny.process.process.pid for nanny in cluster.workers.values()]
    killed: list[int] = []

    def kill_one(done: int, total: int) -> None:
        if not killed:  # after the first chunk: the other chunks are queued or running
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    with DaskEngine.connect(cluster.scheduler_address) as there:
        out = np.zeros_like(here)
        there.fill(embeddings.DEFAULT_ENCODER, texts, out, np.arange(len(texts)), on_progress=kill_one)
    assert killed
    np.testing.assert_array_equal(out, here)


def test_a_scheduler_where_nothing_listens_fails_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dask_engine, "CONNECT_SECONDS", 1.0)
    address = f"tcp://127.0.0.1:{free_port()}"
    message = rf"^Could not reach the Dask scheduler at {address} within 1 s \("
    with pytest.raises(ComputeError, match=message) as err, DaskEngine.connect(address):
        pass
    assert "\n" not in str(err.value) and "AL_DASK_SCHEDULER" in str(err.value)


def test_a_worker_s_own_refusal_reaches_the_user_in_one_line(cluster) -> None:
    message = r"^Could not load the sentence encoder '/no/such/encoder' offline: "  # the worker's own words
    with DaskEngine.connect(cluster.scheduler_address) as there, pytest.raises(ConfigError, match=message) as err:
        _fill_named(there, "/no/such/encoder")
    assert "\n" not in str(err.value)


def _fill_named(engine: DaskEngine, encoder: str) -> None:
    engine.fill(encoder, ["one text"], np.zeros((1, 384), np.float32), np.arange(1), on_progress=None)


def test_a_cluster_that_loses_every_worker_fails_the_run_in_one_line(cluster, small_chunks, monkeypatch) -> None:
    """Last in the module: it leaves the cluster without workers."""
    monkeypatch.setattr(dask_engine, "STALL_SECONDS", 2.0)
    monkeypatch.setattr(dask_engine, "POLL_SECONDS", 0.2)
    model = scoring.models.fit_model("tfidf-logreg", TEXTS[:60], [_label(t) for t in TEXTS[:60]])
    with DaskEngine.connect(cluster.scheduler_address) as there:

        def retire_all(done: int, total: int) -> None:
            if cluster.workers:
                cluster.scale(0)

        with pytest.raises(
            ComputeError, match=r"^The Dask cluster at \S+ (lost every worker|dropped a chunk) while scoring 133 tasks"
        ) as err:
            there.predict_proba(model, TEXTS, on_progress=retire_all)
    assert "\n" not in str(err.value)
