"""``headwater audiences ...`` as a user runs it, against a running server."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Cli, cli_for, send
from tests.server import RunningServer


@pytest.fixture
def cli(server: RunningServer, tmp_path: Path) -> Cli:
    return cli_for(server, tmp_path)


def test_cli(cli: Cli, server: RunningServer, tmp_path: Path) -> None:
    definition: dict[str, Any] = {
        "version": 1,
        "condition": {"type": "trait", "trait": "plan", "operator": "equals", "value": "pro"},
    }
    path = tmp_path / "pro.json"
    path.write_text(json.dumps(definition))
    made = cli.run("audiences", "create", "pro_users", "--file", str(path), "--json")
    assert made.json()["key"] == "pro_users"
    listed = cli.run("audiences", "list", "--json").json()
    assert [(a["key"], a["size"]) for a in listed] == [("pro_users", 0)]
    preview = cli.run("audiences", "preview", "--file", str(path), "--json")
    assert preview.json()["size"] == 0
    done = cli.run("audiences", "recompute", "--json").json()
    assert [(r["key"], r["entered"]) for r in done] == [("pro_users", 0)]
    exported = cli.run("audiences", "members", "pro_users", "--csv")
    assert exported.stdout.splitlines() == ["profile_id,user_id,email,value,since"]

    path.write_text('{"version": 1, "condition": {"type": "trait", "trait": "plan"}}')
    bad = cli.run("audiences", "create", "bad", "--file", str(path), "--json")
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["code"] == "invalid_definition"
    assert "invalid_definition" in bad.stderr
    missing = cli.run("audiences", "members", "nope", "--json")
    assert missing.returncode == 1
    assert json.loads(missing.stdout)["code"] == "audience_not_found"


def test_recompute_shows_progress_and_tables_on_a_terminal(
    cli: Cli, server: RunningServer, tmp_path: Path
) -> None:
    trait = tmp_path / "orders.json"
    trait.write_text(json.dumps({"version": 1, "kind": "counter", "event": "Order Completed"}))
    buyers = tmp_path / "buyers.json"
    buyers.write_text(
        json.dumps(
            {
                "version": 1,
                "condition": {
                    "type": "trait",
                    "trait": "orders",
                    "operator": "greater_than",
                    "value": 0,
                },
            }
        )
    )
    made = cli.run("audiences", "create", "orders", "--kind", "trait", "--file", str(trait))
    assert made.returncode == 0, made.stderr
    assert cli.run("audiences", "create", "buyers", "--file", str(buyers)).returncode == 0
    send(server, {"userId": "b1", "event": "Order Completed", "messageId": "o-1"})

    status, shown = cli.run_in_terminal("audiences", "recompute")
    assert status == 0, shown
    assert "recomputing" in shown
    assert "2/2" in shown  # a bar over both keys: the computed trait, then the audience
    assert "┃ key" in shown
    assert "orders" in shown
    assert "buyers" in shown

    # The order of GET recompute-order: the computed trait before the audience that names it.
    done = cli.run("audiences", "recompute", "--json").json()
    assert [r["key"] for r in done] == ["orders", "buyers"]

    status, shown = cli.run_in_terminal("audiences", "list")
    assert status == 0, shown
    assert "┃ key" in shown
    assert "size" in shown


def test_list_members_added_and_removed(cli: Cli, server: RunningServer, tmp_path: Path) -> None:
    definition = tmp_path / "vips.json"
    definition.write_text('{"version": 1, "list": true}')
    assert cli.run("audiences", "create", "vips", "--file", str(definition)).returncode == 0
    send(server, {"userId": "ada", "traits": {"email": "ada@example.com"}}, "/v1/identify")
    send(server, {"userId": "bo"}, "/v1/identify")
    deadline = time.monotonic() + 30
    while len(server.api("GET", "/api/v1/workspaces/default/profiles")) < 2:
        assert time.monotonic() < deadline, "two profiles"
        time.sleep(0.2)

    added = cli.run("audiences", "add", "vips", "--user-id", "ada", "--user-id", "bo", "--json")
    assert added.returncode == 0, added.stderr
    assert (added.json()["added"], added.json()["problems"]) == (2, [])
    leavers = tmp_path / "leavers.txt"
    leavers.write_text("ADA@example.com\n\nnobody@example.com\n")
    removed = cli.run(
        "audiences", "remove", "vips", "--file", str(leavers), "--by", "email", "--json"
    )
    assert removed.returncode == 1  # one was not found: said, and the other removed
    answer = json.loads(removed.stdout)
    assert answer["removed"] == 1
    assert answer["problems"] == [
        {"path": "members.1", "message": "no profile with email nobody@example.com"}
    ]
    assert "1 of 2 members were not found" in removed.stderr
    members = cli.run("audiences", "members", "vips", "--json")
    assert [json.loads(line)["user_id"] for line in members.stdout.splitlines()] == ["bo"]
