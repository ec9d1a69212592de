"""The first labels of a simulated run, the same for every strategy of a seed (``simulation.first_batch``).

Three kinds: ``"random"`` (a seeded draw), ``"typical"`` (the app's cold start: the text nearest each k-means
centroid) and ``"names"`` (the zero-label start of issue #16: for every class in turn, the text nearest the
embedded class name, ``learning.prototypes``). Each batch holds two classes at least.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from al_core.errors import ConfigError, NotEnoughData
from al_core.learning import embeddings, models, prototypes, strategies

FIRST_BATCH = ("random", "typical", "names")  # how the first labels are chosen
DEFAULT_FIRST = "typical"  # what the app does: its cold start picks the first batch


def random_start(train_y: Sequence[str], start: int, seed: int) -> list[int]:
    """A random start of ``start`` tasks; the last is swapped for another class if all share one class."""
    order = np.random.default_rng(seed).permutation(len(train_y))
    chosen = [int(i) for i in order[:start]]
    if len({train_y[i] for i in chosen}) < 2:
        other = next((int(i) for i in order[start:] if train_y[i] != train_y[chosen[0]]), None)
        if other is None:
            raise NotEnoughData(f"The training split holds a single class ({train_y[0]!r}); nothing to learn.")
        chosen[-1] = other
    return chosen


def typical_start(train_x: list[str], train_y: Sequence[str], start: int, seed: int, model: str) -> list[int]:
    """The app's cold start: the task nearest each of ``start`` k-means centroids (in the model's features)."""
    features = models.vectorize_for_diversity(train_x, random_state=seed, model=model)
    chosen = [int(i) for i in strategies.cold_start_order(features, batch_size=start, random_state=seed)[:start]]
    if len({train_y[i] for i in chosen}) < 2:
        return random_start(train_y, start, seed)
    return chosen


def names_start(train_x: list[str], train_y: Sequence[str], start: int, seed: int, model: str) -> list[int]:
    """For every class in turn (sorted names), the text nearest its embedded name (``model``'s encoder, else
    the default encoder). Raises ConfigError when sentence embeddings are unavailable."""
    reason = embeddings.unavailable_reason()
    if reason:
        raise ConfigError(f"A first batch from the class names needs sentence embeddings. {reason}")
    name = models.resolve_params(model)["encoder"] if models.uses_embeddings(model) else embeddings.DEFAULT_ENCODER
    encoder = embeddings.get_encoder(name)
    classes = sorted(set(train_y))
    names = encoder.encode([prototypes.label_phrase(c) for c in classes])
    chosen = [int(i) for i in prototypes.prototype_order(encoder.encode(train_x), names, batch_size=start)[:start]]
    if len({train_y[i] for i in chosen}) < 2:
        return random_start(train_y, start, seed)
    return chosen


def first_batch(
    train_x: list[str], train_y: Sequence[str], *, start: int, seed: int, first: str, model: str
) -> list[int]:
    """Positions (in the seed's training split) of the first ``start`` labels, the same for every strategy.

    ``first`` one of ``FIRST_BATCH`` (see the module); ``model`` gives the features of ``"typical"`` and the
    encoder of ``"names"``. Raises ConfigError for another ``first``.
    """
    if first not in FIRST_BATCH:
        raise ConfigError(f"The 'first' parameter must be one of {list(FIRST_BATCH)}. Got {first!r} instead.")
    if first == "typical":
        return typical_start(train_x, train_y, start, seed, model)
    if first == "names":
        return names_start(train_x, train_y, start, seed, model)
    return random_start(train_y, start, seed)
