"""Label efficiency, simulated with an oracle: how many labels does each query strategy need?

For each seed the data is split 75/25 (stratified) into a training split (the pool) and a test set. A
small random start is labeled, then batches chosen by the strategy are labeled until the budget; after
every batch the model is refitted and measured on the test set. Everything that decides the science is
the app's own code: ``models.fit_model``, ``strategies.informativeness`` / ``diverse_order`` and
``evaluation.measure``; only the oracle (the gold label) and the loop live here.

Used by the Strategy lab page and by ``python -m bench.label_efficiency`` (both pass a progress callback).
The model is a parameter everywhere (a name from ``models.MODELS``), never assumed.
"""

from __future__ import annotations

import math
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from al_core import settings
from al_core.errors import ConfigError
from al_core.lab.first_batch import DEFAULT_FIRST, FIRST_BATCH, first_batch
from al_core.learning import embeddings, evaluation, models, self_training, strategies
from al_core.validation import check_int

Progress = Callable[[int, int, str], None]  # (done, total, message)
Point = tuple[int, float, float]  # (labels, test accuracy, test macro-F1)
DIVERSITY = "margin+diversity"
ALL_STRATEGIES: tuple[str, ...] = (*strategies.STRATEGIES, DIVERSITY)
TEST_SIZE = 0.25
BASELINE = "tfidf/random"  # the example notebook's model, and no active learning
# The app's default configuration (models.BEST_MODEL with the default strategy), chosen by measurement.
DEFAULT_CONFIG = "minilm/margin+diversity"


def split(texts: Sequence[str], labels: Sequence[str], seed: int) -> tuple[list, list, list, list]:
    """(train texts, test texts, train labels, test labels): 75/25, stratified when every class has 2+ rows."""
    stratify = list(labels) if min(Counter(labels).values()) >= 2 else None
    train_x, test_x, train_y, test_y = train_test_split(
        list(texts), list(labels), test_size=TEST_SIZE, random_state=seed, stratify=stratify
    )
    return train_x, test_x, train_y, test_y


def train_size(n_rows: int) -> int:
    """Rows in the training split of ``n_rows`` (what ``split`` keeps; the test set rounds up)."""
    return n_rows - math.ceil(TEST_SIZE * n_rows)


def label_grid(n_train: int, budget: int, batch: int, start: int) -> list[int]:
    """Label counts at which the model is measured: start, start + batch, ..., min(budget, n_train)."""
    top = min(budget, n_train)
    first = min(start, top)
    return [*range(first, top, batch), top]


def _check(budget: int, batch: int, start: int, strategy: str | None = None) -> None:
    check_int("budget", budget, 2)
    check_int("batch", batch, 1)
    check_int("start", start, 2)
    if strategy is not None and strategy not in ALL_STRATEGIES:
        raise ConfigError(f"The 'strategy' parameter must be one of {list(ALL_STRATEGIES)}. Got {strategy!r} instead.")


def check_params(budget: int, batch: int, start: int, strategy: str | None = None) -> None:
    """Raise ConfigError unless budget >= 2, batch >= 1, start >= 2 (ints) and ``strategy`` is known."""
    _check(budget, batch, start, strategy)


def _query(strategy: str, fitted: models.FittedModel, pool: list[str], k: int, batch: int, state: int) -> np.ndarray:
    """Positions (in ``pool``) of the next ``k`` tasks to label."""
    if strategy == "random":
        # Random needs no model output: skip scoring the pool (same draws as with real probabilities).
        info = strategies.informativeness("random", np.ones((len(pool), 1)), random_state=state)
        return np.argsort(-info, kind="stable")[:k]
    proba = fitted.predict_proba(pool)
    info = strategies.informativeness("margin" if strategy == DIVERSITY else strategy, proba, random_state=state)
    if strategy == DIVERSITY:
        features = lambda rows: fitted.features([pool[i] for i in rows])  # noqa: E731 (only the candidates')
        order = strategies.diverse_order(info, features, batch_size=batch, random_state=state)
    else:
        order = np.argsort(-info, kind="stable")
    return np.asarray(order[:k], dtype=np.intp)


def _fit(
    model: str, train_x: list[str], train_y: list[str], labeled: list[int], pool: np.ndarray | None, seed: int
) -> models.FittedModel:
    """Fit ``model`` on the labeled positions; with ``pool`` (a mask of unlabeled positions), self-trained."""
    texts, labels = [train_x[i] for i in labeled], [train_y[i] for i in labeled]
    with warnings.catch_warnings():  # 20 labels of 150 classes: sklearn warns "y could be a regression"
        warnings.filterwarnings("ignore", message="The number of unique classes", category=UserWarning)
        if pool is None:
            return models.fit_model(model, texts, labels, random_state=seed)
        unlabeled = [train_x[i] for i in np.flatnonzero(pool)]
        return self_training.fit_self_trained(model, texts, labels, unlabeled, random_state=seed)[0]


