"""The ``headwater`` command. Every command that prints data prints JSON."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import msgspec
import typer
from rich.console import Console

from headwater import audiences, destinations, events, profiles, protocols, workspaces
from headwater.errors import ApiError, BadRequest
from headwater.protocols.codegen import generate
from headwater.protocols.formats import dump
from headwater.server import announce
from headwater.server import serve as run_server
from headwater.settings import Settings
from headwater.storage import Database, migrate, open_database
from headwater.worker import work
from headwater.workspaces import SourceKind

__all__ = ["app", "main"]

app = typer.Typer(
    help="Headwater: an open-source, self-hosted customer data platform.", no_args_is_help=True
)
sources_app = typer.Typer(help="Sources and their write keys.", no_args_is_help=True)
events_app = typer.Typer(help="Stored events.", no_args_is_help=True)
identity_app = typer.Typer(help="Identity resolution.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.add_typer(events_app, name="events")
app.add_typer(identity_app, name="identity")
destinations_app = typer.Typer(
    help="Destinations: create, test, enable, replay, stats.", no_args_is_help=True
)
app.add_typer(destinations_app, name="destinations")
plans_app = typer.Typer(help="Tracking plans (Segment Protocols).", no_args_is_help=True)
app.add_typer(plans_app, name="plans")
audiences_app = typer.Typer(
    help="Audiences and computed traits (docs/audiences.md).", no_args_is_help=True
)
app.add_typer(audiences_app, name="audiences")

console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="data directory (HEADWATER_DATA_DIR)")
]


def _settings(data_dir: Path | None = None, **overrides: Any) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**values)


def _print(value: Any) -> None:
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(value), indent=2).decode() + "\n")


def _with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    async def run() -> T:
        database = await open_database(settings, pool_size=2)
        try:
            await migrate(database.engine)
            created = await workspaces.bootstrap(database.engine, admin_token=settings.admin_token)
            if created is not None:
                announce(console, created)
            return await work(database)
        finally:
            await database.close()

    try:
        return asyncio.run(run())
    except ApiError as error:
        _print(error.body())
        raise typer.Exit(1) from None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on (HEADWATER_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on (HEADWATER_PORT)")] = None,
    workers: Annotated[
        int | None, typer.Option(help="server processes sharing the port (HEADWATER_WORKERS)")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Run Headwater: tracking API, management API, processor and embedded PostgreSQL."""
    run_server(_settings(data_dir, host=host, port=port, workers=workers), console=console)


@app.command()
def worker(data_dir: DataDir = None) -> None:
    """Run the processor (identity and profiles) in its own process; run as many as needed."""
    work(_settings(data_dir), console=console)


@app.command("migrate")
def migrate_command(data_dir: DataDir = None) -> None:
    """Bring the database schema up to date."""
    _with_database(_settings(data_dir), lambda database: migrate(database.engine))
    console.print("schema up to date")


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
    source = _with_database(
        _settings(data_dir),
        lambda database: workspaces.create_source(
            database.engine,
            name=name,
            workspace=workspace,
            write_key=write_key,
            kind=source_kind,
            strict=strict,
        ),
    )
    _print(msgspec.to_builtins(source))


@sources_app.command("list")
def sources_list(workspace: str | None = None, data_dir: DataDir = None) -> None:
    """Print every source as JSON."""
    found = _with_database(
        _settings(data_dir),
        lambda database: workspaces.list_sources(database.engine, workspace=workspace),
    )
    _print(msgspec.to_builtins(found))


@events_app.command("get")
def events_get(message_id: str, workspace: str = "default", data_dir: DataDir = None) -> None:
    """Print the stored event with MESSAGE_ID."""
    found = _with_database(
        _settings(data_dir),
        lambda database: events.get_event(
            database.engine, message_id=message_id, workspace=workspace
        ),
    )
    _print(found)


