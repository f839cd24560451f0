"""``headwater sources``, ``events`` and ``identity``: sources, stored events, identity rules."""

from __future__ import annotations

import contextlib
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import msgspec
import typer

from headwater import events, profiles, workspaces
from headwater.cli.common import DataDir, print_json, settings_for, with_database
from headwater.errors import BadRequest
from headwater.storage import Database
from headwater.workspaces import SourceKind

__all__ = ["events_app", "identity_app", "sources_app"]

sources_app = typer.Typer(help="Sources and their write keys.", no_args_is_help=True)
events_app = typer.Typer(help="Stored events.", no_args_is_help=True)
identity_app = typer.Typer(help="Identity resolution.", no_args_is_help=True)


@sources_app.command("create")
def sources_create(
    name: str,
    write_key: Annotated[str | None, typer.Option(help="generated when omitted")] = None,
    workspace: str = "default",
    kind: Annotated[str, typer.Option(help="server or client")] = "server",
    strict: Annotated[bool, typer.Option(help="invalid events fail the request with 400")] = False,
    data_dir: DataDir = None,
) -> None:
    """Create a source and print it (with its write key) as JSON."""
    if kind not in ("server", "client"):
        raise typer.BadParameter("kind is server or client")
    source_kind: SourceKind = "client" if kind == "client" else "server"
    source = with_database(
        settings_for(data_dir),
        lambda database: workspaces.create_source(
            database.engine,
            name=name,
            workspace=workspace,
            write_key=write_key,
            kind=source_kind,
            strict=strict,
        ),
    )
    print_json(msgspec.to_builtins(source))


@sources_app.command("list")
def sources_list(workspace: str | None = None, data_dir: DataDir = None) -> None:
    """Print every source as JSON."""
    found = with_database(
        settings_for(data_dir),
        lambda database: workspaces.list_sources(database.engine, workspace=workspace),
    )
    print_json(msgspec.to_builtins(found))


@events_app.command("get")
def events_get(message_id: str, workspace: str = "default", data_dir: DataDir = None) -> None:
    """Print the stored event with MESSAGE_ID."""
    found = with_database(
        settings_for(data_dir),
        lambda database: events.get_event(
            database.engine, message_id=message_id, workspace=workspace
        ),
    )
    print_json(found)


@events_app.command("latest")
def events_latest(source: int, limit: int = 20, data_dir: DataDir = None) -> None:
    """Print a source's newest events, newest first."""
    found = with_database(
        settings_for(data_dir),
        lambda database: events.latest(database.engine, source_id=source, limit=limit),
    )
    print_json(found)


@events_app.command("tail")
def events_tail(
    source: int,
    after: Annotated[
        int | None, typer.Option(help="start after this offset (default: now)")
    ] = None,
    count: Annotated[int | None, typer.Option(help="stop after this many events")] = None,
    data_dir: DataDir = None,
) -> None:
    """Follow a source's events as they arrive, one JSON object a line."""

    async def follow(database: Database) -> None:
        seen = 0
        async for event in events.follow(database.engine, source_id=source, after=after):
            sys.stdout.write(msgspec.json.encode(event).decode() + "\n")
            sys.stdout.flush()
            seen += 1
            if count is not None and seen >= count:
                return

    with contextlib.suppress(KeyboardInterrupt):
        with_database(settings_for(data_dir), follow)


@events_app.command("rejections")
def events_rejections(
    source: int | None = None,
    workspace: str | None = None,
    limit: int = 50,
    data_dir: DataDir = None,
) -> None:
    """Print rejected messages with their reasons, newest first."""
    found = with_database(
        settings_for(data_dir),
        lambda database: events.list_rejections(
            database.engine, workspace=workspace, source_id=source, limit=limit
        ),
    )
    print_json(found)


@events_app.command("stats")
def events_stats(
    source: int | None = None,
    workspace: str | None = None,
    since: Annotated[datetime | None, typer.Option(help="ISO-8601 (default: 24 hours ago)")] = None,
    until: Annotated[datetime | None, typer.Option(help="ISO-8601 (default: now)")] = None,
    interval: Annotated[str, typer.Option(help="minute, hour or day")] = "hour",
    by: Annotated[str, typer.Option(help="source or event")] = "source",
    data_dir: DataDir = None,
) -> None:
    """Print accepted, duplicate and rejected counts over time."""
    if interval not in ("minute", "hour", "day") or by not in ("source", "event"):
        raise typer.BadParameter("interval is minute, hour or day; by is source or event")
    found = with_database(
        settings_for(data_dir),
        lambda database: events.counts(
            database.engine,
            workspace=workspace,
            source_id=source,
            since=since,
            until=until,
            interval=interval,  # type: ignore[arg-type]
            group_by=by,  # type: ignore[arg-type]
        ),
    )
    print_json(found)


@identity_app.command("rules")
def identity_rules(
    workspace: str = "default",
    set_file: Annotated[
        Path | None,
        typer.Option("--set", help="replace the rules with this JSON file ('-' for stdin)"),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Print the workspace's identity rules as JSON; with --set, replace them first.

    The processor rereads rules every 5 s, so a change applies to events processed from then on.
    """
    if set_file is None:
        found = with_database(
            settings_for(data_dir),
            lambda database: profiles.get_rules(database.engine, workspace=workspace),
        )
        print_json(found)
        return
    try:
        raw = sys.stdin.buffer.read() if str(set_file) == "-" else set_file.read_bytes()
        rules = msgspec.json.decode(raw)
    except (OSError, msgspec.DecodeError) as error:
        print_json(BadRequest("invalid_rules_file", f"cannot read {set_file}: {error}").body())
        raise typer.Exit(1) from None
    stored = with_database(
        settings_for(data_dir),
        lambda database: profiles.set_rules(database.engine, workspace=workspace, rules=rules),
    )
    print_json(stored)