def simulate(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    strategy: str,
    budget: int = 1000,
    batch: int = 20,
    seed: int = 0,
    model: str = models.DEFAULT_MODEL,
    start: int = 20,
    first: str = DEFAULT_FIRST,
    first_model: str | None = None,
    self_train: bool = False,
    on_progress: Progress | None = None,
) -> list[Point]:
    """Simulate active learning with an oracle; return the learning curve ``[(labels, accuracy, macro_f1)]``.

    Parameters: ``texts``/``labels`` the whole dataset (single-label); ``strategy`` one of
    ``ALL_STRATEGIES`` (``strategies.STRATEGIES`` plus ``"margin+diversity"``); ``budget`` the last label
    count; ``batch`` labels per round; ``seed`` fixes the split, the start, the model and random draws;
    ``model`` a name from ``models.MODELS``; ``start`` the first batch's size; ``first`` how it is chosen
    (``"random"``, or ``"typical"``: the app's cold start, in ``first_model``'s features, default ``model``): the
    same batch for every strategy, random included (``first_batch``); ``self_train`` refits every round on the labels
    plus the pool's confident predictions (``self_training.fit_self_trained``); ``on_progress(done, total, message)`` after
    each measured point. Label counts strictly increase; the same arguments give the
    same numbers. Raises ConfigError on bad parameters, NotEnoughData when the data has a single class.
    """
    _check(budget, batch, start, strategy)
    models.check_model_name(model)
    train_x, test_x, train_y, test_y = split(texts, labels, seed)
    classes = sorted(set(labels))
    grid = label_grid(len(train_x), budget, batch, start)
    labeled = first_batch(train_x, train_y, start=grid[0], seed=seed, first=first, model=first_model or model)
    in_pool = np.ones(len(train_x), dtype=bool)
    in_pool[labeled] = False
    curve: list[Point] = []
    for step, n in enumerate(grid):
        fitted = _fit(model, train_x, train_y, labeled, in_pool if self_train else None, seed)
        measured = evaluation.measure(test_y, fitted.predict(test_x), classes)
        curve.append((len(labeled), measured.accuracy, measured.macro_f1))
        if on_progress:
            on_progress(step + 1, len(grid), f"{strategy}, seed {seed}: {n} labels, accuracy {measured.accuracy:.3f}")
        if step + 1 < len(grid):
            pool = np.flatnonzero(in_pool)
            chosen = _query(
                strategy, fitted, [train_x[i] for i in pool], grid[step + 1] - n, batch, seed * 10_000 + step
            )
            labeled.extend(int(i) for i in pool[chosen])
            in_pool[pool[chosen]] = False
    return curve


def full_accuracy(
    texts: Sequence[str], labels: Sequence[str], *, seed: int, model: str = models.DEFAULT_MODEL
) -> float:
    """Test accuracy of ``model`` trained on the seed's whole training split (the ceiling)."""
    train_x, test_x, train_y, test_y = split(texts, labels, seed)
    fitted = models.fit_model(model, train_x, train_y, random_state=seed)
    return evaluation.measure(test_y, fitted.predict(test_x), sorted(set(labels))).accuracy


def area(curve: Sequence[Sequence[float]], column: int = 1) -> float:
    """Area under the curve normalized to [0, 1]: mean of ``column`` over the label range (trapezoid)."""
    n = np.array([p[0] for p in curve], dtype=float)
    y = np.array([p[column] for p in curve], dtype=float)
    if len(n) < 2 or n[-1] == n[0]:
        return float(y.mean())
    return float(np.trapezoid(y, n) / (n[-1] - n[0]))


def labels_to_reach(curve: Sequence[Sequence[float]], target: float) -> int | None:
    """The first label count whose accuracy is >= ``target``; None when the curve never gets there."""
    return next((int(p[0]) for p in curve if p[1] >= target), None)


def summarize(full: Sequence[float], runs: dict[str, list[list[Point]]]) -> dict[str, Any]:
    """Average per-seed curves point by point, then AUC, n95 and n99 (against the mean full accuracy); also each
    seed's own area (``auc_by_seed``, in seed order) for paired comparisons across seeds."""
    ceiling = float(np.mean(full))
    out: dict[str, Any] = {"full_accuracy": ceiling, "strategies": {}}
    for name, curves in runs.items():
        mean = np.mean(np.array(curves, dtype=float), axis=0)
        curve = [[int(round(n)), float(acc)] for n, acc, _ in mean]
        f1 = [[int(round(n)), float(value)] for n, _, value in mean]
        out["strategies"][name] = {
            "auc": area(curve),
            "auc_by_seed": [area([(p[0], p[1]) for p in seed_curve]) for seed_curve in curves],
            "n95": labels_to_reach(curve, 0.95 * ceiling),
            "n99": labels_to_reach(curve, 0.99 * ceiling),
            "curve": curve,
            "auc_macro_f1": area(f1),
            "curve_macro_f1": f1,
        }
    return out


