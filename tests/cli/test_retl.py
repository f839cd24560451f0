"""``headwater retl`` against a running server: a model (its URL read from stdin) previewed
and created, a sync run with ``--wait`` printing its counts, the runs listed, bad input
explained with exit status 1 or 2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Cli
from tests.retl.conftest import LOCAL, PASSWORD, Customer, customer  # noqa: F401 (a fixture)
from tests.retl.test_runs import _TABLE
from tests.server import RunningServer, start_server


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    """The server the ``cli`` fixture talks to, allowed to read the customer's database on
    the test PostgreSQL server (Headwater's own)."""
    running = start_server(database_url, tmp_path, extra_env=LOCAL)
    try:
        yield running
    finally:
        running.stop()


async def test_models_and_syncs(cli: Cli, customer: Customer) -> None:  # noqa: F811
    await customer.execute(*_TABLE)
    query = "SELECT id, email, plan FROM customers ORDER BY id"
    shown = cli.run(
        "retl", "models", "preview", "--connection", "@-", "--query", query,
        "--primary-key", "id", "--limit", "3",
        stdin=customer.url,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "user3@example.com" in shown.stdout
    assert "user4@example.com" not in shown.stdout
    created = cli.run(
        "retl", "models", "create", "Customers", "--connection", "@-", "--query", query,
        "--primary-key", "id", "--json",
        stdin=customer.url,
    ).json()  # fmt: skip
    assert PASSWORD not in str(created)
    listed = cli.run("retl", "models", "list")
    assert "Customers" in listed.stdout
    assert PASSWORD not in listed.stdout

    refused = cli.run(
        "retl", "syncs", "create", "bad", "--model-id", str(created["id"]), "--target",
        "profiles", "--message-type", "track", "--mapping", '{"user_id": "id"}',
    )  # fmt: skip
    assert refused.returncode == 1
    assert "a sync to profiles sends identify or group" in refused.stderr
    assert cli.run("retl", "syncs", "create", "x", "--model-id", "1", "--target", "profiles",
                   "--message-type", "identify", "--mapping", "{").returncode == 2  # fmt: skip

    sync = cli.run(
        "retl", "syncs", "create", "To profiles", "--model-id", str(created["id"]),
        "--target", "profiles", "--message-type", "identify",
        "--mapping", '{"user_id": "id", "fields": {"email": "email"}}', "--every", "3600",
        "--json",
    ).json()  # fmt: skip
    assert sync["schedule"] == {"kind": "interval", "seconds": 3600, "expression": None}
    run = cli.run("retl", "syncs", "run", str(sync["id"]), "--wait", "--json").json()
    assert (run["status"], run["added"], run["failed"]) == ("succeeded", 20, 0)
    runs = cli.run("retl", "syncs", "runs", str(sync["id"]))
    assert runs.returncode == 0, runs.stderr
    assert "succeeded" in runs.stdout
