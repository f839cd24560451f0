"""Reverse ETL through ``headwater serve``'s management API: a model created and previewed, a
sync run by hand by the server's own ``reverse-etl`` task, bad input answered 400 with what is
wrong, another workspace seeing nothing, and the URL's password in no answer, audit entry or
log line."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.retl.conftest import LOCAL, PASSWORD, Customer, customer  # noqa: F401 (a fixture)
from tests.retl.test_runs import _TABLE
from tests.server import ADMIN_TOKEN, RunningServer, start_server


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(
        database_url, tmp_path, extra_env={**LOCAL, "HEADWATER_RETL_POLL_SECONDS": "0.2"}
    )
    try:
        yield running
    finally:
        running.stop()


def _call(server: RunningServer, method: str, path: str, status: int, **kw: Any) -> Any:
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60
    ) as client:
        response = client.request(method, "/api/v1/workspaces/" + path, **kw)
    assert response.status_code == status, response.text
    assert PASSWORD not in response.text
    return response.json()


def _finished_run(server: RunningServer, workspace: str, sync_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        runs = _call(server, "GET", f"{workspace}/reverse-etl/syncs/{sync_id}/runs", 200)
        if runs and runs[0]["status"] != "running":
            return runs[0]  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError("the run did not finish within 60 s")


async def test_models_and_syncs_through_the_api(server: RunningServer, customer: Customer) -> None:  # noqa: F811
    await customer.execute(*_TABLE)
    workspace, _, _ = server.new_workspace()
    base = f"{workspace}/reverse-etl"
    body = {
        "name": "Customers",
        "connection": customer.url,
        "query": "SELECT id, email, plan FROM customers ORDER BY id",
        "primary_key": "id",
    }
    shown = _call(server, "POST", f"{base}/models/preview", 200, json={**body, "limit": 2})
    assert shown == {
        "columns": ["id", "email", "plan"],
        "rows": [[1, "user1@example.com", "free"], [2, "user2@example.com", "free"]],
        "problems": [],
    }
    model = _call(server, "POST", f"{base}/models", 201, json=body)
    assert model["connection"].startswith("postgresql://reader:***@")
    assert _call(server, "POST", f"{base}/models/{model['id']}/preview?limit=1", 200)["rows"] == [
        [1, "user1@example.com", "free"]
    ]

    refused = _call(
        server,
        "POST",
        f"{base}/syncs",
        400,
        json={
            "name": "bad",
            "model_id": model["id"],
            "target": "events",
            "message_type": "track",
            "mode": "mirror",
            "mapping": {"user_id": "id"},
        },
    )
    assert refused["code"] == "invalid_sync"
    assert len(refused["problems"]) == 2  # mirror of events, and no event name

    sync = _call(
        server,
        "POST",
        f"{base}/syncs",
        201,
        json={
            "name": "Customers to profiles",
            "model_id": model["id"],
            "target": "profiles",
            "message_type": "identify",
            "mapping": {"user_id": "id", "fields": {"email": "email"}},
            "schedule": {"kind": "cron", "expression": "0 6 * * *"},
        },
    )
    assert sync["next_run_at"].endswith("T06:00:00.000Z")
    _call(server, "POST", f"{base}/syncs/{sync['id']}/run", 200)
    run = _finished_run(server, workspace, sync["id"])
    assert (run["status"], run["trigger"], run["added"], run["failed"]) == (
        "succeeded",
        "manual",
        20,
        0,
    )

    other, _, _ = server.new_workspace()
    assert _call(server, "GET", f"{other}/reverse-etl/models/{model['id']}", 404)["code"] == (
        "model_not_found"
    )
    assert _call(server, "GET", f"{other}/reverse-etl/syncs", 200) == []

    assert _call(server, "DELETE", f"{base}/models/{model['id']}", 409)["code"] == "model_in_use"
    trail = _call(server, "GET", f"{workspace}/audit", 200, params={"limit": 100})
    assert {e["action"] for e in trail["data"]} >= {
        "retl_model.create",
        "retl_sync.create",
        "retl_sync.run",
    }
    assert PASSWORD not in server.log_path.read_text()


async def test_a_database_that_is_down_answers_a_plain_400(
    server: RunningServer,
    customer: Customer,  # noqa: F811
) -> None:
    workspace, _, _ = server.new_workspace()
    down = (
        make_url(customer.url)
        .set(host="127.0.0.1", port=1, query={})
        .render_as_string(hide_password=False)
    )
    answer = _call(
        server,
        "POST",
        f"{workspace}/reverse-etl/models/preview",
        400,
        json={"connection": down, "query": "SELECT 1 AS id", "primary_key": "id"},
    )
    assert answer["code"] == "model_query_failed"
    assert answer["message"].startswith("the model's database:")
    not_a_url = _call(
        server,
        "POST",
        f"{workspace}/reverse-etl/models",
        400,
        json={"name": "x", "connection": "nonsense", "query": "SELECT 1", "primary_key": "id"},
    )
    assert not_a_url["code"] == "invalid_connection"
