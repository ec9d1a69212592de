"""The pool's embedding and scoring on a Dask cluster (``dask.distributed``), chunk by chunk.

Embedding: the texts to embed are ordered as ``Encoder.fill`` orders them (first occurrence of each text, then by
length) and cut into chunks of whole batches, so every worker runs the network on the very batches this process
would have: the vectors are bit for bit those of the in-process engine. The client writes them into the
iteration's array; the disk cache and the memo are filled here, as in-process.

Scoring: the fitted model is sent to every worker once and chunks of texts are scored there. Models that embed
are scored here: their vectors are already in this process, and sending 384 floats per task to a worker costs
more than the classifier's matrix product on them.

Failures end the iteration with a ``ComputeError`` (one line): a scheduler that cannot be reached, has no
workers, or is lost; workers that keep dying on a chunk (Dask's ``KilledWorker``); no worker or no scheduler
for ``STALL_SECONDS``; an error on a worker. Chunks still pending are cancelled. A worker lost while another
remains is Dask's to handle: it runs the lost chunks again elsewhere, and the results are the same.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from distributed import Client, wait
from distributed.client import FuturesCancelledError
from distributed.scheduler import KilledWorker

from al_core.compute import chunks
from al_core.compute.engine import SCHEDULER_VARIABLE, SCORE_CHUNK, Progress
from al_core.errors import ALError, ComputeError
from al_core.learning import embeddings, models
from al_core.learning.models import FittedModel

CONNECT_SECONDS = 10.0
STALL_SECONDS = 30.0  # no worker, or no scheduler, for this long: the iteration fails
POLL_SECONDS = 1.0
EMBED_CHUNK = embeddings.BATCH_SIZE * 16  # texts per chunk: whole batches (1,024 texts, ~7 s on one core)
_CANCELLED = (asyncio.CancelledError, concurrent.futures.CancelledError, FuturesCancelledError)


class DaskEngine:
    """An open connection to a Dask scheduler that runs chunks on its workers (use ``connect``)."""

    def __init__(self, client: Client, address: str, n_workers: int) -> None:
        self.client, self.address, self.n_workers = client, address, n_workers

    @property
    def where(self) -> str:
        return f"Dask at {self.address} ({self.n_workers} worker{'s' if self.n_workers != 1 else ''} at the start)"

    @classmethod
    @contextmanager
    def connect(cls, address: str, timeout: float | None = None) -> Iterator[DaskEngine]:
        """Connect to the scheduler at ``address`` and wait for a worker, for at most ``timeout`` seconds each
        (default ``CONNECT_SECONDS``). Raises ComputeError when the scheduler cannot be reached or has no worker."""
        timeout = timeout or CONNECT_SECONDS
        try:
            client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise ComputeError(
                f"Could not reach the Dask scheduler at {address} within {timeout:g} s ({_one_line(err)}). Start it, "
                f"or clear the Dask scheduler setting ({SCHEDULER_VARIABLE}) to compute in this process."
            ) from err
        try:
            try:
                client.wait_for_workers(1, timeout=timeout)
            except (OSError, TimeoutError) as err:
                raise ComputeError(
                    f"The Dask scheduler at {address} has no worker (waited {timeout:g} s). Start workers in this "
                    f"app's environment (.venv/bin/dask worker {address}), or clear the Dask scheduler setting."
                ) from err
            yield cls(client, address, len(client.scheduler_info(n_workers=-1).get("workers", {})))
        finally:
            client.close()

    def fill(
        self, encoder: str, texts: Sequence[str], out: np.ndarray, rows: np.ndarray, *, on_progress: Progress | None
    ) -> None:
        """Write the vector of ``texts[i]`` into ``out[rows[i]]``, embedded on the cluster in chunks."""
        todo: dict[bytes, tuple[str, list[int]]] = {}  # as Encoder.fill: first occurrence, then by length
        for text, row in zip(texts, np.asarray(rows).tolist(), strict=True):
            todo.setdefault(embeddings.text_key(text), (text, []))[1].append(row)
        order = sorted(todo, key=lambda k: len(todo[k][0]))
        parts = [order[start : start + EMBED_CHUNK] for start in range(0, len(order), EMBED_CHUNK)]
        futures = [
            self.client.submit(chunks.embed_chunk, encoder, [todo[k][0] for k in part], pure=False) for part in parts
        ]
        done = 0
        for index, vectors in self._results(futures, f"embedding {len(order):,} texts"):
            for key, vector in zip(parts[index], vectors, strict=True):
                out[todo[key][1]] = vector
            done += len(parts[index])
            if on_progress:
                on_progress(done, len(order))
        if on_progress and not order:
            on_progress(0, 0)

    def predict_proba(
        self, model: FittedModel, texts: Sequence[str], *, on_progress: Progress | None = None
    ) -> np.ndarray:
        """``model.predict_proba(texts)``: TF-IDF models on the cluster in chunks; models that embed here."""
        from al_core.compute.engine import InProcess

        if models.uses_embeddings(model.name):
            return InProcess().predict_proba(model, texts, on_progress=on_progress)
        out = np.zeros((len(texts), len(model.classes)), dtype=np.float32)
        if not len(texts):
            return out
        remote = self.client.scatter(model, broadcast=True, hash=False)
        starts = list(range(0, len(texts), SCORE_CHUNK))
        futures = [
            self.client.submit(chunks.predict_chunk, remote, list(texts[s : s + SCORE_CHUNK]), pure=False)
            for s in starts
        ]
        done = 0
        for index, proba in self._results(futures, f"scoring {len(texts):,} tasks"):
            out[starts[index] : starts[index] + len(proba)] = proba
            done += len(proba)
            if on_progress:
                on_progress(done, len(texts))
        return out

    def _results(self, futures: list[Any], what: str) -> Iterator[tuple[int, Any]]:
        """(index, result) of each future as it completes; raises ComputeError (pending chunks cancelled) when a
        chunk fails or the cluster stalls (no worker or no scheduler for ``STALL_SECONDS``)."""
        index = {future.key: i for i, future in enumerate(futures)}
        pending, healthy = set(futures), time.monotonic()
        try:
            while pending:
                try:
                    with self.client.as_current():
                        done, pending = wait(pending, timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    healthy = self._check_alive(what, healthy)
                    continue
                except _CANCELLED as err:  # wait() itself raises when the cluster dropped a chunk
                    raise self._dropped(what) from err
                for future in done:
                    yield index[future.key], self._result(future, what)
                healthy = time.monotonic()
        finally:
            if pending and self.client.status == "running":
                self.client.cancel(list(pending))

    def _check_alive(self, what: str, healthy: float) -> float:
        """Now when the scheduler is connected and has a worker, else ``healthy`` (the last time it was); raises
        ComputeError once that is ``STALL_SECONDS`` ago."""
        if self.client.status == "running" and self.client.scheduler_info(n_workers=-1).get("workers"):
            return time.monotonic()
        if time.monotonic() - healthy < STALL_SECONDS:
            return healthy
        lost = "the scheduler" if self.client.status != "running" else "every worker"
        raise ComputeError(
            f"The Dask cluster at {self.address} lost {lost} while {what} (nothing for {STALL_SECONDS:g} s); the "
            "queue is unchanged. Restart the cluster and run again, or clear the Dask scheduler setting."
        )

    def _dropped(self, what: str) -> ComputeError:
        why = "its scheduler was lost" if self.client.status != "running" else "its workers were retired or lost"
        return ComputeError(
            f"The Dask cluster at {self.address} dropped a chunk while {what} ({why}); the queue is unchanged. "
            "Restart it and run again, or clear the Dask scheduler setting."
        )

    def _result(self, future: Any, what: str) -> Any:
        try:
            return future.result()
        except ALError:
            raise  # a check on the worker said what to fix (e.g. AL_DEVICE=cuda on a worker without a GPU)
        except KilledWorker as err:
            raise ComputeError(
                f"Dask workers died running a chunk while {what} ({_one_line(err)}); a worker may be out of memory. "
                "The queue is unchanged."
            ) from err
        except _CANCELLED as err:
            raise self._dropped(what) from err
        except Exception as err:  # an error on the worker: a setup problem there (a missing package, say)
            raise ComputeError(
                f"A Dask worker failed while {what}: {type(err).__name__}: {_one_line(err)}. Workers need this "
                "app's environment (the same .venv)."
            ) from err


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 200 else text[:197] + "..."
