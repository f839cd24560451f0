"""``headwater destinations``: create, test, enable, replay, stats."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer

from headwater import destinations
from headwater.cli.common import DataDir, print_json, settings_for, show, with_database
from headwater.errors import BadRequest
from headwater.storage import Database

__all__ = ["destinations_app"]

destinations_app = typer.Typer(
    help="Destinations: create, test, enable, replay, stats.", no_args_is_help=True
)


def _json_option(value: str | None, what: str) -> Any:
    """A JSON command-line value, or '@file' / '@-' (stdin) for one read from elsewhere."""
    if value is None:
        return None
    try:
        if value.startswith("@"):
            raw = sys.stdin.buffer.read() if value == "@-" else Path(value[1:]).read_bytes()
        else:
            raw = value.encode()
        return msgspec.json.decode(raw)
    except (OSError, msgspec.DecodeError) as error:
        print_json(BadRequest("invalid_json", f"{what}: {error}").body())
        raise typer.Exit(1) from None


WorkspaceSlug = Annotated[str, typer.Option("--workspace", help="workspace slug")]
JsonOption = Annotated[str | None, typer.Option(help="JSON, or @file, or @- for stdin")]


@destinations_app.command("kinds")
def destinations_kinds() -> None:
    """Print every connector kind with its config's JSON Schema."""
    print_json(destinations.kinds())


@destinations_app.command("list")
def destinations_list(workspace: WorkspaceSlug = "default", data_dir: DataDir = None) -> None:
    """Print the workspace's destinations (secrets shown as set or unset)."""
    show(
        data_dir,
        lambda db: destinations.list_destinations(db.engine, workspace=workspace),
    )


@destinations_app.command("create")
def destinations_create(
    name: str,
    kind: str,
    config: Annotated[str, typer.Option(help="the connector's config: JSON, @file or @-")],
    workspace: WorkspaceSlug = "default",
    sources: JsonOption = None,
    filters: JsonOption = None,
    categories: JsonOption = None,
    delivery: JsonOption = None,
    disabled: Annotated[bool, typer.Option(help="create it disabled")] = False,
    data_dir: DataDir = None,
) -> None:
    """Create a destination and print it."""
    settings = settings_for(data_dir)
    print_json(
        with_database(
            settings,
            lambda db: destinations.create_destination(
                db.engine,
                settings,
                workspace=workspace,
                name=name,
                kind=kind,
                config=_json_option(config, "config"),
                sources=_json_option(sources, "sources"),
                filters=_json_option(filters, "filters"),
                categories=_json_option(categories, "categories"),
                delivery=_json_option(delivery, "delivery"),
                enabled=not disabled,
            ),
        )
    )


def _update(
    destination_id: int, workspace: str, changes: dict[str, Any], data_dir: Path | None
) -> None:
    settings = settings_for(data_dir)
    print_json(
        with_database(
            settings,
            lambda db: destinations.update_destination(
                db.engine,
                settings,
                workspace=workspace,
                destination_id=destination_id,
                changes=changes,
            ),
        )
    )


@destinations_app.command("update")
def destinations_update(
    destination_id: int,
    changes: Annotated[str, typer.Argument(help="JSON object of changes, @file or @-")],
    workspace: WorkspaceSlug = "default",
    data_dir: DataDir = None,
) -> None:
    """Change name, config (merged; secrets left out are kept), sources, filters, categories,
    delivery or enabled."""
    parsed = _json_option(changes, "changes")
    if not isinstance(parsed, dict):
        print_json(BadRequest("invalid_change", "changes is a JSON object").body())
        raise typer.Exit(1)
    _update(destination_id, workspace, parsed, data_dir)


@destinations_app.command("enable")
def destinations_enable(
    destination_id: int, workspace: WorkspaceSlug = "default", data_dir: DataDir = None
) -> None:
    """Enable a destination."""
    _update(destination_id, workspace, {"enabled": True}, data_dir)


@destinations_app.command("disable")
def destinations_disable(
    destination_id: int, workspace: WorkspaceSlug = "default", data_dir: DataDir = None
) -> None:
    """Disable a destination; its queued events wait until it is enabled again."""
    _update(destination_id, workspace, {"enabled": False}, data_dir)


@destinations_app.command("test")
def destinations_test(
    destination_id: int,
    workspace: WorkspaceSlug = "default",
    event: JsonOption = None,
    data_dir: DataDir = None,
) -> None:
    """Send one event (a sample unless given) now; print the outcome, request and response."""
    settings = settings_for(data_dir)
    print_json(
        with_database(
            settings,
            lambda db: destinations.send_test(
                db.engine,
                settings,
                workspace=workspace,
                destination_id=destination_id,
                event=_json_option(event, "event"),
            ),
        )
    )


@destinations_app.command("replay")
def destinations_replay(
    destination_id: int,
    workspace: WorkspaceSlug = "default",
    since: Annotated[datetime | None, typer.Option(help="ISO-8601, with --until")] = None,
    until: Annotated[datetime | None, typer.Option(help="ISO-8601, with --since")] = None,
    dead_letters: Annotated[bool, typer.Option(help="replay the dead letters")] = False,
    data_dir: DataDir = None,
) -> None:
    """Queue the dead letters, or the events received between --since and --until, again."""
    show(
        data_dir,
        lambda db: destinations.replay(
            db.engine,
            workspace=workspace,
            destination_id=destination_id,
            since=since,
            until=until,
            dead_letters=dead_letters,
        ),
    )


@destinations_app.command("stats")
def destinations_stats(
    destination_id: int,
    workspace: WorkspaceSlug = "default",
    since: Annotated[datetime | None, typer.Option(help="ISO-8601 (default: 24 hours ago)")] = None,
    until: Annotated[datetime | None, typer.Option(help="ISO-8601 (default: now)")] = None,
    interval: Annotated[str, typer.Option(help="minute, hour or day")] = "hour",
    data_dir: DataDir = None,
) -> None:
    """Print delivered, retried, failed and dead-lettered counts and p95 latency over time,
    with the alert state and queue depth."""

    async def read(db: Database) -> dict[str, Any]:
        found = await destinations.stats(
            db.engine,
            workspace=workspace,
            destination_id=destination_id,
            since=since,
            until=until,
            interval=interval,  # type: ignore[arg-type]
        )
        found["health"] = await destinations.health(
            db.engine, workspace=workspace, destination_id=destination_id
        )
        return found

    print_json(with_database(settings_for(data_dir), read))


@destinations_app.command("dead-letters")
def destinations_dead_letters(
    destination_id: int,
    workspace: WorkspaceSlug = "default",
    limit: int = 50,
    data_dir: DataDir = None,
) -> None:
    """Print dead letters, newest first, with their last error and exchange."""
    show(
        data_dir,
        lambda db: destinations.dead_letters(
            db.engine, workspace=workspace, destination_id=destination_id, limit=limit
        ),
    )


@destinations_app.command("errors")
def destinations_errors(
    destination_id: int,
    workspace: WorkspaceSlug = "default",
    limit: int = 20,
    data_dir: DataDir = None,
) -> None:
    """Print the latest failed sends with their requests and responses."""
    show(
        data_dir,
        lambda db: destinations.errors(
            db.engine, workspace=workspace, destination_id=destination_id, limit=limit
        ),
    )
