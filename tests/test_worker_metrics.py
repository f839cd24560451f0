"""``headwater worker`` exports its metrics and its readiness when asked to."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.server import COLLECT_ONLY, Worker, free_port, start_server


def _processed(text: str) -> float:
    for line in text.splitlines():
        if line.startswith('headwater_consumer_events_total{consumer="processor"}'):
            return float(line.split()[-1])
    return 0.0


def test_a_worker_serves_the_processors_counters(database_url: str, tmp_path: Path) -> None:
    server = start_server(database_url, tmp_path, extra_env=COLLECT_ONLY)
    port = free_port()
    worker = Worker(
        database_url,
        tmp_path / "worker.log",
        extra_env={"HEADWATER_WORKER_METRICS_PORT": str(port)},
    )
    try:
        batch = [
            {"type": "track", "event": "Signed Up", "userId": f"user-{i}", "messageId": f"m-{i}"}
            for i in range(5)
        ]
        response = httpx.post(
            f"{server.url}/v1/batch", json={"batch": batch}, auth=(server.write_key, "")
        )
        assert response.status_code == 200, response.text
        deadline = time.monotonic() + 30
        text = ""
        while time.monotonic() < deadline:
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
            except httpx.TransportError:
                text = ""  # not listening yet
            if _processed(text) >= 5:
                break
            time.sleep(0.2)
        assert _processed(text) == 5, worker.log()
        assert "headwater_consumer_lag_seconds" in text
        # The same supervised tasks as headwater serve, each up.
        tasks = (
            "processor",
            "audience-scheduler",
            "audience-relay",
            "journey-runner",
            "journey-calls",
            "regulations",
            "delivery",
            "privacy-exports",
            "reverse-etl",
        )
        for task in tasks:
            assert f'headwater_task_up{{task="{task}"}} 1.0' in text, text
            assert f'headwater_task_restarts_total{{task="{task}"}} 0.0' in text
        # Its readiness report, from the same runtime: no collector, every task up.
        ready = httpx.get(f"http://127.0.0.1:{port}/ready")
        assert ready.status_code == 200, ready.text
        report = ready.json()
        assert (report["ready"], report["database"], "collector" in report) == (True, "up", False)
        assert {task: report["tasks"][task]["state"] for task in tasks} == dict.fromkeys(
            tasks, "up"
        )
        assert httpx.get(f"http://127.0.0.1:{port}/other").status_code == 404
    finally:
        worker.stop()
        server.stop()
