"""What the Strategy lab page needs around ``al_core.lab.simulation``: its data, its guards, its plan, its verdict.

Data comes from an uploaded labeled file (any two columns, mapped by the user), the current project's
labels (read like an iteration reads them) or the bundled sample. ``check`` refuses data the simulation
cannot use with a message saying what to do; ``plan`` caps the budget and estimates the run's cost;
``recommend`` turns a result into one plain sentence.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from al_core.errors import ConfigError, NotEnoughData, UploadError
from al_core.lab import sample, simulation
from al_core.labelstudio import labels, uploads
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import parse_label_config
from al_core.learning import models
from al_core.validation import check_int

MIN_ROWS = 40  # a 25% test set, a 20-label random start and a few batches
ROWS_PER_CLASS = 4  # the stratified test set (a quarter of the rows) needs one row per class
START = 20  # the random start, as in simulation.simulate
LONG_RUN_SECONDS = 60.0
# A ceiling this much above the simulated model's is worth a run with that model: on clinc150 cut to 2 intents
# MiniLM's is 0.993 against TF-IDF+MiniLM's 1.000 over 20 seeds, and no strategy made up for it (bench/README.md).
CEILING_GAP = 0.005
BASELINE = "random"
LABEL_COLUMN_NAMES = ("label", "labels", "intent", "category", "class", "target", "sentiment", "topic", "y")
_TEXT_KEY = "\x00text"  # where the text goes in an upload's task data: no real column can be named so


@dataclass(frozen=True)
class LabData:
    """Single-label texts to simulate on, where they came from, and how many rows were left out."""

    texts: tuple[str, ...]
    labels: tuple[str, ...]
    source: str
    n_dropped: int = 0

    @property
    def n(self) -> int:
        return len(self.texts)

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.labels)))


@dataclass(frozen=True)
class UploadColumns:
    """An upload's columns and a guess of which holds the text and which the label."""

    columns: tuple[str, ...]
    text: str | None
    label: str | None


@dataclass(frozen=True)
class RunPlan:
    """The budget actually used (capped by the training split) and a rough cost of the run."""

    budget: int
    requested_budget: int
    n_train: int
    points: int  # measured points per strategy and seed
    fits: int  # model fits of the whole run
    seconds: float  # a rough estimate (measured on 2 shared cores with tfidf-logreg)

    @property
    def capped(self) -> bool:
        return self.budget < self.requested_budget

    @property
    def long(self) -> bool:
        return self.seconds > LONG_RUN_SECONDS


@dataclass(frozen=True)
class LabRun:
    """A finished simulation (``simulation.run_dataset``'s result) and the data it ran on."""

    result: dict[str, Any]
    source: str
    n_rows: int
    n_dropped: int

    @property
    def recommendation(self) -> str:
        return recommend(self.result)

    def to_json(self) -> str:
        """The result with its source and recommendation, as indented JSON (the page's download)."""
        about = {"source": self.source, "n_rows": self.n_rows, "n_dropped": self.n_dropped}
        return json.dumps({**about, "recommendation": self.recommendation, **self.result}, indent=1)


# -- data -------------------------------------------------------------------------------------------------
def upload_columns(source: uploads.Source, filename: str) -> UploadColumns:
    """The columns of an upload (CSV, TSV, JSON, JSON Lines) and guesses for the text and label columns.

    Raises UploadError for a file that cannot be read (see ``uploads.preview_upload``).
    """
    preview = uploads.preview_upload(source, filename)
    columns = preview.columns
    lowered = {c.lower(): c for c in columns}
    label = next((lowered[n] for n in LABEL_COLUMN_NAMES if n in lowered), None)
    text = preview.suggested_text_column
    if label is None:  # else the column with the fewest distinct values in the first rows
        others = [c for c in columns if c != text]
        label = min(others, key=lambda c: len({str(r.get(c)) for r in preview.rows}), default=None)
    if text == label:
        text = next((c for c in columns if c != label), None)
    return UploadColumns(columns, text, label)


def read_upload(source: uploads.Source, filename: str, *, text_column: str, label_column: str) -> LabData:
    """The (text, label) rows of an upload; rows with a blank text or label and repeated texts are left out.

    Raises ConfigError when both columns are the same, UploadError when a column is missing or the file
    cannot be read.
    """
    if text_column == label_column:
        raise ConfigError(f"The text and the label column are both {text_column!r}; choose two different columns.")
    columns = uploads.preview_upload(source, filename).columns
    if label_column not in columns:
        raise UploadError(f"{filename}: no column {label_column!r}; columns found: {list(columns)}.")
    stream = uploads.iter_task_chunks(
        source, filename, text_column=text_column, data_key=_TEXT_KEY, keep_columns=True, chunk_size=5000
    )
    texts: list[str] = []
    found: list[str] = []
    blank_label = 0
    for chunk in stream:
        for task in chunk:
            value = task["data"].get(label_column)
            label = "" if value is None else str(value).strip()
            if not label:
                blank_label += 1
                continue
            texts.append(task["data"][_TEXT_KEY])
            found.append(label)
    dropped = stream.n_empty + stream.n_duplicates + blank_label
    return LabData(tuple(texts), tuple(found), filename, dropped)


