"""``headwater tokens``: create prints the token once and it works; list shows it without the
secret; revoke stops it."""

from __future__ import annotations

import httpx

from tests.cli.conftest import Cli
from tests.server import RunningServer


def _sources(server: RunningServer, token: str) -> int:
    return httpx.get(
        f"{server.url}/api/v1/workspaces/default/sources",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).status_code


async def test_create_list_and_revoke_a_token(cli: Cli, server: RunningServer) -> None:
    created = await cli.run_async(
        "tokens", "create", "ci", "--role", "developer", "--service-account"
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("hw_")
    assert created.stdout.count(token) == 1
    assert "shown once" in created.stderr
    assert _sources(server, token) == 200

    listed, table = await cli.run_all(
        ["tokens", "list", "--workspace", "default", "--json"],
        ["tokens", "list", "--workspace", "default"],
    )
    (ci,) = [t for t in listed.json() if t["name"] == "ci"]
    assert (ci["kind"], ci["role"], ci["revoked_at"]) == ("service_account", "developer", None)
    assert token not in listed.stdout
    assert token not in table.stdout
    assert "ci" in table.stdout

    revoked = await cli.run_async(
        "tokens", "revoke", str(ci["id"]), "--workspace", "default", "--json"
    )
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.json()["revoked_at"] is not None
    assert _sources(server, token) == 401

    unknown = await cli.run_async("tokens", "create", "x", "--role", "nobody")
    assert unknown.returncode == 1
    assert "error:" in unknown.stderr
