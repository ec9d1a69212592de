"""bench.embedding_cache on a tiny pool: the second pass embeds only the edited and the new tasks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench import embedding_cache

pytestmark = pytest.mark.skipif(os.environ.get("AL_EMBEDDINGS") == "0", reason="installed with AL_EMBEDDINGS=0")


def test_pool_texts_are_distinct() -> None:
    texts = embedding_cache.pool_texts(["a", "b"], 5)
    assert texts == ["a", "b", "a (copy 1)", "b (copy 1)", "a (copy 2)"]


def test_second_pass_embeds_only_edited_and_new_tasks(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "result.json"
    assert embedding_cache.main(["--pool", "30", "--changed", "2", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert (result["first"]["n_embedded"], result["first"]["n_cached"]) == (30, 0)
    assert (result["second"]["n_embedded"], result["second"]["n_cached"]) == (4, 28)
    assert "| second | 4 | 28 |" in capsys.readouterr().out