def from_project(gateway: Gateway, project_id: int, control: str | None = None) -> LabData:
    """The labeled tasks of a project, aggregated as an iteration reads them (evaluation set included).

    Raises LabelConfigError for a config that is not text classification, ConfigError for a multi-label
    one (the simulation measures single-label accuracy), LabelStudioError when reading fails.
    """
    project = gateway.get_project(project_id)
    spec = parse_label_config(project.label_config, control)
    if spec.multiple:
        raise ConfigError(
            f"Project {project_id} allows several labels per text ({spec.control_name!r} is multiple-choice); "
            "the Strategy lab simulates one label per text. Upload a file with one label per row instead."
        )
    found = labels.from_annotations(gateway.labeled_tasks(project_id), spec)
    dropped = found.skipped + found.missing_text + sum(found.unknown_labels.values())
    texts = tuple(found.texts)
    return LabData(
        texts, tuple(str(label) for label in found.labels), f"project {project_id}: {project.title}", dropped
    )


def from_sample() -> LabData:
    """The bundled sample (CLINC150 banking intents, 2,250 texts, 15 classes)."""
    rows = sample.sample_rows()
    return LabData(tuple(t for t, _ in rows), tuple(label for _, label in rows), sample.SAMPLE_CSV.name)


def check(data: LabData) -> None:
    """Refuse data the simulation cannot use; every message says what to do instead.

    Raises NotEnoughData: no rows, a single class, or fewer than ``max(40, 4 x classes)`` rows.
    """
    where = f"{data.source} holds"
    if data.n == 0:
        raise NotEnoughData(
            f"{where} no labeled rows. Label some texts, or upload a file with a text and a label column."
        )
    if len(data.classes) < 2:
        raise NotEnoughData(
            f"{where} a single class ({data.classes[0]!r}, {data.n} rows): there is nothing to tell apart. "
            "Label texts of at least two classes."
        )
    needed = max(MIN_ROWS, ROWS_PER_CLASS * len(data.classes))
    if data.n < needed:
        raise NotEnoughData(
            f"{where} {data.n} labeled rows of {len(data.classes)} classes; the lab needs at least {needed} "
            f"(a quarter is the test set, the rest the pool the strategies pick from). Label more texts first."
        )


# -- planning ---------------------------------------------------------------------------------------------
def plan(
    n_rows: int,
    *,
    budget: int,
    batch: int,
    seeds: int,
    strategy_names: Sequence[str],
    model: str = models.DEFAULT_MODEL,
    ceilings: Sequence[str] = (),
) -> RunPlan:
    """The run for ``n_rows`` rows: the budget capped by the training split, its points, fits and cost
    (``ceilings``: the other models whose full-split accuracy is measured too, see ``ceiling_models``).

    Raises ConfigError for bad parameters (as ``simulation.run_dataset`` would) or no strategy.
    """
    if not strategy_names:
        raise ConfigError("Choose at least one strategy (random is the baseline the others are read against).")
    check_int("seeds", seeds, 1)
    for name in strategy_names:
        simulation.check_params(budget, batch, START, name)
    n_train = simulation.train_size(n_rows)
    capped = min(budget, n_train)
    points = len(simulation.label_grid(n_train, capped, batch, START))
    # Measured: a point costs ~0.08 s + 0.08 ms per row (scoring the pool and the test set), the diverse
    # variant ~1.6x (k-means); the full-split fit ~0.2 ms per row.
    per_point = 0.08 + 8e-5 * n_rows
    weight = sum(1.6 if name == simulation.DIVERSITY else 1.0 for name in strategy_names)
    weight += max(1.6 if name == simulation.DIVERSITY else 1.0 for name in strategy_names)  # the other first batch
    seconds = seeds * (points * per_point * weight + (1 + len(ceilings)) * (0.05 + 2e-4 * n_rows))
    if any(models.uses_embeddings(m) for m in (model, *ceilings)):  # embedding once (60-100 a second on 2 cores)
        seconds += n_rows / 60
    fits = seeds * (points * (len(strategy_names) + 1) + 1 + len(ceilings))
    return RunPlan(capped, budget, n_train, points, fits, round(seconds, 1))


def ceiling_models(model: str) -> list[str]:
    """The representations' models that can run here (``models.REPRESENTATIONS``), but ``model``: the lab
    measures each one's accuracy when trained on every training row, so a user sees every ceiling, not only the
    one of the model simulated (issue #16)."""
    available = set(models.available_models())
    return [m for m in models.REPRESENTATIONS.values() if m in available and m != model]


