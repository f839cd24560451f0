"""A sync run by a real ``headwater worker`` process: ``headwater serve`` answers the API with
its own reverse-ETL task off (and its processor off, as an API node), the worker's
``reverse-etl`` task takes the run asked for through the API, reads the customer's database
and writes the rows to the event log through the worker's own collector."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.retl.conftest import LOCAL, PASSWORD, Customer, customer  # noqa: F401 (a fixture)
from tests.retl.test_api import _call
from tests.retl.test_runs import _TABLE
from tests.server import COLLECT_ONLY, RunningServer, Worker, start_server


@pytest.fixture
def api_node(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(
        database_url, tmp_path, extra_env={**COLLECT_ONLY, **LOCAL, "HEADWATER_RUN_RETL": "false"}
    )
    try:
        yield running
    finally:
        running.stop()


def _run_ended(server: RunningServer, base: str, sync_id: int, worker: Worker) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        runs = _call(server, "GET", f"{base}/syncs/{sync_id}/runs", 200)
        if runs and runs[0]["status"] != "running":
            return runs[0]  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"no run ended within 90 s; the worker's log:\n{worker.log()}")


async def _logged(database_url: str, source_id: int) -> list[str]:
    parsed = make_url(database_url)
    connection = await asyncpg.connect(
        host=parsed.query.get("host") or parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )
    try:
        rows = await connection.fetch(
            "SELECT payload->>'userId' FROM events WHERE source_id = $1 AND type = 'identify'",
            source_id,
        )
    finally:
        await connection.close()
    return sorted(r[0] for r in rows)


async def test_a_worker_process_runs_a_sync_into_the_log(
    api_node: RunningServer,
    customer: Customer,  # noqa: F811
    database_url: str,
    tmp_path: Path,
) -> None:
    await customer.execute(*_TABLE)
    workspace, _, source_id = api_node.new_workspace()
    base = f"{workspace}/reverse-etl"
    model = _call(
        api_node,
        "POST",
        f"{base}/models",
        201,
        json={
            "name": "Customers",
            "connection": customer.url,
            "query": "SELECT id, email, plan FROM customers",
            "primary_key": "id",
        },
    )
    sync = _call(
        api_node,
        "POST",
        f"{base}/syncs",
        201,
        json={
            "name": "Customers to profiles",
            "model_id": model["id"],
            "target": "profiles",
            "message_type": "identify",
            "source_id": source_id,
            "mapping": {"user_id": "email", "fields": {"plan": "plan"}},
        },
    )
    _call(api_node, "POST", f"{base}/syncs/{sync['id']}/run", 200)
    worker = Worker(
        database_url,
        tmp_path / "worker.log",
        extra_env={**LOCAL, "HEADWATER_RETL_POLL_SECONDS": "0.2"},
    )
    try:
        run = _run_ended(api_node, base, sync["id"], worker)
    finally:
        worker.stop()
    assert (run["status"], run["trigger"], run["rows_read"], run["added"], run["failed"]) == (
        "succeeded",
        "manual",
        20,
        20,
        0,
    ), run
    assert await _logged(database_url, source_id) == sorted(
        f"user{n}@example.com" for n in range(1, 21)
    )
    assert PASSWORD not in worker.log()