@events_app.command("latest")
def events_latest(source: int, limit: int = 20, data_dir: DataDir = None) -> None:
    """Print a source's newest events, newest first."""
    found = _with_database(
        _settings(data_dir),
        lambda database: events.latest(database.engine, source_id=source, limit=limit),
    )
    _print(found)


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
        _with_database(_settings(data_dir), follow)


@events_app.command("rejections")
def events_rejections(
    source: int | None = None,
    workspace: str | None = None,
    limit: int = 50,
    data_dir: DataDir = None,
) -> None:
    """Print rejected messages with their reasons, newest first."""
    found = _with_database(
        _settings(data_dir),
        lambda database: events.list_rejections(
            database.engine, workspace=workspace, source_id=source, limit=limit
        ),
    )
    _print(found)


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
    found = _with_database(
        _settings(data_dir),
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
    _print(found)


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
        found = _with_database(
            _settings(data_dir),
            lambda database: profiles.get_rules(database.engine, workspace=workspace),
        )
        _print(found)
        return
    try:
        raw = sys.stdin.buffer.read() if str(set_file) == "-" else set_file.read_bytes()
        rules = msgspec.json.decode(raw)
    except (OSError, msgspec.DecodeError) as error:
        _print(BadRequest("invalid_rules_file", f"cannot read {set_file}: {error}").body())
        raise typer.Exit(1) from None
    stored = _with_database(
        _settings(data_dir),
        lambda database: profiles.set_rules(database.engine, workspace=workspace, rules=rules),
    )
    _print(stored)


PlanFormat = Annotated[str | None, typer.Option(help="json, yaml or csv (default: the suffix)")]
Workspace = Annotated[str, typer.Option(help="the workspace's slug")]


def _read_plan(file: Path, format: str | None, name: str | None) -> dict[str, Any]:
    """A plan document from a file ('-' for stdin); exits 1 with a JSON error when invalid."""
    kind = format or {".yml": "yaml", ".yaml": "yaml", ".csv": "csv"}.get(file.suffix, "json")
    if kind not in ("json", "yaml", "csv"):
        raise typer.BadParameter("format is json, yaml or csv")
    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text()
        return protocols.read_document(text, kind, name=name)  # type: ignore[arg-type]
    except (OSError, UnicodeDecodeError) as error:
        _print(BadRequest("invalid_plan", f"cannot read {file}: {error}").body())
        raise typer.Exit(1) from None
    except ApiError as error:
        _print(error.body())
        raise typer.Exit(1) from None


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text)
        console.print(f"wrote {out}")


@plans_app.command("list")
def plans_list(workspace: Workspace = "default", data_dir: DataDir = None) -> None:
    """Print the workspace's tracking plans."""
    _print(
        _with_database(
            _settings(data_dir), lambda db: protocols.list_plans(db.engine, workspace=workspace)
        )
    )


@plans_app.command("create")
def plans_create(
    file: Annotated[Path, typer.Argument(help="a JSON, YAML or CSV plan ('-' for stdin)")],
    format: PlanFormat = None,
    name: Annotated[str | None, typer.Option(help="the plan's name (required for CSV)")] = None,
    slug: str | None = None,
    workspace: Workspace = "default",
    data_dir: DataDir = None,
) -> None:
    """Create a tracking plan from a file."""
    document = _read_plan(file, format, name)
    _print(
        _with_database(
            _settings(data_dir),
            lambda db: protocols.create_plan(
                db.engine, workspace=workspace, document=document, slug=slug
            ),
        )
    )


@plans_app.command("import")
def plans_import(
    file: Annotated[Path, typer.Argument(help="a JSON, YAML or CSV plan ('-' for stdin)")],
    format: PlanFormat = None,
    name: Annotated[str | None, typer.Option(help="the plan's name (required for CSV)")] = None,
    slug: str | None = None,
    workspace: Workspace = "default",
    data_dir: DataDir = None,
) -> None:
    """Create the plan, or store the file as its next version when the slug exists."""
    document = _read_plan(file, format, name)
    _print(
        _with_database(
            _settings(data_dir),
            lambda db: protocols.import_plan(
                db.engine, workspace=workspace, document=document, slug=slug
            ),
        )
    )