def run(
    data: LabData,
    *,
    strategy_names: Sequence[str],
    budget: int,
    batch: int,
    seeds: int,
    model: str,
    on_progress: simulation.Progress | None = None,
) -> LabRun:
    """Check ``data``, cap the budget (``plan``) and run every strategy on every seed (``simulation.run_dataset``).

    Raises NotEnoughData (see ``check``) or ConfigError (bad parameters, unknown model).
    """
    check(data)
    models.check_model_name(model)
    others = ceiling_models(model)
    run_plan = plan(
        data.n, budget=budget, batch=batch, seeds=seeds, strategy_names=strategy_names, model=model, ceilings=others
    )
    result = simulation.run_dataset(
        data.texts, data.labels, strategy_names=list(strategy_names), budget=run_plan.budget, batch=batch,
        seeds=seeds, model=model, start=START, compare_first=True, ceilings=others, on_progress=on_progress,
    )  # fmt: skip
    return LabRun(result, data.source, data.n, data.n_dropped)


# -- reading a result -------------------------------------------------------------------------------------
_FIRST_NAMES = {
    "typical": "typical first batch",
    "random": "random first batch",
    "names": "first batch from the class names",
}


def recommend(result: Mapping[str, Any]) -> str:
    """Plain sentences: which strategy did best and how many labels it saved against random, which first batch
    every strategy started from, and what the first batch changed (``simulation.compare_first_batches``).

    ``result`` is a ``simulation.run_dataset`` result. The best strategy has the highest area under the
    learning curve; the target is 95% of the accuracy of the model trained on the whole training split. Every
    strategy started from the same first batch, so the strategies are credited only with what they chose.
    """
    text = _recommend_strategy(result) + ceilings(result)
    params = result.get("params") or {}
    if params.get("first") in _FIRST_NAMES:
        text += (
            f" Every strategy, random included, started from the same {_FIRST_NAMES[params['first']]} "
            f"of {params.get('start')} labels."
        )
    compared = result.get("first_batch")
    if compared:
        used, other, auc = compared["used"], compared["other"], compared["auc"]
        text += (
            f" Cold start, compared apart: {compared['strategy']} scored AUC {auc[used]:.3f} from a "
            f"{_FIRST_NAMES[used]} and {auc[other]:.3f} from a {_FIRST_NAMES[other]}"
        )
        gain = auc[used] - auc[other]
        best = used if gain >= 0 else other
        text += (
            ": no difference." if abs(gain) < 0.0005 else f"; the {_FIRST_NAMES[best]} is better by {abs(gain):.3f}."
        )
    return text


def ceilings(result: Mapping[str, Any]) -> str:
    """A sentence giving each model's accuracy when trained on the whole training split: the ceiling a learning
    curve with that representation tends to (``result["full_accuracy_by_model"]``; empty when missing)."""
    by_model = result.get("full_accuracy_by_model") or {}
    if not by_model:
        return ""
    shown = ", ".join(f"{name} {accuracy:.1%}" for name, accuracy in by_model.items())
    text = f" Trained on every row (the ceiling of each representation): {shown}."
    simulated = (result.get("params") or {}).get("model")
    best = max(by_model, key=by_model.__getitem__)
    if simulated in by_model and by_model[best] - by_model[simulated] >= CEILING_GAP:
        text += (
            f" {best}'s ceiling is {100 * (by_model[best] - by_model[simulated]):.1f} points above {simulated}'s: "
            f"run the lab with {best} to see whether its curve gets there too."
        )
    return text


def _recommend_strategy(result: Mapping[str, Any]) -> str:
    runs: Mapping[str, Any] = result["strategies"]
    best = max(runs, key=lambda name: (runs[name]["auc"], name == BASELINE))
    target = 0.95 * result["full_accuracy"]
    goal = f"{target:.0%} accuracy (95% of the {result['full_accuracy']:.0%} of a model trained on every row)"
    budget = runs[best]["curve"][-1][0]
    if best == BASELINE and len(runs) > 1:
        return (
            f"Random sampling did as well as any strategy here (AUC {runs[best]['auc']:.3f}): on this data, "
            "active learning's order saves no labels. Keep labeling in any order, or try another model."
        )
    n_best = runs[best]["n95"]
    if n_best is None:
        closest = f"{best} came closest with {runs[best]['curve'][-1][1]:.0%} at {budget} labels"
        if BASELINE in runs and best != BASELINE:
            closest += f" (random {runs[BASELINE]['curve'][-1][1]:.0%})"
        return f"No strategy reached {goal} within {budget} labels; {closest}. Raise the budget to see more."
    sentence = f"{best} reached {goal} with {n_best} labels"
    if BASELINE not in runs or best == BASELINE:
        return sentence + "."
    n_random = runs[BASELINE]["n95"]
    if n_random is None:
        return sentence + f"; random had not reached it at {budget} labels."
    ratio = f" ({n_random / n_best:.1f}x as many)" if n_random > n_best else ""
    return sentence + f"; random needed {n_random}{ratio}."
