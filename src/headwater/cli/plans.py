"""``headwater plans``: tracking plans (Segment Protocols)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from headwater import protocols
from headwater.cli.common import DataDir, console, print_json, settings_for, show, with_database
from headwater.errors import ApiError, BadRequest
from headwater.protocols.codegen import generate
from headwater.protocols.formats import dump

__all__ = ["plans_app"]

plans_app = typer.Typer(help="Tracking plans (Segment Protocols).", no_args_is_help=True)

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
        print_json(BadRequest("invalid_plan", f"cannot read {file}: {error}").body())
        raise typer.Exit(1) from None
    except ApiError as error:
        print_json(error.body())
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
    print_json(
        with_database(
            settings_for(data_dir), lambda db: protocols.list_plans(db.engine, workspace=workspace)
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
    show(
        data_dir,
        lambda db: protocols.create_plan(
            db.engine, workspace=workspace, document=document, slug=slug
        ),
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
    show(
        data_dir,
        lambda db: protocols.import_plan(
            db.engine, workspace=workspace, document=document, slug=slug
        ),
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
        with_database(
            settings_for(data_dir),
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
    show(
        data_dir,
        lambda db: protocols.get_plan(db.engine, workspace=workspace, slug=slug, version=version),
    )


@plans_app.command("versions")
def plans_versions(slug: str, workspace: Workspace = "default", data_dir: DataDir = None) -> None:
    """Print the plan's versions, newest first."""
    show(
        data_dir,
        lambda db: protocols.versions(db.engine, workspace=workspace, slug=slug),
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
    show(
        data_dir,
        lambda db: protocols.diff(
            db.engine, workspace=workspace, slug=slug, before=before, after=after
        ),
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
    show(
        data_dir,
        lambda db: protocols.connect_source(
            db.engine, workspace=workspace, plan=slug, source_id=source, settings=settings
        ),
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
    document = with_database(
        settings_for(data_dir),
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
    found = with_database(
        settings_for(data_dir),
        lambda db: protocols.get_plan(db.engine, workspace=workspace, slug=slug, version=version),
    )
    plan = protocols.parse_plan(found["document"])
    _write(generate(plan, lang, version=found["shown_version"]), out)  # type: ignore[arg-type]
