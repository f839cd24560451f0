"""``headwater audit list`` and ``headwater audit export`` against a running server."""

from __future__ import annotations

import asyncio
import csv
import io
import json

from tests.cli.conftest import Cli
from tests.server import RunningServer


async def test_audit_list_and_export(cli: Cli, server: RunningServer) -> None:
    made = await asyncio.to_thread(
        server.api, "POST", "/api/v1/workspaces/default/sources", json={"name": "audited"}
    )
    url = f"/api/v1/workspaces/default/sources/{made['id']}"
    await asyncio.to_thread(server.api, "PATCH", url, json={"name": "renamed"})
    await asyncio.to_thread(server.api, "POST", "/api/v1/workspaces", json={"slug": "shop"})

    listed, table, filtered, instance, jsonl, csv_file, wrong = await cli.run_all(
        ["audit", "list", "--workspace", "default", "--json"],
        ["audit", "list", "--workspace", "default"],
        ["audit", "list", "--workspace", "default", "--action", "source.update", "--json"],
        ["audit", "list", "--json"],
        ["audit", "export", "--workspace", "default", "--resource", f"source:{made['id']}"],
        ["audit", "export", "--workspace", "default", "--format", "csv", "-o", "audit.csv"],
        ["audit", "export", "--format", "xml"],
    )
    entries = listed.json()
    assert [e["action"] for e in entries[:2]] == ["source.update", "source.create"]
    assert table.returncode == 0, table.stderr
    assert "source.update" in table.stdout
    assert f"source:{made['id']}" in table.stdout
    assert [e["id"] for e in filtered.json()] == [entries[0]["id"]]
    assert filtered.json()[0]["before"]["name"] == "audited"
    assert filtered.json()[0]["after"]["name"] == "renamed"
    assert [(e["action"], e["resource"]) for e in instance.json()] == [
        ("workspace.create", "workspace:shop")
    ]
    assert jsonl.returncode == 0, jsonl.stderr
    assert [json.loads(line)["id"] for line in jsonl.stdout.splitlines()] == [
        e["id"] for e in entries[:2]
    ]
    assert csv_file.returncode == 0, csv_file.stderr
    rows = list(csv.DictReader(io.StringIO((cli.cwd / "audit.csv").read_text())))
    assert [int(r["id"]) for r in rows] == [e["id"] for e in entries]
    assert wrong.returncode == 2
    assert "jsonl or csv" in wrong.stderr