OPTIONS = {"names": {"first": "names"}, "self": {"self_train": True}}  # what "@names", "@self" change


def parse_key(key: str, model: str) -> tuple[str, str]:
    """``"<representation>/<strategy>[@options]"`` -> (model name, strategy); a bare strategy uses ``model``."""
    key = key.split("@", 1)[0]
    if "/" not in key:
        return model, key
    representation, strategy = key.split("/", 1)
    if representation not in models.REPRESENTATIONS:
        raise ConfigError(
            f"Unknown representation {representation!r} in {key!r}. Use one of {list(models.REPRESENTATIONS)}."
        )
    return models.REPRESENTATIONS[representation], strategy


def key_options(key: str) -> dict[str, Any]:
    """What a key's ``@``-options change in ``simulate``: ``@names`` starts from the class names
    (``first="names"``), ``@self`` self-trains (``self_train=True``); ``"+"`` joins them (``@names+self``)."""
    if "@" not in key:
        return {}
    out: dict[str, Any] = {}
    for option in key.split("@", 1)[1].split("+"):
        if option not in OPTIONS:
            raise ConfigError(
                f"Unknown option {option!r} in {key!r}. Use one or more of {list(OPTIONS)}, joined by '+'."
            )
        out.update(OPTIONS[option])
    return out


def _run_args(key: str, kw: dict[str, Any]) -> dict[str, Any]:
    """``simulate``'s arguments for ``key`` (besides the data, the seed and the progress callback)."""
    model, strategy = parse_key(key, kw["model"])
    return {**kw, "model": model, "strategy": strategy, "first_model": kw["model"], **key_options(key)}


def _embed_once(texts: list[str], model_names: set[str], on_progress: Progress | None) -> dict[str, tuple]:
    """Embed the dataset once per encoder (cached under the data dir), so no round embeds anything."""
    warm: dict[str, tuple] = {}
    encoders = sorted({models.resolve_params(m)["encoder"] for m in model_names if models.uses_embeddings(m)})
    keys = [embeddings.text_key(t) for t in texts] if encoders else []
    scope = "texts:" + embeddings.text_key("".join(k.hex() for k in keys)).hex()
    for encoder in encoders:
        report = (lambda d, t: on_progress(0, 1, f"Embedding the texts: {d:,} of {t:,}")) if on_progress else None
        done = embeddings.embed_tasks(
            embeddings.cache_path(settings.cache_dir(), scope, encoder),
            list(range(len(texts))),
            texts,
            encoder=encoder,
            on_progress=report,
        )
        warm[encoder] = (keys, done.vectors)
    return warm


def _warm_worker(warm: dict[str, tuple]) -> None:
    for encoder, (keys, vectors) in warm.items():
        embeddings.get_encoder(encoder).remember(keys, vectors)


def _job(kind: str, texts: list[str], labels: list[str], name: str, seed: int, kw: dict[str, Any]) -> Any:
    if kind == "full":  # ``name`` is the model
        return full_accuracy(texts, labels, seed=seed, model=name)
    return simulate(texts, labels, seed=seed, **_run_args(name, kw))


