"""Choosing where the pool is embedded and scored, and the in-process engine (chunks, progress, no Dask import)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from al_core.compute import engine
from al_core.compute.engine import InProcess, check_scheduler, open_engine, scheduler_address
from al_core.errors import ConfigError
from al_core.learning import models
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ("", ""),
        (None, ""),
        ("  tcp://10.0.0.5:8786 ", "tcp://10.0.0.5:8786"),
        ("tls://sched.example.org:8786/", "tls://sched.example.org:8786"),
    ],
)
def test_an_address_or_nothing(given, read):
    assert check_scheduler(given) == read


@pytest.mark.parametrize("bad", ["10.0.0.5:8786", "tcp://10.0.0.5", "http://x:1", "tcp://a b:1"])
def test_a_malformed_address_is_refused_in_one_line(bad):
    with pytest.raises(
        ConfigError, match=r"^The Dask scheduler must be an address like tcp://10\.0\.0\.5:8786 .* Got '"
    ):
        check_scheduler(bad)


def test_the_setting_wins_over_the_variable(monkeypatch):
    monkeypatch.setenv("AL_DASK_SCHEDULER", "tcp://127.0.0.1:9999")
    assert scheduler_address("tcp://127.0.0.1:1234") == "tcp://127.0.0.1:1234"
    assert scheduler_address("") == "tcp://127.0.0.1:9999"
    monkeypatch.delenv("AL_DASK_SCHEDULER")
    assert scheduler_address("") == ""


def test_in_process_scoring_is_the_model_s_chunk_by_chunk_with_progress(monkeypatch):
    monkeypatch.setattr(engine, "SCORE_CHUNK", 7)
    texts = [f"{w} text {i}" for i in range(20) for w in ("good", "bad")]
    model = models.fit_model("tfidf-logreg", texts, ["pos" if t.startswith("good") else "neg" for t in texts])
    seen: list[tuple[int, int]] = []
    with open_engine("") as here:
        assert isinstance(here, InProcess) and here.where == "this process"
        proba = here.predict_proba(model, texts, on_progress=lambda d, t: seen.append((d, t)))
    np.testing.assert_array_equal(proba, model.predict_proba(texts))
    assert seen == [(7, 40), (14, 40), (21, 40), (28, 40), (35, 40), (40, 40)]
    assert InProcess().predict_proba(model, []).shape == (0, 2)


def test_the_in_process_path_never_imports_dask():
    code = (
        "import sys; from al_core.compute.engine import open_engine\n"
        "import al_core.iteration, al_core.__main__\n"
        "with open_engine('') as e: pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
