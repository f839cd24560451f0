"""``headwater tokens``: list, create and revoke API tokens (a new token is printed once)."""

from __future__ import annotations

from typing import Annotated

import typer

from headwater.cli.output import Json, console, out, show
from headwater.cli.remote import Token, Url, remote, segment

__all__ = ["tokens_app"]

tokens_app = typer.Typer(help="API tokens: list, create, revoke.", no_args_is_help=True)

_ROLES = "owner, admin, developer, marketer, analyst or privacy_admin"
_COLUMNS = [
    "id",
    "name",
    "kind",
    "email",
    "workspace",
    "role",
    "pii_read",
    "created_at",
    "expires_at",
    "revoked_at",
    "expired",
]
Workspace = Annotated[str | None, typer.Option("--workspace", help="workspace slug")]


def _path(workspace: str | None) -> str:
    if workspace is None:
        return "/api/v1/me/tokens"
    return f"/api/v1/workspaces/{segment(workspace)}/tokens"


@tokens_app.command("list")
def tokens_list(
    workspace: Workspace = None, url: Url = None, token: Token = None, json_out: Json = False
) -> None:
    """Your tokens in the workspace (every token of it when you may read people); without
    --workspace, your own in every workspace."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(_path(workspace))
    show(found, json_out=json_out, columns=_COLUMNS)


@tokens_app.command("create")
def tokens_create(
    name: str,
    role: Annotated[str, typer.Option(help=f"the token's role: {_ROLES}")],
    workspace: Annotated[str, typer.Option("--workspace", help="workspace slug")] = "default",
    pii_read: Annotated[bool, typer.Option(help="personal values unmasked")] = False,
    expires_in_days: Annotated[int | None, typer.Option(help="days until it expires")] = None,
    service_account: Annotated[
        bool, typer.Option(help="a token of no person (needs people:write)")
    ] = False,
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Create a token and print it: the only time it is shown."""
    body = {
        "name": name,
        "role": role,
        "pii_read": pii_read,
        "expires_in_days": expires_in_days,
        "service_account": service_account,
    }
    with remote(url=url, token=token, json_out=json_out) as api:
        created = api.post(_path(workspace), body)
    if json_out:
        show(created, json_out=True)
        return
    show({k: v for k, v in created.items() if k != "token"}, json_out=False)
    console.print("The token is shown once; keep it now:", highlight=False)
    out.print(created["token"], highlight=False, soft_wrap=True)


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: int,
    workspace: Workspace = None,
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Revoke a token (yours; any of the workspace's with people:write); it stops working at
    once."""
    with remote(url=url, token=token, json_out=json_out) as api:
        revoked = api.call("DELETE", f"{_path(workspace)}/{token_id}")
    show(revoked, json_out=json_out, columns=_COLUMNS)
