"""What a Dask worker runs on a chunk, run here: the same numbers as the in-process path, and no vectors kept."""

from __future__ import annotations

import os

import numpy as np
import pytest

from al_core.compute import chunks
from al_core.learning import embeddings, models


def test_predict_chunk_is_the_model_s_probabilities():
    texts = ["good day", "bad day", "good night", "bad night"]
    model = models.fit_model("tfidf-logreg", texts, ["pos", "neg", "pos", "neg"])
    np.testing.assert_array_equal(chunks.predict_chunk(model, texts[:2]), model.predict_proba(texts[:2]))


@pytest.mark.skipif(os.environ.get("AL_EMBEDDINGS") == "0", reason="installed with AL_EMBEDDINGS=0")
def test_embed_chunk_gives_the_encoder_s_vectors_and_keeps_none():
    texts = sorted((f"chunk test sentence {i} " + "x" * i for i in range(5)), key=len)
    vectors = chunks.embed_chunk(embeddings.DEFAULT_ENCODER, texts)
    encoder = embeddings.get_encoder()
    assert vectors.flags.writeable and vectors.shape == (5, encoder.dim)
    before = encoder.n_computed
    np.testing.assert_array_equal(encoder.encode(texts), vectors)
    assert encoder.n_computed == before + 5, "the chunk's vectors were not left in the memo"
