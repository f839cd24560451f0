"""``headwater users`` (the instance's people: an instance owner's) and ``headwater members``
(a workspace's: its owners').

>>> headwater users create ana@example.com            # prints a one-time invite link
>>> headwater members add bo@example.com --role analyst --workspace shop
>>> headwater members update 7 --role marketer --pii-read --workspace shop

A password is never an argument (shell histories keep those): ``--password-stdin`` reads it
from standard input; without one, the person gets an invite link to choose it.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from headwater.cli.output import Json, console, fail, show
from headwater.cli.remote import Token, Url, remote, segment

__all__ = ["members_app", "users_app"]

users_app = typer.Typer(
    help="The instance's people: list, create, disable, enable (instance owners).",
    no_args_is_help=True,
)
members_app = typer.Typer(
    help="A workspace's members and their roles (its owners).", no_args_is_help=True
)

WorkspaceSlug = Annotated[str, typer.Option("--workspace", help="workspace slug")]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="read the password from stdin (default: an invite link)"),
]
_ROLES = "owner, admin, developer, marketer, analyst or privacy_admin"
_USER_COLUMNS = ["id", "email", "instance_owner", "disabled", "workspaces", "created_at"]
_MEMBER_COLUMNS = ["user_id", "email", "role", "pii_read", "disabled", "created_at"]


def _password(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail("no password on stdin", code=2)
    return password


def _created(found: dict[str, Any], json_out: bool) -> None:
    show(found, json_out=json_out)
    if not json_out and found.get("invite_link"):
        console.print("the invite link is shown once: give it to the person (one use, 7 days)")


@users_app.command("list")
def users_list(url: Url = None, token: Token = None, json_out: Json = False) -> None:
    """Every person of the instance, with their workspaces."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get("/api/v1/users")
    for row in found if not json_out else []:
        row["workspaces"] = ", ".join(f"{m['workspace']}:{m['role']}" for m in row["workspaces"])
    show(found, json_out=json_out, columns=_USER_COLUMNS)


@users_app.command("create")
def users_create(
    email: str,
    instance_owner: Annotated[
        bool, typer.Option("--instance-owner", help="owner of every workspace")
    ] = False,
    password_stdin: PasswordStdin = False,
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Create a person; without --password-stdin, print their one-time invite link."""
    body = {
        "email": email,
        "instance_owner": instance_owner,
        "password": _password(password_stdin),
    }
    with remote(url=url, token=token, json_out=json_out) as api:
        _created(api.post("/api/v1/users", body), json_out)


@users_app.command("disable")
def users_disable(
    user_id: int, url: Url = None, token: Token = None, json_out: Json = False
) -> None:
    """Disable a person: their sessions end and their API tokens stop working."""
    with remote(url=url, token=token, json_out=json_out) as api:
        show(api.call("DELETE", f"/api/v1/users/{user_id}"), json_out=json_out)


@users_app.command("enable")
def users_enable(
    user_id: int, url: Url = None, token: Token = None, json_out: Json = False
) -> None:
    """Enable a disabled person again: they may sign in, and their API tokens work again."""
    with remote(url=url, token=token, json_out=json_out) as api:
        show(api.post(f"/api/v1/users/{user_id}/enable", {}), json_out=json_out)


def _members(workspace: str) -> str:
    return f"/api/v1/workspaces/{segment(workspace)}/members"


@members_app.command("list")
def members_list(
    workspace: WorkspaceSlug = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """The workspace's members and their roles."""
    with remote(url=url, token=token, json_out=json_out) as api:
        show(api.get(_members(workspace)), json_out=json_out, columns=_MEMBER_COLUMNS)


@members_app.command("add")
def members_add(
    email: str,
    role: Annotated[str, typer.Option(help=_ROLES)],
    pii_read: Annotated[
        bool, typer.Option("--pii-read", help="show personal values unmasked")
    ] = False,
    password_stdin: PasswordStdin = False,
    workspace: WorkspaceSlug = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Give a person a role in the workspace, creating them when the email is new."""
    body = {"email": email, "role": role, "pii_read": pii_read}
    password = _password(password_stdin)
    if password is not None:
        body["password"] = password
    with remote(url=url, token=token, json_out=json_out) as api:
        _created(api.post(_members(workspace), body), json_out)


@members_app.command("update")
def members_update(
    user_id: int,
    role: Annotated[str | None, typer.Option(help=_ROLES)] = None,
    pii_read: Annotated[
        bool | None, typer.Option("--pii-read/--no-pii-read", help="personal values unmasked")
    ] = None,
    workspace: WorkspaceSlug = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Change a member's role or their pii:read."""
    body = {k: v for k, v in {"role": role, "pii_read": pii_read}.items() if v is not None}
    if not body:
        fail("nothing to change: give --role or --pii-read/--no-pii-read", code=2)
    with remote(url=url, token=token, json_out=json_out) as api:
        show(api.call("PATCH", f"{_members(workspace)}/{user_id}", json=body), json_out=json_out)


@members_app.command("remove")
def members_remove(
    user_id: int,
    workspace: WorkspaceSlug = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """End a membership (the person's account stays)."""
    with remote(url=url, token=token, json_out=json_out) as api:
        api.call("DELETE", f"{_members(workspace)}/{user_id}")
    show({"user_id": user_id, "workspace": workspace, "removed": True}, json_out=json_out)
