"""/ready: a worker is ready when its database answers and its start-up index build has ended,
so a proxy sends it no ranking that would wait for the build (issue 15)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.db import Database
from app.main import create_app
from app.settings import Settings


def test_ready_is_a_503_while_the_start_up_build_runs_then_200_with_the_index_built(
    db: Database, settings: Settings
):
    app = create_app(settings.model_copy(update={"warm_ranking_index": True}), database=db)
    ranking_index = app.state.ranking_index
    # The build takes the index's lock: holding it here keeps the real build from finishing.
    with ranking_index._lock, TestClient(app, raise_server_exceptions=False) as client:
        waiting = client.get("/ready")
        assert client.get("/health").status_code == 200  # alive, just not ready
        assert waiting.status_code == 503, waiting.text
        assert waiting.headers["content-type"].startswith("application/problem+json")
        assert int(waiting.headers["retry-after"]) >= 1
        assert "ranking index" in waiting.json()["detail"]
        ranking_index._lock.release()
        try:
            assert ranking_index.warmed.wait(30)
            ready = client.get("/ready")
        finally:
            ranking_index._lock.acquire()
    assert ready.status_code == 200, ready.text
    assert ready.json()["ranking_index"] == "built"


def test_without_the_start_up_build_ready_says_the_first_ranking_builds_the_index(client):
    # The suite's settings turn the start-up build off.
    answer = client.get("/ready")
    assert answer.status_code == 200
    assert answer.json()["ranking_index"] == "on first ranking"