@plans_app.command("export")
def plans_export(
    slug: str,
    format: Annotated[str, typer.Option(help="json, yaml or csv")] = "json",
    version: int | None = None,
    out: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None,
    workspace: Workspace = "default",
    data_dir: DataDir = None,
) -> None:
    """Write the plan (newest version unless --version) as JSON, YAML or CSV."""
    if format not in ("json", "yaml", "csv"):
        raise typer.BadParameter("format is json, yaml or csv")
    _write(
        _with_database(
            _settings(data_dir),
            lambda db: protocols.export_plan(
                db.engine,
                workspace=workspace,
                slug=slug,
                format=format,  # type: ignore[arg-type]
                version=version,
            ),
        ),
        out,
    )


@plans_app.command("show")
def plans_show(
    slug: str,
    version: int | None = None,
    workspace: Workspace = "default",
    data_dir: DataDir = None,
) -> None:
    """Print the plan with its document."""
    _print(
        _with_database(
            _settings(data_dir),
            lambda db: protocols.get_plan(
                db.engine, workspace=workspace, slug=slug, version=version
            ),
        )
    )


@plans_app.command("versions")
def plans_versions(slug: str, workspace: Workspace = "default", data_dir: DataDir = None) -> None:
    """Print the plan's versions, newest first."""
    _print(
        _with_database(
            _settings(data_dir),
            lambda db: protocols.versions(db.engine, workspace=workspace, slug=slug),
        )
    )


@plans_app.command("diff")
def plans_diff(
    slug: str,
    before: Annotated[int, typer.Argument(help="the older version")],
    after: Annotated[int | None, typer.Argument(help="the newer version (default: newest)")] = None,
    workspace: Workspace = "default",
    data_dir: DataDir = None,
) -> None:
    """Print what changed between two versions of the plan."""
    _print(
        _with_database(
            _settings(data_dir),
            lambda db: protocols.diff(
                db.engine, workspace=workspace, slug=slug, before=before, after=after
            ),
        )
    )


@plans_app.command("connect")
def plans_connect(
    slug: str,
    source: int,
    unplanned_events: Annotated[str, typer.Option(help="allow or block")] = "allow",
    unplanned_properties: Annotated[str, typer.Option(help="allow or omit")] = "allow",
    violations: Annotated[str, typer.Option(help="allow, flag, omit or block")] = "allow",
    workspace: Workspace = "default",
    data_dir: DataDir = None,
) -> None:
    """Validate SOURCE's events against the plan SLUG with these settings."""
    settings = {
        "unplanned_events": unplanned_events,
        "unplanned_properties": unplanned_properties,
        "violations": violations,
    }
    _print(
        _with_database(
            _settings(data_dir),
            lambda db: protocols.connect_source(
                db.engine, workspace=workspace, plan=slug, source_id=source, settings=settings
            ),
        )
    )


@plans_app.command("infer")
def plans_infer(
    source: int,
    name: Annotated[str | None, typer.Option(help="the draft's name")] = None,
    format: Annotated[str, typer.Option(help="json or yaml")] = "yaml",
    out: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None,
    workspace: Workspace = "default",
    data_dir: DataDir = None,
) -> None:
    """Draft a plan from what SOURCE has sent (its observed schema); edit it, then import it."""
    if format not in ("json", "yaml"):
        raise typer.BadParameter("format is json or yaml")
    document = _with_database(
        _settings(data_dir),
        lambda db: protocols.draft_plan(
            db.engine, workspace=workspace, source_id=source, name=name
        ),
    )
    _write(dump(protocols.parse_plan(document), format), out)  # type: ignore[arg-type]


