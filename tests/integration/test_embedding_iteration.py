"""Iterations with a sentence-embedding model against the real Label Studio server: the first embeds every
task once, the next embeds only what is new or changed (the project's embedding cache)."""

from __future__ import annotations

import os

import pytest

from al_core.iteration import IterationSettings, run_iteration
from al_core.lab.sample import GoldAnnotator, create_sample_project, sample_gold
from al_core.labelstudio.gateway import Gateway
from al_core.settings import db_url
from al_core.store.history import History

pytestmark = pytest.mark.skipif(os.environ.get("AL_EMBEDDINGS") == "0", reason="installed with AL_EMBEDDINGS=0")


def test_second_iteration_embeds_zero_unchanged_tasks(gateway: Gateway) -> None:
    history = History(db_url(), server=gateway.url)
    project = create_sample_project(gateway, "embedding iteration test")
    annotator = GoldAnnotator(gateway, project.id, sample_gold().get)
    settings = IterationSettings(model="tfidf+minilm-logreg", diversity=True, upload_top=100)

    cold = run_iteration(gateway, history, project.id, settings)
    assert cold.cold_start and cold.counts["n_embedded"] == 2250 and cold.counts["n_embed_cached"] == 0

    annotator.label(40)
    first = run_iteration(gateway, history, project.id, settings)
    assert not first.cold_start and first.n_predictions > 100
    assert (first.counts["n_embedded"], first.counts["n_embed_cached"]) == (0, 2250)
    assert first.metrics["accuracy"] >= 0.25  # a handful of evaluation labels; 15 classes, chance 0.067

    annotator.label(20)
    gateway.import_tasks(project.id, [[{"text": "I lost my card yesterday, please block it"}]])
    second = run_iteration(gateway, history, project.id, settings)
    assert (second.counts["n_embedded"], second.counts["n_embed_cached"]) == (1, 2250)
    assert "embed" in second.timings
