"""Handing freed heap memory back to the operating system (glibc's malloc_trim)."""

from __future__ import annotations

import ctypes
import sys

import psutil
import pytest

from al_core.learning import memory
from al_core.learning.memory import release_free_memory

GLIBC = sys.platform.startswith("linux") and hasattr(ctypes.CDLL(None), "malloc_trim")


@pytest.mark.skipif(not GLIBC, reason="malloc_trim is glibc's")
def test_freed_heap_pages_go_back_to_the_system() -> None:
    # 150 MB in 2 KB blocks (above pymalloc's 512 bytes: glibc's heap), the last one kept so the heap's
    # top cannot shrink by itself: the free pages below it stay in the process until they are trimmed.
    blocks = [bytes(2048) for _ in range(75_000)]
    keep = bytes(2048)
    rss = psutil.Process().memory_info().rss
    del blocks
    held = psutil.Process().memory_info().rss
    assert release_free_memory() is True
    after = psutil.Process().memory_info().rss
    assert held - after > 100 * 2**20, f"RSS {rss >> 20} MB, {held >> 20} MB after del, {after >> 20} MB after trim"
    assert keep == bytes(2048)


def test_where_there_is_no_malloc_trim_nothing_is_released(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_malloc_trim", lambda: None)  # macOS, musl
    assert memory.release_free_memory() is False
