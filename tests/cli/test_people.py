"""``headwater users`` and ``headwater members`` against a running server."""

from __future__ import annotations

import asyncio

import httpx

from tests.cli.conftest import Cli
from tests.server import RunningServer

PASSWORD = "correct horse battery"


def _login(server: RunningServer, email: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=30
    )


async def test_people_and_members_from_the_command_line(server: RunningServer, cli: Cli) -> None:
    server.api("POST", "/api/v1/workspaces", json={"slug": "shop"})
    invited = cli.run("users", "create", "ana@example.com", "--json").json()
    assert invited["email"] == "ana@example.com"
    assert "/setup#hwl_" in invited["invite_link"]

    added = cli.run(
        "members",
        "add",
        "bo@example.com",
        "--role",
        "analyst",
        "--password-stdin",
        "--workspace",
        "shop",
        "--json",
        stdin=f"{PASSWORD}\n",
    ).json()
    assert (added["email"], added["role"], added["pii_read"]) == (
        "bo@example.com",
        "analyst",
        False,
    )
    assert "invite_link" not in added
    signed_in = await asyncio.to_thread(_login, server, "bo@example.com")
    assert signed_in.status_code == 200, signed_in.text

    bo = str(added["user_id"])
    updated = cli.run(
        "members", "update", bo, "--role", "marketer", "--pii-read", "--workspace", "shop", "--json"
    )
    # the lists run after the change: at once, they could read the role before it
    listed, users_table, members_table = await cli.run_all(
        ["members", "list", "--workspace", "shop", "--json"],
        ["users", "list"],
        ["members", "list", "--workspace", "shop"],
    )
    assert (updated.json()["role"], updated.json()["pii_read"]) == ("marketer", True)
    assert [m["email"] for m in listed.json()] == ["bo@example.com"]
    assert users_table.returncode == 0, users_table.stderr
    assert "ana@example.com" in users_table.stdout
    assert "shop:marketer" in users_table.stdout
    assert "bo@example.com" in members_table.stdout

    nothing = cli.run("members", "update", bo, "--workspace", "shop")
    assert nothing.returncode == 2
    assert "nothing to change" in nothing.stderr
    duplicate = cli.run(
        "members", "add", "bo@example.com", "--role", "owner", "--workspace", "shop"
    )
    assert duplicate.returncode == 1
    assert "already_member" in duplicate.stderr

    removed = cli.run("members", "remove", bo, "--workspace", "shop", "--json").json()
    assert removed["removed"] is True
    assert cli.run("members", "list", "--workspace", "shop", "--json").json() == []
    disabled = cli.run("users", "disable", bo, "--json").json()
    assert disabled["disabled"] is True
    refused = await asyncio.to_thread(_login, server, "bo@example.com")
    assert refused.status_code == 401
    enabled = cli.run("users", "enable", bo, "--json").json()
    assert enabled["disabled"] is False
