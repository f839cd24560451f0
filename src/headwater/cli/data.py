"""``headwater sources``, ``events`` and ``identity``: sources, stored events, identity rules."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from headwater.cli.output import Json, pick, read_input, show
from headwater.cli.remote import Api, ServerError, Token, Url, decoded, remote, segment

__all__ = ["events_app", "identity_app", "sources_app"]

sources_app = typer.Typer(help="Sources and their write keys.", no_args_is_help=True)
events_app = typer.Typer(help="Stored events.", no_args_is_help=True)
identity_app = typer.Typer(help="Identity resolution.", no_args_is_help=True)

_SOURCE_COLUMNS = ["id", "workspace", "name", "kind", "strict", "enabled", "write_key"]
_EVENT_COLUMNS = [
    "offset",
    "receivedAt",
    "type",
    "name",
    "payload.userId",
    "payload.anonymousId",
    "messageId",
]


@sources_app.command("create")
def sources_create(
    name: str,
    write_key: Annotated[str | None, typer.Option(help="generated when omitted")] = None,
    workspace: str = "default",
    kind: Annotated[str, typer.Option(help="server or client")] = "server",
    strict: Annotated[bool, typer.Option(help="invalid events fail the request with 400")] = False,
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Create a source and print it, with its write key."""
    body = {
        "name": name,
        "workspace": workspace,
        "write_key": write_key,
        "kind": kind,
        "strict": strict,
    }
    with remote(url=url, token=token, json_out=json_out) as api:
        show(api.post("/api/v1/sources", body), json_out=json_out)


@sources_app.command("list")
def sources_list(
    workspace: str | None = None, url: Url = None, token: Token = None, json_out: Json = False
) -> None:
    """Every source, with its write key."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get("/api/v1/sources", workspace=workspace)
    show(found, json_out=json_out, columns=_SOURCE_COLUMNS)


@events_app.command("get")
def events_get(
    message_id: str,
    workspace: str = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """The stored event with MESSAGE_ID."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(f"/api/v1/events/{segment(message_id)}", workspace=workspace)
    show(found, json_out=json_out)


@events_app.command("latest")
def events_latest(
    source: int, limit: int = 20, url: Url = None, token: Token = None, json_out: Json = False
) -> None:
    """A source's newest events, newest first."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(f"/api/v1/sources/{source}/events", limit=limit)
    show(found, json_out=json_out, columns=_EVENT_COLUMNS)


@events_app.command("tail")
def events_tail(
    source: int,
    after: Annotated[
        int | None, typer.Option(help="start after this offset (default: now)")
    ] = None,
    count: Annotated[int | None, typer.Option(help="stop after this many events")] = None,
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Follow a source's events as they arrive: a line each (one JSON object with --json)."""
    seen = 0
    with (
        contextlib.suppress(KeyboardInterrupt),
        remote(url=url, token=token, json_out=json_out) as api,
    ):
        for event in _feed(api, source, after):
            if json_out:
                sys.stdout.write(json.dumps(event) + "\n")
            else:
                cells = (str(pick(event, name) or "-") for name in _EVENT_COLUMNS)
                sys.stdout.write("  ".join(cells) + "\n")
            sys.stdout.flush()
            seen += 1
            if count is not None and seen >= count:
                return


def _feed(api: Api, source: int, after: int | None) -> Iterator[dict[str, Any]]:
    """The events of the live feed (server-sent events), as they come."""
    params = {"after": after} if after is not None else {}
    path = f"/api/v1/sources/{source}/live"
    with api.client.stream("GET", path, params=params, timeout=None) as response:
        if response.status_code >= 400:
            response.read()
            decoded(response)  # raises the server's error
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            message = f"{response.url} is not a Headwater live feed: is the URL Headwater's?"
            raise ServerError(response.status_code, {"code": "not_headwater", "message": message})
        for line in response.iter_lines():
            if line.startswith("data: "):
                yield json.loads(line[len("data: ") :])


@events_app.command("rejections")
def events_rejections(
    source: int | None = None,
    workspace: str | None = None,
    limit: int = 50,
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Rejected messages with their reasons, newest first."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get("/api/v1/rejections", source=source, workspace=workspace, limit=limit)
    show(
        found,
        json_out=json_out,
        columns=["id", "receivedAt", "sourceId", "messageId", "index", "reason"],
    )


@events_app.command("stats")
def events_stats(
    source: int | None = None,
    workspace: str | None = None,
    since: Annotated[datetime | None, typer.Option(help="ISO-8601 (default: 24 hours ago)")] = None,
    until: Annotated[datetime | None, typer.Option(help="ISO-8601 (default: now)")] = None,
    interval: Annotated[str, typer.Option(help="minute, hour or day")] = "hour",
    by: Annotated[str, typer.Option(help="source or event")] = "source",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Accepted, duplicate and rejected counts over time."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(
            "/api/v1/stats",
            source=source,
            workspace=workspace,
            since=since.isoformat() if since else None,
            until=until.isoformat() if until else None,
            interval=interval,
            by=by,
        )
    show(found, json_out=json_out)


@identity_app.command("rules")
def identity_rules(
    workspace: str = "default",
    set_file: Annotated[
        Path | None,
        typer.Option("--set", help="replace the rules with this JSON file ('-' for stdin)"),
    ] = None,
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """The workspace's identity rules; with --set, replace them first.

    The processor rereads rules every 5 s, so a change applies to events processed from then on.
    """
    path = f"/api/v1/workspaces/{segment(workspace)}/identity-rules"
    raw = None if set_file is None else read_input(set_file)
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(path) if raw is None else api.call("PUT", path, content=raw)
    show(found, json_out=json_out)
