"""Label Studio itself on PostgreSQL (``DJANGO_DB=default`` and its ``POSTGRE_*`` settings), with the history on
PostgreSQL too: a team's set-up, end to end — a project, labels, an iteration, its predictions in the queue."""

from __future__ import annotations

from pathlib import Path

import pytest

from al_core.iteration import IterationSettings, run_iteration
from al_core.lab.sample import GoldAnnotator, create_sample_project, sample_gold
from al_core.labelstudio.gateway import Gateway
from al_core.labelstudio.local_server import start_local_server
from al_core.store.history import History
from tests.conftest import free_port
from tests.postgres import USER, PostgresServer

pytestmark = pytest.mark.scale  # ~2 min of Label Studio migrating PostgreSQL: `make test-scale`


def test_an_iteration_on_label_studio_and_a_history_both_on_postgresql(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    ls_database = postgres_server.new_database().rsplit("/", 1)[1]
    server = start_local_server(
        tmp_path,
        port=free_port(),
        extra_env={
            "DJANGO_DB": "default",
            "POSTGRE_NAME": ls_database,
            "POSTGRE_USER": USER,
            "POSTGRE_PASSWORD": "",
            "POSTGRE_HOST": "127.0.0.1",
            "POSTGRE_PORT": str(postgres_server.port),
        },
    )
    try:
        assert not (tmp_path / "labelstudio" / "label_studio.sqlite3").exists()  # Label Studio's data is in PostgreSQL
        gateway = Gateway(server.connection.url, server.connection.api_key)
        project = create_sample_project(gateway, "on PostgreSQL")
        GoldAnnotator(gateway, project.id, sample_gold().get).label(40)
        history = History(postgres_server.new_database(), server=gateway.url)
        result = run_iteration(gateway, history, project.id, IterationSettings(model="tfidf-logreg", upload_top=100))
        assert result.status == "succeeded" and result.n_labeled > 0 and result.n_predictions > 0
        assert gateway.get_project(project.id).model_version == result.model_version
        assert [r.model_version for r in history.iterations(project.id)] == [result.model_version]
    finally:
        server.stop()
