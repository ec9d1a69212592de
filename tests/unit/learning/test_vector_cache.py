"""The memory-mapped embedding cache: written atomically, read without loading the vectors into memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import psutil

from al_core.learning import vector_cache


def _keys(n: int) -> list[bytes]:
    return [i.to_bytes(16, "little") for i in range(n)]


def test_a_committed_cache_reads_back_mapped_and_read_only(tmp_path: Path) -> None:
    path = tmp_path / "embeddings" / "c.npz"
    vectors, commit = vector_cache.create(path, 3, 4)
    vectors[:] = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert vector_cache.load(path, 4)[0] == {}, "nothing is the cache before commit"
    commit([7, 8, 9], _keys(3))
    assert not vectors.flags.writeable
    index, loaded = vector_cache.load(path, 4)
    assert index == {7: (_keys(3)[0], 0), 8: (_keys(3)[1], 1), 9: (_keys(3)[2], 2)}
    assert isinstance(loaded, np.memmap) and not loaded.flags.writeable
    np.testing.assert_array_equal(loaded, np.arange(12, dtype=np.float32).reshape(3, 4))
    other_length = vector_cache.load(path, 5)
    assert other_length[0] == {} and other_length[1].shape == (0, 5)


def test_a_new_cache_replaces_the_old_vectors_file(tmp_path: Path) -> None:
    path = tmp_path / "c.npz"
    first, commit = vector_cache.create(path, 2, 2)
    first[:] = 1.0
    commit([1, 2], _keys(2))
    held = vector_cache.load(path, 2)[1]  # another reader still maps the first file
    second, commit = vector_cache.create(path, 1, 2)
    second[:] = 2.0
    commit([1], _keys(1))
    assert len(list(tmp_path.glob("c.*.npy"))) == 1, "the old vectors file is deleted"
    np.testing.assert_array_equal(vector_cache.load(path, 2)[1], [[2.0, 2.0]])
    np.testing.assert_array_equal(held, [[1.0, 1.0], [1.0, 1.0]])  # an unlinked file stays readable while mapped


def test_a_cache_larger_than_what_is_read_stays_mapped(tmp_path: Path) -> None:
    """200,000 vectors (300 MB on disk, written sparse): loading maps them; only the rows read come into memory."""
    path = tmp_path / "big.npz"
    n, dim = 200_000, 384
    vectors, commit = vector_cache.create(path, n, dim)
    vectors[::50_000] = 1.0  # a few rows written; the rest of the file is a hole
    commit(range(n), [b"k" * 16] * n)
    del vectors
    rss = psutil.Process().memory_info().rss
    index, loaded = vector_cache.load(path, dim)
    assert isinstance(loaded, np.memmap) and loaded.shape == (n, dim)
    assert float(loaded[50_000:50_010].sum()) == dim  # rows are read on demand
    grown = psutil.Process().memory_info().rss - rss
    assert len(index) == n and grown < 100 * 2**20, f"loading grew the process by {grown / 2**20:.0f} MB"


def test_the_earlier_single_file_format_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "old.npz"
    raw = np.frombuffer(b"".join(_keys(2)), dtype=np.uint8).reshape(2, 16)
    np.savez(path, ids=np.array([4, 5]), keys=raw, vectors=np.ones((2, 3), dtype=np.float32))
    index, loaded = vector_cache.load(path, 3)
    assert index == {4: (_keys(2)[0], 0), 5: (_keys(2)[1], 1)} and loaded.shape == (2, 3)


def test_a_missing_vectors_file_is_an_empty_cache(tmp_path: Path) -> None:
    path = tmp_path / "c.npz"
    vectors, commit = vector_cache.create(path, 1, 2)
    commit([1], _keys(1))
    for f in tmp_path.glob("c.*.npy"):
        f.unlink()
    assert vector_cache.load(path, 2)[0] == {}
