"""``headwater audiences``: audiences and computed traits."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from headwater import audiences
from headwater.cli.common import DataDir, print_json, settings_for, show, with_database
from headwater.errors import BadRequest
from headwater.storage import Database

__all__ = ["audiences_app"]

audiences_app = typer.Typer(
    help="Audiences and computed traits (docs/audiences.md).", no_args_is_help=True
)

Kind = Annotated[
    str, typer.Option("--kind", help="audience or trait (computed trait)", show_default=True)
]


def _kind(kind: str) -> str:
    if kind not in ("audience", "trait"):
        print_json(BadRequest("invalid_kind", "--kind is audience or trait").body())
        raise typer.Exit(1)
    return kind


def _definition(path: Path) -> Any:
    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
        return audiences.decode_json(raw)
    except (OSError, ValueError) as error:
        print_json(BadRequest("invalid_definition_file", f"cannot read {path}: {error}").body())
        raise typer.Exit(1) from None


@audiences_app.command("list")
def audiences_list(
    kind: Kind = "audience", workspace: str = "default", data_dir: DataDir = None
) -> None:
    """Audiences (or computed traits) with their sizes."""
    show(
        data_dir,
        lambda d: audiences.list_computations(d.engine, workspace=workspace, kind=_kind(kind)),
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
    created = with_database(
        settings_for(data_dir),
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
    print_json(created)


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
    show(
        data_dir,
        lambda d: audiences.preview(
            d.engine, workspace=workspace, kind=_kind(kind), definition=body, subject=subject
        ),
    )


@audiences_app.command("recompute")
def audiences_recompute(
    key: Annotated[str | None, typer.Argument(help="one key; all when left out")] = None,
    workspace: str = "default",
    data_dir: DataDir = None,
) -> None:
    """Recompute now in batch (computed traits first, then audiences) and print the changes."""
    show(
        data_dir,
        lambda d: audiences.recompute(d.engine, workspace=workspace, key=key),
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

    rows = with_database(settings_for(data_dir), every)
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
    show(
        data_dir,
        lambda d: audiences.memberships(d.engine, workspace=workspace, profile_id=profile_id),
    )


@audiences_app.command("delete")
def audiences_delete(
    key: str, kind: Kind = "audience", workspace: str = "default", data_dir: DataDir = None
) -> None:
    """Delete an audience or computed trait; its members exit (cause deleted)."""
    show(
        data_dir,
        lambda d: audiences.delete(d.engine, workspace=workspace, kind=_kind(kind), key=key),
    )