def run_dataset(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    strategy_names: Sequence[str] = ALL_STRATEGIES,
    budget: int = 1000,
    batch: int = 20,
    seeds: int = 3,
    model: str = models.DEFAULT_MODEL,
    start: int = 20,
    first: str = DEFAULT_FIRST,
    compare_first: bool = False,
    ceilings: Sequence[str] = (),
    jobs: int = 1,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Every strategy on every seed, plus the full-training-split ceiling; returns the averaged summary.

    ``strategy_names`` are strategies (run with ``model``) or ``"<representation>/<strategy>"`` keys
    (``models.REPRESENTATIONS``), e.g. ``"tfidf/random"``, ``"minilm/margin"``. Returns
    ``{"full_accuracy", "strategies": {name: {"auc", "n95", "n99", "curve", ...}}, ...}`` (see
    ``summarize``); the ceiling is the best full-split accuracy among the models used
    (``"full_accuracy_by_model"`` has each, and also that of every model named in ``ceilings``: the ceiling of
    representations the strategies did not run with, shown to the user but not used for n95/n99). ``jobs`` > 1 runs the (strategy, seed) pairs in that many
    processes (same numbers). ``on_progress(done, total, message)`` counts measured points (a full-split
    fit counts as one). Every strategy of a seed, random included, starts from the same first batch (``first``,
    chosen in ``model``'s features), so the curves differ only by what the strategies chose. ``compare_first``
    also runs the best strategy from the other kind of first batch and adds ``"first_batch"`` (see
    ``compare_first_batches``): the cold start's gain, reported apart from the strategies'. Raises ConfigError on
    bad parameters or an unavailable model.
    """
    parsed = {name: parse_key(name, model) for name in strategy_names}
    for name, (m, strategy) in parsed.items():
        key_options(name)
        _check(budget, batch, start, strategy)
        models.check_model_name(m)
    texts, labels = list(texts), list(labels)
    used = list(dict.fromkeys(m for m, _ in parsed.values()))
    for m in ceilings:
        models.check_model_name(m)
    measured = list(dict.fromkeys([*used, *ceilings]))
    warm = _embed_once(texts, set(measured), on_progress)
    kw = {"budget": budget, "batch": batch, "model": model, "start": start, "first": first}
    work = [("full", m, s) for m in measured for s in range(seeds)]
    work += [("run", n, s) for n in strategy_names for s in range(seeds)]
    n_points = len(label_grid(train_size(len(texts)), budget, batch, start))
    sizes = [1 if kind == "full" else n_points for kind, _, _ in work]
    total, started = sum(sizes) + (n_points * seeds if compare_first else 0), time.perf_counter()
    results: list[Any] = []
    if jobs > 1:
        with ProcessPoolExecutor(jobs, initializer=_warm_worker, initargs=(warm,)) as executor:
            futures = [executor.submit(_job, kind, texts, labels, *rest, kw) for kind, *rest in work]
            for i, future in enumerate(futures):
                results.append(future.result())
                if on_progress:
                    on_progress(sum(sizes[: i + 1]), total, f"{work[i][1]}, seed {work[i][2]}: done")
    else:
        for i, (kind, name, seed) in enumerate(work):
            done = sum(sizes[:i])
            if kind == "full":
                results.append(full_accuracy(texts, labels, seed=seed, model=name))
                if on_progress:
                    on_progress(done + 1, total, f"full training split, seed {seed}: accuracy {results[-1]:.3f}")
                continue
            step = (lambda d, _t, m, done=done: on_progress(done + d, total, m)) if on_progress else None
            results.append(simulate(texts, labels, seed=seed, on_progress=step, **_run_args(name, kw)))
    n_full = len(measured) * seeds
    full = {m: float(np.mean(results[k * seeds : (k + 1) * seeds])) for k, m in enumerate(measured)}
    runs = {name: results[n_full + seeds * k : n_full + seeds * (k + 1)] for k, name in enumerate(strategy_names)}
    summary = summarize([max(full[m] for m in used)], runs)
    if compare_first:
        report = (lambda d, _t, m: on_progress(sum(sizes) + d, total, m)) if on_progress else None
        summary["first_batch"] = compare_first_batches(
            texts, labels, summary, runs, seeds=seeds, kw=kw, on_progress=report
        )
    summary.update(
        full_accuracy_by_model=full,
        n_train=train_size(len(texts)),
        n_classes=len(set(labels)),
        seeds=seeds,
        params=kw,
        seconds=round(time.perf_counter() - started, 1),
    )
    return summary


def compare_first_batches(
    texts: list[str],
    labels: list[str],
    summary: dict[str, Any],
    runs: dict[str, list[list[Point]]],
    *,
    seeds: int,
    kw: dict[str, Any],
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """The best strategy (highest AUC, random only when alone) run again from the other kind of first batch.

    Returns ``{"strategy", "used", "other", "auc": {kind: area}, "n95": {kind: labels or None}}``, where ``used`` is
    the first batch every strategy started from and ``other`` the one tried here.
    """
    names = list(summary["strategies"])
    active = [n for n in names if parse_key(n, kw["model"])[1] != "random"] or names
    best = max(active, key=lambda n: summary["strategies"][n]["auc"])
    used = kw["first"]
    other = next(kind for kind in FIRST_BATCH if kind != used)
    n_points = len(runs[best][0])
    curves = []
    for seed in range(seeds):
        step = (
            (lambda d, t, m, seed=seed: on_progress(seed * n_points + d, seeds * n_points, m)) if on_progress else None
        )
        args = {**_run_args(best, kw), "first": other}
        curves.append(simulate(texts, labels, seed=seed, on_progress=step, **args))
    again = summarize([summary["full_accuracy"]], {best: curves})["strategies"][best]
    mine = summary["strategies"][best]
    return {
        "strategy": best,
        "used": used,
        "other": other,
        "auc": {used: mine["auc"], other: again["auc"]},
        "n95": {used: mine["n95"], other: again["n95"]},
    }
