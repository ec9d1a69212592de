"""The embedding cache on disk, memory-mapped: a project's vectors are never read whole into memory.

A cache is two files under ``<data dir>/cache/embeddings/``:
- the *index*, ``<slug>.npz`` (the path callers name): the task ids (int64, n), the 16-byte text keys
  (uint8, n x 16) and the name of the vectors file;
- the *vectors*, ``<slug>.<token>.npy``: float32, n x dim, opened with ``np.load(mmap_mode="r")``. At 1,000,000
  tasks they are 1.5 GB (384 floats each); the operating system pages in only the rows a step reads, and drops
  them again under pressure (they are clean file pages, not the process's heap).

A new cache is written into a fresh vectors file, then the index is replaced atomically (``os.replace``), then
the file the old index named is deleted: a crash never leaves an index naming half-written vectors, and a
process that still maps the old file keeps reading it (POSIX keeps an unlinked file until it is unmapped).
Caches of the earlier single-file format (vectors inside the ``.npz``) are still read, into memory, once.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import secrets
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

_ORPHAN_AGE_S = 24 * 3600  # a vectors file no index names, older than this, is a crashed writer's: deleted

Index = dict[int, tuple[bytes, int]]  # task id -> (text key, row of the vectors)


def load(path: Path, dim: int | None) -> tuple[Index, np.ndarray]:
    """The cache's {task id: (text key, row)} and its vectors (read-only, memory-mapped); empty when missing,
    unreadable or of another length than ``dim`` (None: any length is read)."""
    empty: tuple[Index, np.ndarray] = ({}, np.zeros((0, dim or 0), dtype=np.float32))
    try:
        with np.load(path) as data:
            ids, keys = data["ids"], data["keys"]
            if "vectors_file" in data.files:
                vectors = np.load(path.parent / str(data["vectors_file"]), mmap_mode="r")
            else:
                vectors = data["vectors"]  # the earlier single-file format
    except (OSError, ValueError, KeyError):
        return empty  # missing or unreadable: rebuild rather than fail
    if vectors.ndim != 2 or vectors.shape[0] != len(ids) or (dim is not None and vectors.shape[1] != dim):
        return empty
    return {int(i): (k.tobytes(), row) for row, (i, k) in enumerate(zip(ids.tolist(), keys, strict=True))}, vectors


def create(path: Path, n: int, dim: int) -> tuple[np.ndarray, Callable[[Sequence[int], Sequence[bytes]], None]]:
    """A writable, memory-mapped (n, dim) float32 array in a new vectors file next to ``path``, and the function
    ``commit(ids, keys)`` that makes it the cache (flushes it, replaces the index, deletes the old vectors).

    Until ``commit`` the cache on disk is unchanged. ``commit`` leaves the array read-only.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    name = f"{path.stem}.{os.getpid()}-{secrets.token_hex(4)}.npy"
    vectors = np.lib.format.open_memmap(path.parent / name, mode="w+", dtype=np.float32, shape=(n, dim))

    def commit(ids: Sequence[int], keys: Sequence[bytes]) -> None:
        vectors.flush()
        old = _vectors_file(path)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        # Keys as raw bytes (n, 16): numpy's "S16" strings would drop a key's trailing zero bytes.
        raw = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 16)
        np.savez(tmp, ids=np.asarray(ids, dtype=np.int64), keys=raw, vectors_file=np.array(name))
        os.replace(tmp, path)  # atomic: the index names complete vectors, before and after
        if old and old != name:
            (path.parent / old).unlink(missing_ok=True)
        _delete_orphans(path, keep=name)
        vectors.flags.writeable = False
        release_pages(vectors)

    return vectors, commit


def release_pages(vectors: np.ndarray) -> None:
    """Let the operating system drop the resident pages of a memory-mapped array (they are read again from the
    file, or the page cache, when next touched): the process's RSS then counts only what it reads next.
    Dirty pages must be flushed first (``commit`` does). A no-op for an array that is not memory-mapped."""
    mapped = getattr(vectors, "_mmap", None)
    if isinstance(mapped, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
        with contextlib.suppress(OSError, ValueError):  # a closed map: the pages stay until the kernel reclaims them
            mapped.madvise(mmap.MADV_DONTNEED)


def _vectors_file(path: Path) -> str | None:
    try:
        with np.load(path) as data:
            return str(data["vectors_file"]) if "vectors_file" in data.files else None
    except (OSError, ValueError, KeyError):
        return None


def _delete_orphans(path: Path, keep: str) -> None:
    now = time.time()
    for other in path.parent.glob(f"{path.stem}.*.npy"):
        try:
            if other.name != keep and now - other.stat().st_mtime > _ORPHAN_AGE_S:
                other.unlink()
        except OSError:
            pass
