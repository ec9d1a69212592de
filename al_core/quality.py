"""Label quality for team review: the likely label errors of a project (``label-issues``, the Label issues page).

Reads the project's labels from Label Studio the way an iteration does (``labels.from_annotations``: skipped
and unusable annotations dropped, several annotators' votes aggregated), predicts every labeled task out of fold
with the project's current model and features (the model of its latest succeeded version, else the default;
sentence vectors from the project's embedding cache) and ranks them with confident learning
(``learning.label_issues``). Tasks a person marked as reviewed (``store.reviews``) are hidden while their label
is unchanged. Every task left out is counted and said in ``warnings``.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from al_core.context import IterationSettings
from al_core.errors import AuthenticationFailed, ConfigError, NotFound
from al_core.export import warm_embeddings
from al_core.labelstudio import labels
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.gateway_payloads import User
from al_core.labelstudio.label_config import parse_label_config
from al_core.labelstudio.task_cache import sync_tasks
from al_core.labelstudio.task_data import task_text
from al_core.learning import agreement, label_issues, models
from al_core.progress import Progress, StepTimer
from al_core.reports.left_out import iteration_warnings
from al_core.store import reviews
from al_core.store.history import History

DEFAULT_FOLDS = 5
# How al_core.labelstudio.labels.aggregate turns several annotations into the training label, in words.
AGGREGATION_RULE = (
    "majority vote of the annotators (a ground-truth annotation wins; a tie goes to the latest annotation)"
)
STEPS = ("read", "embed", "cross-validate", "rank")  # the steps reported to ``on_progress``


@dataclass(frozen=True)
class LabelIssue:
    """A labeled task whose given label the model finds unlikely: ``score`` = 1 - out-of-fold P(given), in [0, 1]
    (higher = more likely wrong); ``suggested`` is the class the model is confident of; ``text`` the task's text."""

    task_id: int
    given: str
    suggested: str
    score: float
    self_confidence: float
    text: str

    def to_json(self) -> dict[str, Any]:
        """The stable keys ``task_id``, ``given``, ``suggested``, ``score``, then ``self_confidence``."""
        return {
            "task_id": self.task_id,
            "given": self.given,
            "suggested": self.suggested,
            "score": round(self.score, 6),
            "self_confidence": round(self.self_confidence, 6),
        }


@dataclass(frozen=True)
class LabelIssues:
    """The likely label errors of a project, most likely first, and how they were found.

    ``issues`` are every flagged task not hidden by a review; ``n_labeled`` tasks had a usable label, ``n_ranked``
    of them were ranked (the others' class has too few labels: ``counts["rare_class"]``); ``n_reviewed_hidden``
    flagged tasks are hidden because a person reviewed them under their current label. ``thresholds`` are the
    per-class mean self-confidences; ``warnings`` say what was left out, in sentences.
    """

    project_id: int
    model: str
    folds: int
    n_labeled: int
    n_ranked: int
    n_reviewed_hidden: int
    issues: tuple[LabelIssue, ...]
    thresholds: Mapping[str, float]
    counts: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    reviewed: tuple[LabelIssue, ...] = ()  # the flagged tasks hidden by a review, most likely error first

    def top(self, n: int | None) -> LabelIssues:
        """The same result with only the first ``n`` issues (all when None)."""
        return self if n is None else replace(self, issues=self.issues[: max(n, 0)])

    def without_reviewed(self, reviewed: Mapping[int, reviews.Review]) -> LabelIssues:
        """The result under the reviews ``reviewed`` (task id -> review): every flagged task reviewed under its
        current label moves to ``reviewed`` (hidden, counted in ``n_reviewed_hidden``), every other one, including
        one whose review was removed or whose label changed since, is in ``issues``; the order stays the ranking."""
        flagged = heapq.merge(self.issues, self.reviewed, key=lambda i: i.self_confidence)
        shown: list[LabelIssue] = []
        hidden: list[LabelIssue] = []
        for issue in flagged:
            review = reviewed.get(issue.task_id)
            (hidden if review is not None and review.label == issue.given else shown).append(issue)
        if len(hidden) == len(self.reviewed) == self.n_reviewed_hidden and len(shown) == len(self.issues):
            return self
        return replace(self, issues=tuple(shown), reviewed=tuple(hidden), n_reviewed_hidden=len(hidden))

    def to_json(self) -> dict[str, Any]:
        """What ``label-issues --json`` prints: ``project`` and ``issues`` (stable), then the rest."""
        return {
            "project": self.project_id,
            "issues": [i.to_json() for i in self.issues],
            "model": self.model,
            "folds": self.folds,
            "n_labeled": self.n_labeled,
            "n_ranked": self.n_ranked,
            "n_reviewed_hidden": self.n_reviewed_hidden,
            "thresholds": {k: round(v, 6) for k, v in self.thresholds.items()},
            "warnings": list(self.warnings),
        }


def project_model(history: History, project_id: int) -> IterationSettings:
    """The settings of the project's latest succeeded version (its model, parameters and ``<Choices>``), or the
    defaults when it has none."""
    done = history.succeeded(project_id)
    if not done:
        return IterationSettings()
    stored = done[-1].settings.to_json()
    return IterationSettings.from_json({k: v for k, v in stored.items() if v is not None})