@plans_app.command("codegen")
def plans_codegen(
    slug: str,
    lang: Annotated[str, typer.Option(help="python or typescript")] = "python",
    version: int | None = None,
    out: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None,
    workspace: Workspace = "default",
    data_dir: DataDir = None,
) -> None:
    """Write a typed tracking module for the plan (Segment Typewriter style)."""
    if lang not in ("python", "typescript"):
        raise typer.BadParameter("lang is python or typescript")
    found = _with_database(
        _settings(data_dir),
        lambda db: protocols.get_plan(db.engine, workspace=workspace, slug=slug, version=version),
    )
    plan = protocols.parse_plan(found["document"])
    _write(generate(plan, lang, version=found["shown_version"]), out)  # type: ignore[arg-type]


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
        _print(BadRequest("invalid_json", f"{what}: {error}").body())
        raise typer.Exit(1) from None


WorkspaceSlug = Annotated[str, typer.Option("--workspace", help="workspace slug")]
JsonOption = Annotated[str | None, typer.Option(help="JSON, or @file, or @- for stdin")]


@destinations_app.command("kinds")
def destinations_kinds() -> None:
    """Print every connector kind with its config's JSON Schema."""
    _print(destinations.kinds())


@destinations_app.command("list")
def destinations_list(workspace: WorkspaceSlug = "default", data_dir: DataDir = None) -> None:
    """Print the workspace's destinations (secrets shown as set or unset)."""
    _print(
        _with_database(
            _settings(data_dir),
            lambda db: destinations.list_destinations(db.engine, workspace=workspace),
        )
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
    settings = _settings(data_dir)
    _print(
        _with_database(
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
    settings = _settings(data_dir)
    _print(
        _with_database(
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
        _print(BadRequest("invalid_change", "changes is a JSON object").body())
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
    settings = _settings(data_dir)
    _print(
        _with_database(
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
    _print(
        _with_database(
            _settings(data_dir),
            lambda db: destinations.replay(
                db.engine,
                workspace=workspace,
                destination_id=destination_id,
                since=since,
                until=until,
                dead_letters=dead_letters,
            ),
        )
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

    _print(_with_database(_settings(data_dir), read))


@destinations_app.command("dead-letters")
def destinations_dead_letters(
    destination_id: int,
    workspace: WorkspaceSlug = "default",
    limit: int = 50,
    data_dir: DataDir = None,
) -> None:
    """Print dead letters, newest first, with their last error and exchange."""
    _print(
        _with_database(
            _settings(data_dir),
            lambda db: destinations.dead_letters(
                db.engine, workspace=workspace, destination_id=destination_id, limit=limit
            ),
        )
    )


@destinations_app.command("errors")
def destinations_errors(
    destination_id: int,
    workspace: WorkspaceSlug = "default",
    limit: int = 20,
    data_dir: DataDir = None,
) -> None:
    """Print the latest failed sends with their requests and responses."""
    _print(
        _with_database(
            _settings(data_dir),
            lambda db: destinations.errors(
                db.engine, workspace=workspace, destination_id=destination_id, limit=limit
            ),
        )
    )


Kind = Annotated[
    str, typer.Option("--kind", help="audience or trait (computed trait)", show_default=True)
]


def _kind(kind: str) -> str:
    if kind not in ("audience", "trait"):
        _print(BadRequest("invalid_kind", "--kind is audience or trait").body())
        raise typer.Exit(1)
    return kind


def _definition(path: Path) -> Any:
    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
        return audiences.decode_json(raw)
    except (OSError, ValueError) as error:
        _print(BadRequest("invalid_definition_file", f"cannot read {path}: {error}").body())
        raise typer.Exit(1) from None


@audiences_app.command("list")
def audiences_list(
    kind: Kind = "audience", workspace: str = "default", data_dir: DataDir = None
) -> None:
    """Audiences (or computed traits) with their sizes."""
    _print(
        _with_database(
            _settings(data_dir),
            lambda d: audiences.list_computations(d.engine, workspace=workspace, kind=_kind(kind)),
        )
    )


@audiences_app.command("create")
def audiences_create(
    key: str,
    definition: Annotated[Path, typer.Option("--file", help="definition JSON ('-': stdin)")],
    name: str | None = None,
    kind: Kind = "audience",
    subject: str = "user",
    destination: Annotated[list[int] | None, typer.Option(help="destination id")] = None,
    workspace: str = "default",
    data_dir: DataDir = None,
) -> None:
    """Create an audience or computed trait from a definition file (see docs/audiences.md)."""
    body = _definition(definition)
    created = _with_database(
        _settings(data_dir),
        lambda d: audiences.create(
            d.engine,
            workspace=workspace,
            kind=_kind(kind),
            key=key,
            name=name or key,
            definition=body,
            subject=subject,
            destinations=destination or [],
        ),
    )
    _print(created)


@audiences_app.command("preview")
def audiences_preview(
    definition: Annotated[Path, typer.Option("--file", help="definition JSON ('-': stdin)")],
    kind: Kind = "audience",
    subject: str = "user",
    workspace: str = "default",
    data_dir: DataDir = None,
) -> None:
    """Size and sample members of a definition, without saving it."""
    body = _definition(definition)
    _print(
        _with_database(
            _settings(data_dir),
            lambda d: audiences.preview(
                d.engine, workspace=workspace, kind=_kind(kind), definition=body, subject=subject
            ),
        )
    )


@audiences_app.command("recompute")
def audiences_recompute(
    key: Annotated[str | None, typer.Argument(help="one key; all when left out")] = None,
    workspace: str = "default",
    data_dir: DataDir = None,
) -> None:
    """Recompute now in batch (computed traits first, then audiences) and print the changes."""
    _print(
        _with_database(
            _settings(data_dir),
            lambda d: audiences.recompute(d.engine, workspace=workspace, key=key),
        )
    )


@audiences_app.command("members")
def audiences_members(
    key: str,
    kind: Kind = "audience",
    csv_out: Annotated[bool, typer.Option("--csv", help="CSV of every member")] = False,
    workspace: str = "default",
    data_dir: DataDir = None,
) -> None:
    """Every member (or value) of an audience (or computed trait), as JSON lines or CSV."""

    async def every(database: Database) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = await audiences.members(
                database.engine,
                workspace=workspace,
                kind=_kind(kind),
                key=key,
                cursor=cursor,
                limit=5000,
            )
            found += page["data"]
            cursor = page["next_cursor"]
            if cursor is None:
                return found

    rows = _with_database(_settings(data_dir), every)
    if csv_out:
        writer = csv.writer(sys.stdout)
        writer.writerow(["profile_id", "user_id", "email", "value", "since"])
        for m in rows:
            value = m["value"] if isinstance(m["value"], str) else audiences.encode_json(m["value"])
            writer.writerow([m["profile_id"], m["user_id"], m["email"], value, m["since"]])
        return
    for m in rows:
        sys.stdout.write(
            audiences.encode_json(
                {**m, "since": m["since"].isoformat(), "updated_at": m["updated_at"].isoformat()}
            )
            + "\n"
        )


@audiences_app.command("profile")
def audiences_profile(
    profile_id: str, workspace: str = "default", data_dir: DataDir = None
) -> None:
    """A profile's audiences, computed traits and history of changes."""
    _print(
        _with_database(
            _settings(data_dir),
            lambda d: audiences.memberships(d.engine, workspace=workspace, profile_id=profile_id),
        )
    )


@audiences_app.command("delete")
def audiences_delete(
    key: str, kind: Kind = "audience", workspace: str = "default", data_dir: DataDir = None
) -> None:
    """Delete an audience or computed trait; its members exit (cause deleted)."""
    _print(
        _with_database(
            _settings(data_dir),
            lambda d: audiences.delete(d.engine, workspace=workspace, kind=_kind(kind), key=key),
        )
    )


def main() -> None:
    app()
