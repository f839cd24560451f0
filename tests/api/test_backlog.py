"""The processor's backlog (``GET /api/v1/processing/backlog``): what waits, and since when."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.server import COLLECT_ONLY, WRITE_KEY, Worker, start_server


def _backlog(url: str, token: str) -> dict[str, object]:
    answer = httpx.get(
        f"{url}/api/v1/processing/backlog", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_the_backlog_grows_without_a_processor_and_drains_with_one(
    database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "serve").mkdir()
    server = start_server(database_url, tmp_path / "serve", COLLECT_ONLY)
    try:
        token = "test-admin-token"
        assert _backlog(server.url, token) == {
            "partitions_behind": 0,
            "oldest_waiting": None,
            "lag_seconds": 0.0,
        }
        for user in ("ana", "bo", "cy"):
            sent = httpx.post(
                f"{server.url}/v1/track",
                auth=(WRITE_KEY, ""),
                json={"userId": user, "event": "Waited"},
            )
            assert sent.status_code == 200
        time.sleep(0.2)
        behind = _backlog(server.url, token)
        assert isinstance(behind["partitions_behind"], int)
        assert behind["partitions_behind"] >= 1
        assert isinstance(behind["lag_seconds"], float)
        assert behind["lag_seconds"] >= 0.2
        assert behind["oldest_waiting"] is not None

        worker = Worker(database_url, tmp_path / "worker.log")
        try:
            deadline = time.monotonic() + 30
            while _backlog(server.url, token)["partitions_behind"] and time.monotonic() < deadline:
                time.sleep(0.2)
            assert _backlog(server.url, token)["lag_seconds"] == 0.0
        finally:
            worker.stop()
        assert httpx.get(f"{server.url}/api/v1/processing/backlog").status_code == 401
    finally:
        server.stop()