def find_label_issues(
    gateway: Gateway,
    history: History,
    project_id: int,
    *,
    folds: int = DEFAULT_FOLDS,
    on_progress: Progress | None = None,
) -> LabelIssues:
    """The project's likely label errors, most likely first, reviewed ones hidden (see the module docstring).

    Raises:
        ConfigError: the project is multi-label (not supported) or its labeling config has no usable ``<Choices>``.
        NotEnoughData: fewer than 2 classes, or no class with 2 labeled tasks.
        LabelStudioError, HistoryUnavailable: Label Studio or the history cannot be read.
    """
    history.check_server(gateway.url)  # one server's history only: its project ids are not another's
    timer = StepTimer(on_progress)
    settings = project_model(history, project_id)
    with timer.step("read", "Reading the labeled tasks from Label Studio"):
        project = gateway.get_project(project_id)
        spec = parse_label_config(project.label_config, settings.control)
        settings = settings.for_classes(len(spec.labels))  # no version yet and no model chosen: as an iteration
        if spec.multiple:
            raise ConfigError(
                f"Project {project_id} is multi-label (<Choices name={spec.control_name!r}> allows several): "
                "finding label errors is built for single-choice projects only."
            )
        annotated = gateway.labeled_tasks(project_id)
        labeled = labels.from_annotations(annotated, spec)
    if models.uses_embeddings(settings.model):
        with timer.step("embed", "Reading the sentence vectors (embedding only new or changed texts)"):
            tasks, _ = sync_tasks(gateway, project_id, project.task_number)
            readable = [(t.id, text) for t in tasks if (text := task_text(t.data, spec)) is not None]
            warm_embeddings(gateway.url, project_id, settings.model, settings.model_params, readable)
    with timer.step("cross-validate", f"Predicting {labeled.n:,} labeled tasks out of fold with {settings.model}"):
        oof = label_issues.out_of_fold_proba(
            settings.model,
            labeled.texts,
            labeled.labels,  # type: ignore[arg-type]  # str each: the project is single-label
            params=settings.model_params,
            folds=folds,
            random_state=settings.random_state,
            on_fold=lambda d, t: timer.report("cross-validate", d / t, f"fold {d} of {t}"),
        )
    with timer.step("rank", "Ranking the labels the model doubts"):
        found = label_issues.find_issues(oof)
        rows = tuple(
            LabelIssue(
                labeled.task_ids[i.index], i.given, i.suggested, i.score, i.self_confidence, labeled.texts[i.index]
            )
            for i in found.issues
        )
        done_ids = {t.id for t in annotated if any(not a.was_cancelled for a in t.annotations)}
        counts = {
            "skipped": labeled.skipped,
            "unknown_labels": labeled.unknown_labels,
            "missing_text": labeled.missing_text,
            "no_usable_label": len(done_ids) - labeled.n - labeled.missing_text,
            "rare_class": oof.n_rare,
        }
        result = LabelIssues(
            project_id=project_id,
            model=settings.model,
            folds=oof.folds,
            n_labeled=labeled.n,
            n_ranked=labeled.n - oof.n_rare,
            n_reviewed_hidden=0,
            issues=rows,
            thresholds=found.thresholds,
            counts=counts,
            warnings=tuple(quality_warnings(counts)),
        )
        return result.without_reviewed(reviews.reviews(history, project_id))


