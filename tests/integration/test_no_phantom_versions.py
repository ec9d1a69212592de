"""No phantom versions, against the real Label Studio: a run on the labels the last version learned from does
nothing and says so (``run_iteration``, the CLI), ``--force`` makes a new version anyway, and such a re-run adds
no stable pair to the stopping signal. (The receiver's skip: tests/integration/test_webhooks.py.)"""

from __future__ import annotations

import json

import pytest

from al_core.iteration import IterationSettings, run_iteration
from al_core.lab.sample import GoldAnnotator, sample_gold, sample_rows
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.label_config import TEMPLATES
from al_core.settings import db_url
from al_core.store.history import History
from tests.integration.test_cli import _cli

SETTINGS = IterationSettings(model="tfidf-logreg", upload_top=50, diversity=False)
CLI_SETTINGS = ("--model", "tfidf-logreg", "--upload-top", "50", "--no-diversity", "--no-prune", "--json")


@pytest.fixture(scope="module")
def history(label_studio) -> History:
    return History(db_url(), server=label_studio.url)


@pytest.fixture(scope="module")
def project(gateway: Gateway):
    project = gateway.create_project("no phantom versions", TEMPLATES["intent"])
    gateway.import_tasks(project.id, [[{"text": text} for text, _ in sample_rows()[:300]]])
    return project


def test_a_run_without_new_labels_is_skipped_and_force_makes_a_version(
    label_studio, gateway: Gateway, history: History, project
) -> None:
    annotator = GoldAnnotator(gateway, project.id, sample_gold().get)
    annotator.label(40)
    first = run_iteration(gateway, history, project.id, SETTINGS)
    assert first.status == "succeeded" and not first.cold_start
    view = gateway.queue_view(project.id)
    assert first.labeling_url == f"{label_studio.url}/projects/{project.id}/data?tab={view}&labeling=1"
    stored_fingerprint = history.succeeded(project.id)[-1].counts.label_fingerprint
    assert stored_fingerprint is not None

    again = run_iteration(gateway, history, project.id, SETTINGS)
    assert again.status == "skipped" and again.model_version == first.model_version
    assert f"no new labels since {first.model_version}" in again.message
    assert (again.n_predictions, again.n_scored, again.n_labeled) == (0, 0, first.n_labeled)
    assert again.labeling_url == first.labeling_url, "the queue link still works"
    assert [(it.model_version, it.status) for it in history.iterations(project.id)] == [
        (first.model_version, "succeeded")
    ], "nothing recorded, nothing left running"
    assert gateway.get_project(project.id).model_version == first.model_version
    assert set(gateway.model_versions(project.id)) == {first.model_version}, "nothing uploaded"

    conn = ("--url", label_studio.url, "--api-key", label_studio.api_key, "--project", str(project.id))
    skipped = _cli("iterate", *conn, *CLI_SETTINGS)
    assert skipped.returncode == 0, skipped.stderr
    out = json.loads(skipped.stdout)
    assert out["status"] == "skipped" and out["model_version"] == first.model_version
    assert f"no new labels since {first.model_version}" in out["message"] and out["labeling_url"] == first.labeling_url
    text = _cli("iterate", *conn, "--model", "tfidf-logreg", "--no-prune")
    assert text.returncode == 0 and f"no new labels since {first.model_version}" in text.stdout, text.stderr

    forced = _cli("iterate", *conn, *CLI_SETTINGS, "--force")
    assert forced.returncode == 0, forced.stderr
    out = json.loads(forced.stdout)
    assert out["status"] == "succeeded" and out["model_version"] == f"al-0002-n{first.n_labeled}"
    assert gateway.get_project(project.id).model_version == out["model_version"]
    assert [it.model_version for it in history.succeeded(project.id)] == [first.model_version, out["model_version"]]


def test_a_re_run_on_the_same_labels_is_no_stable_pair(gateway: Gateway, history: History, project) -> None:
    GoldAnnotator(gateway, project.id, sample_gold().get).label(20)
    new = run_iteration(gateway, history, project.id, SETTINGS)
    rerun = run_iteration(gateway, history, project.id, SETTINGS, force=True)
    assert new.status == rerun.status == "succeeded" and new.model_version != rerun.model_version
    twin, *_ = history.succeeded(project.id)[1:]  # the CLI's forced re-run of the first version
    assert twin.uncertainty.kappa is None, "it re-learned the first version's labels: nothing to compare with"
    kappa = new.uncertainty["kappa"]
    assert kappa is not None and kappa < 0.99
    # Compared with the version before its labels, as ``new`` was: the same kappa, not 1.0 with its twin.
    assert rerun.uncertainty["kappa"] == pytest.approx(kappa)
    assert not rerun.consider_stopping
    records = history.succeeded(project.id)
    assert records[-1].counts.label_fingerprint == records[-2].counts.label_fingerprint
    assert records[-2].counts.label_fingerprint != records[-3].counts.label_fingerprint
