"""Likely label errors against a real Label Studio: wrong labels injected into a project are found, said by
``python -m al_core label-issues`` (text and --json) and hidden once reviewed; multi-label is refused in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from al_core import quality
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import build_config
from al_core.settings import PROJECT_ROOT, db_url
from al_core.store import reviews
from al_core.store.history import History
from tests.label_noise import noisy_project

N_PER_CLASS = 24
N_FLIPPED = 12


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "al_core", *args],
        capture_output=True,
        text=True,
        cwd=str(PROJECT_ROOT),
        env={**os.environ, **env},
        timeout=300,
    )


@pytest.fixture(scope="module")
def noisy(gateway: Gateway) -> tuple[int, dict[int, tuple[str, str]]]:
    return noisy_project(gateway, "label issues test", per_class=N_PER_CLASS, n_flipped=N_FLIPPED)


def test_injected_label_errors_are_found_and_reviewed_ones_hidden(
    label_studio, gateway: Gateway, noisy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AL_MODEL", "tfidf-logreg")  # the project has no version yet: the default model
    project_id, flipped = noisy
    steps: list[str] = []
    found = quality.find_label_issues(
        gateway,
        History(db_url(), server=gateway.url),
        project_id,
        on_progress=lambda s, f, m: steps.append(s) if f == 0 else None,
    )
    assert steps == ["read", "cross-validate", "rank"]  # a TF-IDF model embeds nothing
    assert found.n_labeled == found.n_ranked == 15 * N_PER_CLASS and found.folds == 5 and found.model == "tfidf-logreg"
    top = found.issues[:N_FLIPPED]
    hits = [i for i in top if i.task_id in flipped]
    assert len(hits) >= N_FLIPPED // 2, [(i.task_id, i.given, i.suggested) for i in top]  # 3.3% noise; >= 50% precision
    assert all(i.given == flipped[i.task_id][0] for i in hits)
    assert sum(i.suggested == flipped[i.task_id][1] for i in hits) >= len(hits) // 2  # the suggestion: the true label
    assert [i.score for i in found.issues] == sorted((i.score for i in found.issues), reverse=True)
    assert all(i.text for i in found.issues) and found.warnings == ()

    first = found.issues[0]
    reviews.mark_reviewed(History(db_url(), server=gateway.url), project_id, first.task_id, first.given, by="test")
    env = {
        "LABEL_STUDIO_URL": label_studio.url,
        "LABEL_STUDIO_API_KEY": label_studio.api_key,
        "AL_MODEL": "tfidf-logreg",
    }
    done = _cli("label-issues", "--project", str(project_id), "--top", "5", "--json", env=env)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["project"] == project_id and len(out["issues"]) == 5
    assert [set(i) >= {"task_id", "given", "suggested", "score"} for i in out["issues"]] == [True] * 5
    assert [i["task_id"] for i in out["issues"]] == [i.task_id for i in found.issues[1:6]]  # the reviewed one hidden
    assert out["n_reviewed_hidden"] == 1 and out["n_issues"] == len(found.issues) - 1 and out["warnings"] == []

    text = _cli("label-issues", "--project", str(project_id), "--top", "3", env=env)
    assert text.returncode == 0, text.stderr
    assert f"Project {project_id}: {len(found.issues) - 1} likely label error(s)" in text.stdout
    assert f"task {found.issues[1].task_id}" in text.stdout and "1 reviewed ones hidden" in text.stdout


def test_multi_label_is_refused_in_one_line(label_studio, gateway: Gateway) -> None:
    config = build_config(("a", "b"), control_name="tags", multiple=True)
    project = gateway.create_project("label issues multi", config)
    env = {"LABEL_STUDIO_URL": label_studio.url, "LABEL_STUDIO_API_KEY": label_studio.api_key}
    done = _cli("label-issues", "--project", str(project.id), env=env)
    assert done.returncode == 1 and done.stdout == ""
    error = [line for line in done.stderr.splitlines() if not line.startswith("  ")]  # progress lines are indented
    assert error == [
        f"error: Project {project.id} is multi-label (<Choices name='tags'> allows several): finding label errors is "
        "built for single-choice projects only."
    ]