@dataclass(frozen=True)
class AnnotatorReport:
    """Agreement between the project's annotators (``learning.agreement.Agreement``; annotators are Label Studio
    user ids), the training ``rule`` in words, and what Dawid-Skene would do instead: ``dawid_skene_changes`` of the
    ``agreement.n_tasks`` multi-annotated tasks would get another label, ``reliability`` user id -> its estimated
    accuracy. ``n_votes`` single choices were read. ``users`` maps a user id to the server's user (how the team
    knows them); an id missing from it (users not readable: ``warnings``) is shown as "user ID".
    """

    project_id: int
    n_votes: int
    agreement: agreement.Agreement
    rule: str
    dawid_skene_changes: int
    reliability: Mapping[Any, float]
    users: Mapping[Any, User] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def name(self, annotator: Any) -> str:
        """How the team knows ``annotator`` (a user id): "First Last <email>", the email, else "user ID". Label Studio
        keeps a deleted user's annotations with no user (measured on 1.23.2): those read as "deleted user"."""
        known = self.users.get(annotator)
        return known.name if known else ("deleted user" if annotator is None else f"user {annotator}")

    def email(self, annotator: Any) -> str | None:
        """The annotator's email, None when the server no longer knows the user."""
        known = self.users.get(annotator)
        return known.email or None if known else None

    def to_json(self) -> dict[str, Any]:
        """``annotators`` and ``pairs`` keep the user ids (``annotator``, ``a``, ``b``); ``name`` / ``email``,
        ``a_name`` / ``b_name`` say who they are (the id as "user ID" when the server no longer knows it)."""
        a = self.agreement
        return {
            "project": self.project_id,
            "n_votes": self.n_votes,
            "n_tasks_several_annotations": a.n_tasks,
            "n_tasks_one_annotation": a.n_single,
            "fleiss_kappa": a.fleiss_kappa,
            "annotators": [
                {
                    "annotator": x.annotator,
                    "n_votes": x.n_votes,
                    "n_compared": x.n_compared,
                    "agreement": x.agreement,
                    "dawid_skene_reliability": self.reliability.get(x.annotator),
                    "name": self.name(x.annotator),
                    "email": self.email(x.annotator),
                }
                for x in a.annotators
            ],  # fmt: skip
            "pairs": [
                {
                    "a": p.a,
                    "b": p.b,
                    "n": p.n,
                    "cohen_kappa": p.kappa,
                    "a_name": self.name(p.a),
                    "b_name": self.name(p.b),
                }
                for p in a.pairs
            ],  # fmt: skip
            "disputed": [{"task_id": d.task_id, "votes": d.votes, "agreement": d.agreement} for d in a.disputed],
            "rule": self.rule,
            "dawid_skene_changes": self.dawid_skene_changes,
            "warnings": list(self.warnings),
        }

    def lines(self) -> list[str]:
        """The report as plain-text lines for the CLI: kappas, each annotator by name, the most disputed tasks."""
        a = self.agreement
        if not a.n_tasks:
            return [f"No task has two annotations yet ({a.n_single:,} have one): agreement needs overlap."]
        kappa = "n/a" if a.fleiss_kappa is None else f"{a.fleiss_kappa:.3f}"
        out = [
            f"Annotator agreement on {a.n_tasks:,} tasks with several annotations: Fleiss' kappa {kappa}.",
            f"Training labels: {self.rule}; Dawid-Skene would change {self.dawid_skene_changes:,} of them.",
        ]
        for x in a.annotators:
            share = "n/a" if x.agreement is None else f"{x.agreement:.0%}"
            out.append(f"  {self.name(x.annotator)}: {x.n_votes:,} votes, agrees with the others' majority {share}")
        out += [f"  Cohen's kappa {self.name(p.a)} / {self.name(p.b)}: {p.kappa:.3f} on {p.n:,} tasks" for p in a.pairs]
        out += [f"  disputed task {d.task_id}: {dict(d.votes)}" for d in a.disputed[:10]]
        return out + [f"warning: {w}" for w in self.warnings]


def annotator_agreement(
    gateway: Gateway, project_id: int, *, control: str | None = None, top: int = 20
) -> AnnotatorReport:
    """How far the project's annotators agree on the tasks several of them labeled (see ``learning.agreement``).

    Raises ConfigError for a multi-label project or a config without usable ``<Choices>``; LabelStudioError."""
    project = gateway.get_project(project_id)
    spec = parse_label_config(project.label_config, control)
    if spec.multiple:
        raise ConfigError(
            f"Project {project_id} is multi-label (<Choices name={spec.control_name!r}> allows several): "
            "annotator agreement is measured on single-choice projects only."
        )
    annotated = gateway.labeled_tasks(project_id)
    votes = [(v.task_id, v.annotator, v.label) for v in labels.votes(annotated, spec)]
    found = agreement.agreement(votes, top=top)
    ds = agreement.dawid_skene(votes)
    several = {t for t, n in Counter(t for t, _, _ in votes).items() if n >= 2}
    used = {t.id: labels.aggregate(t, spec) for t in annotated if t.id in several}
    changes = sum(1 for t, label in used.items() if label is not None and ds.labels.get(t) not in (None, label))
    users, warnings = _users(gateway) if found.annotators else ({}, ())
    return AnnotatorReport(
        project_id, len(votes), found, AGGREGATION_RULE, changes, ds.reliability, users, warnings
    )  # fmt: skip


def _users(gateway: Gateway) -> tuple[dict[int, User], tuple[str, ...]]:
    """The server's users by id; none (and a warning) when this key may not list them."""
    try:
        return {u.id: u for u in gateway.list_users()}, ()
    except (AuthenticationFailed, NotFound) as err:
        return {}, (f"Annotators are shown by user id: this API key may not list the server's users ({err}).",)


def quality_warnings(counts: Mapping[str, Any]) -> list[str]:
    """What was left out of the ranking, in sentences (the iteration's, plus tasks of too rare classes)."""
    said = iteration_warnings({k: v for k, v in counts.items() if k != "rare_class"})
    out = [_for_ranking(w) for w in said]
    if n := int(counts.get("rare_class") or 0):
        out.append(
            f"{n:,} labeled task{' is' if n == 1 else 's are'} not ranked: {'its' if n == 1 else 'their'} class has "
            f"fewer than {label_issues.MIN_CLASS_SIZE} labels, too few to cross-validate. Label more of it."
        )
    return out


def _for_ranking(sentence: str) -> str:
    """An iteration's warning about what it left out, said of the ranking."""
    for was, now in _RANKING_WORDS:
        sentence = sentence.replace(was, now)
    return sentence


_RANKING_WORDS = (
    ("training and scoring", "the ranking"),
    ("neither trained on nor queued", "not ranked"),
    ("not trained on", "not ranked"),
)
