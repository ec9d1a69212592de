"""Sentence embeddings: offline packaged weights, the memo, the per-project disk cache, and what happens
when the embedding extra is not installed."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest

from al_core.errors import ConfigError
from al_core.learning import embeddings, models

# The extra is part of the default install, so these run (and fail if it is missing) unless the install
# was made without it on purpose (`make test AL_EMBEDDINGS=0`).
pytestmark = pytest.mark.skipif(os.environ.get("AL_EMBEDDINGS") == "0", reason="installed with AL_EMBEDDINGS=0")

TEXTS = ["how do I reset my card pin", "I forgot the PIN of my card", "what is the weather in Paris"]


def test_default_encoder_loads_offline_from_the_packaged_weights() -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    path = Path(embeddings.resolve_encoder(embeddings.DEFAULT_ENCODER))
    assert "site-packages" in path.parts and (path / "model.safetensors").is_file()
    vectors = embeddings.get_encoder().encode(TEXTS)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similar, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert similar > 0.6 > unrelated


def test_the_memo_embeds_each_text_once() -> None:
    encoder = embeddings.get_encoder()
    assert embeddings.get_encoder(embeddings.DEFAULT_ENCODER) is encoder, "one shared encoder per name"
    texts = [f"memo test sentence number {i}" for i in range(5)]
    before = encoder.n_computed
    first = encoder.encode(texts + texts[:2])
    assert encoder.n_computed - before == 5
    again = encoder.encode(list(reversed(texts)))
    assert encoder.n_computed - before == 5
    np.testing.assert_array_equal(again, first[:5][::-1])


def test_vectors_are_read_only_rows_shared_with_the_memo() -> None:
    encoder = embeddings.get_encoder()
    texts = [f"shared rows test sentence {i}" for i in range(4)]
    vectors = encoder.encode([*texts, texts[0]])
    assert not vectors.flags.writeable, "the memo shares these rows: a caller must not change them"
    with pytest.raises(ValueError, match="read-only"):
        vectors[0, 0] = 1.0
    np.testing.assert_array_equal(vectors[4], vectors[0])  # a repeated text: embedded once, both rows filled
    assert np.shares_memory(encoder._memo[embeddings.text_key(texts[1])], vectors), "no second copy"


def test_fill_writes_only_the_rows_given() -> None:
    encoder = embeddings.get_encoder()
    out = np.full((5, encoder.dim), -1.0, dtype=np.float32)
    encoder.fill(["fill test: first", "fill test: second"], out, np.array([3, 1]))
    np.testing.assert_array_equal(out[[3, 1]], encoder.encode(["fill test: first", "fill test: second"]))
    assert (out[[0, 2, 4]] == -1.0).all()


def test_unknown_encoder_is_a_clear_offline_error() -> None:
    with pytest.raises(ConfigError, match=r"Could not load the sentence encoder 'no-such/encoder' offline"):
        embeddings.Encoder("no-such/encoder")
    with pytest.raises(ConfigError, match=r"The 'encoder' parameter must be a model name or a folder"):
        embeddings.resolve_encoder(" ")


def test_task_cache_embeds_only_new_or_changed_tasks(tmp_path: Path) -> None:
    path = embeddings.cache_path(tmp_path, "server|project-1", embeddings.DEFAULT_ENCODER)
    texts = [f"cache test: task text {i}" for i in range(6)]
    first = embeddings.embed_tasks(path, [10, 11, 12, 13, 14, 15], texts)
    assert (first.n_embedded, first.n_cached) == (6, 0) and path.is_file()

    again = embeddings.embed_tasks(path, [10, 11, 12, 13, 14, 15], texts)
    assert (again.n_embedded, again.n_cached) == (0, 6)
    np.testing.assert_array_equal(again.vectors, first.vectors)

    changed = [*texts[:5], "cache test: the text of task 15 was edited"]
    third = embeddings.embed_tasks(path, [10, 11, 12, 13, 14, 15, 16], [*changed, "cache test: a new task"])
    assert (third.n_embedded, third.n_cached) == (2, 5)
    np.testing.assert_array_equal(third.vectors[:5], first.vectors[:5])
    assert not np.allclose(third.vectors[5], first.vectors[5])

    # The same tasks listed in another order: the cache is used as it is (no copy, no rewrite) and each
    # task still gets its own vector.
    written = path.stat().st_mtime_ns
    reordered = embeddings.embed_tasks(path, [16, 15, 14, 13, 12, 11, 10], ["cache test: a new task", *changed[::-1]])
    assert (reordered.n_embedded, reordered.n_cached) == (0, 7)
    assert reordered.rows.tolist() == [6, 5, 4, 3, 2, 1, 0] and path.stat().st_mtime_ns == written
    np.testing.assert_array_equal(reordered.vectors, third.vectors[::-1])
    assert not reordered.store.flags.writeable, "the memo shares the store's rows"


def test_keys_ending_in_zero_bytes_survive_the_cache(tmp_path: Path) -> None:
    texts = [t for t in (f"text {i}" for i in range(5000)) if embeddings.text_key(t).endswith(b"\x00")][:3]
    path = tmp_path / "cache.npz"
    embeddings.embed_tasks(path, [1, 2, 3], texts)
    assert embeddings.embed_tasks(path, [1, 2, 3], texts).n_embedded == 0


def test_an_unreadable_cache_is_rebuilt(tmp_path: Path) -> None:
    path = embeddings.cache_path(tmp_path, "scope", embeddings.DEFAULT_ENCODER)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an npz file")
    result = embeddings.embed_tasks(path, [1, 2], TEXTS[:2])
    assert (result.n_embedded, result.n_cached) == (2, 0)
    assert embeddings.embed_tasks(path, [1, 2], TEXTS[:2]).n_cached == 2


def test_a_new_process_with_everything_cached_never_loads_the_network(tmp_path: Path) -> None:
    """The first click of a fresh dashboard used to spend ~13 s loading the encoder with nothing to embed."""
    path = embeddings.cache_path(tmp_path, "server|project-1", embeddings.DEFAULT_ENCODER)
    texts = ["card pin reset", "forgot my pin", "new pin please", "weather today", "rain in paris", "sunny skies"]
    first = embeddings.embed_tasks(path, range(6), texts)
    embeddings.forget_encoders()  # what a new process starts with
    try:
        again = embeddings.embed_tasks(path, range(6), texts)
        fitted = models.fit_model("minilm-logreg", texts, ["pin"] * 3 + ["weather"] * 3)
        assert fitted.predict(texts[:1]) == ["pin"] and fitted.features(texts).shape == (6, 384)
        assert not embeddings.get_encoder().loaded, "the cache and the memo answered everything"
        np.testing.assert_array_equal(again.vectors, first.vectors)

        fewer = embeddings.embed_tasks(path, range(5), texts[:5])  # a task was deleted: the cache is rewritten
        assert (fewer.n_embedded, fewer.n_cached) == (0, 5) and not embeddings.get_encoder().loaded

        embeddings.embed_tasks(path, range(6), [*texts[:5], "a text never seen"])
        assert embeddings.get_encoder().loaded and embeddings.get_encoder().dim == 384
    finally:
        embeddings.forget_encoders()


def test_an_encoder_that_cannot_load_is_refused_before_loading_anything(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"Could not load the sentence encoder .* holds no config.json"):
        embeddings.Encoder(str(tmp_path))


def test_mismatched_ids_and_texts() -> None:
    with pytest.raises(ConfigError, match=r"Got 1 task ids but 2 texts; they must match one to one\."):
        embeddings.embed_tasks(Path("unused.npz"), [1], TEXTS[:2])


@pytest.mark.parametrize("name", ["minilm-logreg", "tfidf+minilm-logreg"])
def test_embedding_models_fit_save_and_expose_sentence_vectors(name: str, tmp_path: Path) -> None:
    texts = ["card pin reset", "forgot my pin", "new pin please", "weather today", "rain in paris", "sunny skies"]
    labels = ["pin", "pin", "pin", "weather", "weather", "weather"]
    fitted = models.fit_model(name, texts, labels)
    assert fitted.predict(["change my pin", "is it raining"]) == ["pin", "weather"]
    assert fitted.features(texts[:2]).shape == (2, 384)  # diversity compares meanings
    saved = models.save_model(fitted, tmp_path / "model.joblib")
    assert saved.stat().st_size < 2_000_000  # the encoder is referenced by name, not pickled
    np.testing.assert_allclose(models.load_model(saved).predict_proba(texts), fitted.predict_proba(texts), atol=1e-6)
    assert joblib.load(saved)["model"].params["encoder"] == embeddings.DEFAULT_ENCODER


def test_cold_start_features_are_sentence_vectors_for_embedding_models() -> None:
    features = models.vectorize_for_diversity(TEXTS, model="minilm-logreg")
    assert isinstance(features, np.ndarray) and features.shape == (3, 384)


def test_without_the_extra_the_models_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # what `import` sees when not installed
    reason = embeddings.unavailable_reason()
    assert reason and "pip install -r requirements-embeddings.txt" in reason
    assert models.available_models() == ["tfidf-logreg", "tfidf-svm", "tfidf-cnb"]
    with pytest.raises(
        ConfigError, match=r"Model 'minilm-logreg' needs sentence embeddings\. Sentence embeddings are not installed"
    ):
        models.fit_model("minilm-logreg", ["a b", "c d"], ["x", "y"])
    assert models.fit_model("tfidf-logreg", ["card pin", "rain today"], ["x", "y"]).classes == ("x", "y")


def test_project_scope_is_the_one_iterations_always_used() -> None:
    """Existing caches are found only while the scope string stays what iterations wrote."""
    from al_core.learning.embeddings import project_scope

    assert project_scope("http://127.0.0.1:8080/", 7) == "http://127.0.0.1:8080|project-7"


def test_a_pool_larger_than_the_memo_limit_is_scored_without_embedding_again(tmp_path, monkeypatch) -> None:
    """Rows of the memory-mapped cache stay in the memo whatever its limit (which bounds vectors held in memory):
    at 1,000,000 tasks a limit of 400,000 made scoring embed 600,000 cached texts again."""
    path = tmp_path / "cache.npz"
    texts = [f"limit test sentence {i}" for i in range(6)]
    embeddings.embed_tasks(path, range(6), texts)
    embeddings.forget_encoders()
    monkeypatch.setattr(embeddings, "_MEMO_LIMIT", 2)
    try:
        cached = embeddings.embed_tasks(path, range(6), texts)
        assert isinstance(cached.store, np.memmap) and cached.n_cached == 6
        encoder = embeddings.get_encoder()
        vectors = encoder.encode(texts)  # what predict_proba asks for, chunk by chunk
        assert encoder.n_computed == 0 and not encoder.loaded, "every vector came from the mapped cache"
        np.testing.assert_array_equal(vectors, cached.vectors)
    finally:
        embeddings.forget_encoders()


def test_a_path_that_is_no_folder_is_refused_as_an_encoder_in_one_line() -> None:
    with pytest.raises(ConfigError, match=r"^Could not load the sentence encoder '/no/such/encoder' offline: "):
        embeddings.Encoder("/no/such/encoder")
