"""How sure are we of a quality figure, and is one version really better than another?

Pure statistics over evaluation-set outcomes:

- ``accuracy_interval``: the Wilson score interval of an accuracy measured on ``n`` tasks (Wilson, 1927;
  recommended over the normal approximation for small ``n`` and accuracies near 0 or 1 by Brown, Cai and
  DasGupta, "Interval Estimation for a Binomial Proportion", Statistical Science 2001). Computed by SciPy.
- ``macro_f1_interval``: a percentile bootstrap of macro-F1 (Efron and Tibshirani, 1993), seeded.
- ``labels_for_margin``: how many evaluation labels narrow the accuracy interval to +-``margin``.
- ``compare_versions``: McNemar's exact test on the tasks both versions were measured on (McNemar, 1947;
  Dietterich, "Approximate Statistical Tests for Comparing Supervised Classification Learning
  Algorithms", 1998): a version is called better or worse only when ``p < alpha``.

The evaluation set is a simple random sample of the project's tasks, so these intervals speak of the
accuracy over the whole project (what the model would score if every task were labeled).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np

from al_core.errors import ConfigError

CONFIDENCE = 0.95  # every interval the dashboard shows
ALPHA = 0.05  # a paired test calls a difference real below this p-value
TARGET_MARGIN = 0.05  # "how many more labels for +-5 points"
BOOTSTRAP_ROUNDS = 1000

Verdict = Literal["better", "worse", "within noise", "no common tasks"]


def accuracy_interval(n_correct: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """Wilson score interval ``(low, high)`` of the accuracy ``n_correct / n``, both in [0, 1].

    Returns None when ``n`` is 0 (no evaluation labels: nothing is known). Raises ConfigError when the counts
    are not whole numbers with ``0 <= n_correct <= n``.
    """
    _check_counts(n_correct, n)
    if n == 0:
        return None
    z, p = _z(confidence), n_correct / n
    center = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = _wilson_half_width(p, int(n), z)
    low = 0.0 if n_correct == 0 else max(0.0, center - half)  # exact at the ends (no rounding below 0 or above 1)
    high = 1.0 if n_correct == n else min(1.0, center + half)
    return low, high


def _check_counts(n_correct: int, n: int) -> None:
    for name, value in (("n_correct", n_correct), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ConfigError(f"The '{name}' parameter must be an int in [0, inf). Got {value!r} instead.")
    if n_correct > n:
        raise ConfigError(f"'n_correct' ({n_correct}) cannot exceed 'n' ({n}).")


def _wilson_half_width(p: float, n: int, z: float) -> float:
    return z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)


def labels_for_margin(
    accuracy: float | None, n: int, margin: float = TARGET_MARGIN, confidence: float = CONFIDENCE
) -> int:
    """How many more evaluation labels would bring the Wilson interval's half-width down to ``margin``.

    The accuracy is assumed to stay where it is (``0.5`` when unknown, the worst case). Returns 0 when the
    interval is already that narrow. Example: at 80% accuracy on 20 labels, 225 more labels give +-5 points.
    """
    if not 0 < margin < 1:
        raise ConfigError(f"The 'margin' parameter must be a float in (0, 1). Got {margin!r} instead.")
    p = 0.5 if accuracy is None else min(max(float(accuracy), 0.0), 1.0)
    z = _z(confidence)
    needed = max(1, math.ceil(z * z * p * (1 - p) / (margin * margin)) - 10)  # the normal formula, then search
    while _wilson_half_width(p, needed, z) > margin:
        needed += 1
    while needed > 1 and _wilson_half_width(p, needed - 1, z) <= margin:
        needed -= 1
    return max(0, needed - int(n))


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def exact_sign_test(k: int, n: int) -> float:
    """Two-sided exact binomial p-value of ``k`` successes in ``n`` trials at p = 0.5 (McNemar's exact test on
    the ``n`` discordant pairs): ``min(1, 2 * P(X <= min(k, n - k)))``, as ``scipy.stats.binomtest`` gives."""
    tail = sum(math.comb(n, i) for i in range(min(k, n - k) + 1))
    return min(1.0, 2 * tail / 2**n)


def macro_f1_interval(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    labels: Sequence[str],
    *,
    rounds: int = BOOTSTRAP_ROUNDS,
    confidence: float = CONFIDENCE,
    random_state: int = 0,
) -> tuple[float, float] | None:
    """Percentile-bootstrap interval ``(low, high)`` of single-label macro-F1 over ``labels``.

    Each round resamples the evaluation tasks with replacement and averages F1 over the labels that occur
    in that round's truth or predictions (as ``evaluation.measure`` does). None for fewer than 2 tasks.
    """
    if len(y_true) != len(y_pred):
        raise ConfigError(f"y_true and y_pred differ in length: {len(y_true)} != {len(y_pred)}.")
    n = len(y_true)
    if n < 2:
        return None
    index = {label: i for i, label in enumerate(labels)}
    for value in (*y_true, *y_pred):
        if value not in index:
            index[value] = len(index)
    truth = np.array([index[v] for v in y_true])
    pred = np.array([index[v] for v in y_pred])
    k = len(index)
    rng = np.random.default_rng(random_state)
    draws = rng.integers(0, n, size=(rounds, n))
    t, p = truth[draws], pred[draws]
    scores = np.empty(rounds)
    for r in range(rounds):  # 1,000 rounds of bincounts: ~20 ms for 300 tasks
        tp = np.bincount(t[r][t[r] == p[r]], minlength=k)
        true_counts, pred_counts = np.bincount(t[r], minlength=k), np.bincount(p[r], minlength=k)
        present = (true_counts + pred_counts) > 0
        f1 = 2 * tp[present] / (true_counts[present] + pred_counts[present])
        scores[r] = f1.mean()
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(scores, [tail, 100 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class Comparison:
    """Two versions measured on the same evaluation tasks.

    ``only_first_right`` / ``only_second_right``: tasks where exactly one version is right (McNemar's
    discordant pairs). ``p_value``: exact two-sided McNemar test (a binomial test on the discordant pairs);
    None when no task differs. ``verdict`` says whether the second version is better than the first.
    """

    n_common: int
    first_accuracy: float | None
    second_accuracy: float | None
    only_first_right: int
    only_second_right: int
    p_value: float | None
    verdict: Verdict

    def sentence(self, first: str, second: str) -> str:
        if self.verdict == "no common tasks":
            return f"{second} and {first} share no evaluation labels yet: no comparison."
        shown = f"on the same {self.n_common} evaluation tasks ({self.only_second_right} fixed, {self.only_first_right} broken"
        p = "" if self.p_value is None else f", McNemar p = {self.p_value:.3g}"
        if self.verdict == "within noise":
            return f"{second} vs {first}: within noise {shown}{p})."
        return f"{second} is {self.verdict} than {first} {shown}{p})."


def compare_versions(
    first_correct: dict[int, bool], second_correct: dict[int, bool], alpha: float = ALPHA
) -> Comparison:
    """Compare two versions on the evaluation tasks both were measured on.

    ``first_correct`` / ``second_correct``: task id -> whether that version's prediction was right.
    Only the task ids present in both count (a paired test needs the same tasks).
    """
    common = sorted(set(first_correct) & set(second_correct))
    if not common:
        return Comparison(0, None, None, 0, 0, None, "no common tasks")
    a = np.array([bool(first_correct[t]) for t in common])
    b = np.array([bool(second_correct[t]) for t in common])
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    p_value = None if only_a + only_b == 0 else exact_sign_test(only_b, only_a + only_b)
    verdict: Verdict = "within noise"
    if p_value is not None and p_value < alpha:
        verdict = "better" if only_b > only_a else "worse"
    return Comparison(len(common), float(a.mean()), float(b.mean()), only_a, only_b, p_value, verdict)
