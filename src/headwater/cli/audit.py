"""``headwater audit``: the audit trail, listed and exported (never changed).

>>> headwater audit list --workspace default --action source.update --since 2026-12-01
>>> headwater audit list                                   # the instance's: workspaces, people
>>> headwater audit export --workspace default --format csv -o audit.csv
"""

from __future__ import annotations

import sys
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer

from headwater.cli.output import Json, fail, show
from headwater.cli.remote import Api, Token, Url, decoded, remote, segment

__all__ = ["audit_app"]

audit_app = typer.Typer(
    help="The audit trail: every change made through the management API.", no_args_is_help=True
)

_COLUMNS = ["id", "at", "actor.label", "actor.token_id", "action", "resource", "ip"]
_PAGE = 1000

Workspace = Annotated[
    str | None,
    typer.Option("--workspace", help="a workspace's slug; without: the instance's entries"),
]
Actor = Annotated[str | None, typer.Option(help="an email or token name, or a user id")]
Action = Annotated[str | None, typer.Option(help="an action: source.update, destination.create")]
Resource = Annotated[str | None, typer.Option(help="source:12, or every one of a kind: source")]
Since = Annotated[datetime | None, typer.Option(help="from this time (UTC unless an offset)")]
Until = Annotated[datetime | None, typer.Option(help="before this time")]


def _path(workspace: str | None, tail: str = "") -> str:
    base = (
        "/api/v1/audit" if workspace is None else f"/api/v1/workspaces/{segment(workspace)}/audit"
    )
    return base + tail


def _filters(**given: Any) -> dict[str, Any]:
    return {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in given.items()
        if value is not None
    }


def _entries(api: Api, path: str, filters: dict[str, Any], limit: int) -> list[Any]:
    """Up to ``limit`` entries, newest first, a page at a time."""
    found: list[Any] = []
    before = None
    while len(found) < limit:
        page = api.get(path, **filters, before=before, limit=min(_PAGE, limit - len(found)))
        found += page["data"]
        before = page["next_cursor"]
        if before is None:
            break
    return found


@audit_app.command("list")
def audit_list(
    workspace: Workspace = None,
    actor: Actor = None,
    action: Action = None,
    resource: Resource = None,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, typer.Option(min=1, help="at most this many, newest first")] = 100,
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Audit entries, newest first: when, who (and through which token), what, from where.
    ``--json`` shows the before and after of each change."""
    filters = _filters(actor=actor, action=action, resource=resource, since=since, until=until)
    with remote(url=url, token=token, json_out=json_out) as api:
        found = _entries(api, _path(workspace), filters, limit)
    show(found, json_out=json_out, columns=_COLUMNS)


@audit_app.command("export")
def audit_export(
    format: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write here (default: stdout)")
    ] = None,
    workspace: Workspace = None,
    actor: Actor = None,
    action: Action = None,
    resource: Resource = None,
    since: Since = None,
    until: Until = None,
    url: Url = None,
    token: Token = None,
) -> None:
    """Every matching entry, newest first, as JSON Lines (one entry per line, with its before
    and after) or CSV."""
    if format not in ("jsonl", "csv"):
        fail(f"--format is jsonl or csv, not {format!r}", code=2)
    filters = _filters(actor=actor, action=action, resource=resource, since=since, until=until)
    params = {**filters, "format": format}
    try:
        sink = nullcontext(sys.stdout.buffer) if output is None else output.open("wb")
    except OSError as error:
        fail(f"cannot write {output}: {error.strerror}", code=2)
    with sink as into, remote(url=url, token=token, json_out=False) as api:
        _stream(api, _path(workspace, "/export"), params, into)


def _stream(api: Api, path: str, params: dict[str, Any], sink: BinaryIO) -> None:
    """The export as it arrives, into ``sink`` (an error answer raises the server's error)."""
    with api.client.stream("GET", path, params=params) as response:
        if response.status_code >= 400:
            response.read()
            decoded(response)
        for chunk in response.iter_bytes():
            sink.write(chunk)
