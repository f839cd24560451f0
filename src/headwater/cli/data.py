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

_JSON = {"content-type": "application/json"}
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
    body = {"name": name, "write_key": write_key, "kind": kind, "strict": strict}
    with remote(url=url, token=token, json_out=json_out) as api:
        show(api.post(f"{_scope(workspace)}/sources", body), json_out=json_out)


@sources_app.command("list")
def sources_list(
    workspace: str | None = None, url: Url = None, token: Token = None, json_out: Json = False
) -> None:
    """Every source (of every workspace unless --workspace), with its write key."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = [s for w in _workspaces(api, workspace) for s in api.get(f"{_scope(w)}/sources")]
    show(found, json_out=json_out, columns=_SOURCE_COLUMNS)


def _scope(workspace: str) -> str:
    """The path of a workspace's resources in the management API."""
    return f"/api/v1/workspaces/{segment(workspace)}"


def _workspaces(api: Api, workspace: str | None) -> list[str]:
    """``[workspace]``, or every workspace's slug when None."""
    if workspace is not None:
        return [workspace]
    return [found["slug"] for found in api.get("/api/v1/workspaces")]


def _source_path(api: Api, source: int, workspace: str | None) -> str:
    """The path of source ``source`` in ``workspace`` (default: the one it is in)."""
    return f"{_scope(workspace or _source_workspace(api, source))}/sources/{source}"


def _source_workspace(api: Api, source: int) -> str:
    """The workspace source ``source`` is in: the API nests sources under their workspace,
    while these commands take a source id alone. An unknown source gives ``default``, where
    the API answers its 404."""
    for workspace in _workspaces(api, None):
        if any(found["id"] == source for found in api.get(f"{_scope(workspace)}/sources")):
            return workspace
    return "default"


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
        found = api.get(f"{_scope(workspace)}/events/{segment(message_id)}")
    show(found, json_out=json_out)


@events_app.command("latest")
def events_latest(
    source: int,
    limit: int = 20,
    workspace: Annotated[str | None, typer.Option(help="the source's (default: found)")] = None,
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """A source's newest events, newest first."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(f"{_source_path(api, source, workspace)}/events", limit=limit)
    show(found, json_out=json_out, columns=_EVENT_COLUMNS)


@events_app.command("tail")
def events_tail(
    source: int,
    after: Annotated[
        int | None, typer.Option(help="start after this offset (default: now)")
    ] = None,
    count: Annotated[int | None, typer.Option(help="stop after this many events")] = None,
    workspace: Annotated[str | None, typer.Option(help="the source's (default: found)")] = None,
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
        for event in _feed(api, _source_path(api, source, workspace), after):
            if json_out:
                sys.stdout.write(json.dumps(event) + "\n")
            else:
                cells = (str(pick(event, name) or "-") for name in _EVENT_COLUMNS)
                sys.stdout.write("  ".join(cells) + "\n")
            sys.stdout.flush()
            seen += 1
            if count is not None and seen >= count:
                return


def _feed(api: Api, source: str, after: int | None) -> Iterator[dict[str, Any]]:
    """The events of the live feed of the source at path ``source`` (server-sent events), as
    they come."""
    params = {"after": after} if after is not None else {}
    path = f"{source}/live"
    with api.client.stream("GET", path, params=params, timeout=None) as response:
        if response.status_code >= 400:
            response.read()
            decoded(response)  # raises the server's error
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            message = f"{response.url} is not a Headwater live feed: is the URL Headwater's?"
            raise ServerError(response.status_code, {"code": "not_headwater", "message": message})
        kind = ""
        for line in response.iter_lines():
            if not line:  # a frame ends
                kind = ""
            elif line.startswith("event: "):
                kind = line[len("event: ") :]
            elif line.startswith("data: ") and kind == "event":  # stored events only
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
    """Rejected messages with their reasons, newest first (of every workspace unless
    --workspace or --source)."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = [
            rejection
            for w in _workspaces_of(api, workspace, source)
            for rejection in api.get(f"{_scope(w)}/rejections", source=source, limit=limit)
        ]
    found = sorted(found, key=lambda rejection: -int(rejection["id"]))[:limit]
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
    """Accepted, duplicate and rejected counts over time (of every workspace unless
    --workspace or --source)."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = [
            count
            for w in _workspaces_of(api, workspace, source)
            for count in api.get(
                f"{_scope(w)}/stats",
                source=source,
                since=since.isoformat() if since else None,
                until=until.isoformat() if until else None,
                interval=interval,
                by=by,
            )
        ]
    show(found, json_out=json_out)


def _workspaces_of(api: Api, workspace: str | None, source: int | None) -> list[str]:
    """The workspaces to read: ``workspace``; else the source's; else all of them."""
    if workspace is None and source is not None:
        return [_source_workspace(api, source)]
    return _workspaces(api, workspace)


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
    path = f"{_scope(workspace)}/identity-rules"
    raw = None if set_file is None else read_input(set_file)
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(path) if raw is None else api.call("PUT", path, content=raw, headers=_JSON)
    show(found, json_out=json_out)
