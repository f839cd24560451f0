"""``headwater plans``: tracking plans (Segment Protocols)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from headwater.cli.output import (
    Json,
    fail,
    print_json,
    read_input,
    show,
    spinner,
    write_out,
)
from headwater.cli.remote import Token, Url, remote, segment
from headwater.errors import ApiError

__all__ = ["plans_app"]

plans_app = typer.Typer(help="Tracking plans (Segment Protocols).", no_args_is_help=True)

PlanFile = Annotated[Path, typer.Argument(help="a JSON, YAML or CSV plan ('-' for stdin)")]
PlanFormat = Annotated[str | None, typer.Option(help="json, yaml or csv (default: the suffix)")]
PlanName = Annotated[str | None, typer.Option(help="the plan's name (required for CSV)")]
Workspace = Annotated[str, typer.Option(help="the workspace's slug")]
_COLUMNS = ["slug", "name", "version", "sources", "updated_at"]


def _format(file: Path, format: str | None) -> str:
    kind = format or {".yml": "yaml", ".yaml": "yaml", ".csv": "csv"}.get(file.suffix, "json")
    if kind not in ("json", "yaml", "csv"):
        fail("--format is json, yaml or csv", code=2)
    return kind


def _read_plan(file: Path, format: str | None, name: str | None, json_out: bool) -> dict[str, Any]:
    """A plan document from a file, checked here; exit 1 with the reason when invalid."""
    from headwater import protocols  # here: the other commands start without its modules

    kind = _format(file, format)
    try:
        text = read_input(file).decode()
        return protocols.read_document(text, kind, name=name)  # type: ignore[arg-type]
    except UnicodeDecodeError:
        fail(f"{file} is not UTF-8", code=2)
    except ApiError as error:
        if json_out:
            print_json(error.body())
        fail(f"{error.message} ({error.code})")


def _plans(workspace: str) -> str:
    return f"/api/v1/workspaces/{segment(workspace)}/tracking-plans"


@plans_app.command("list")
def plans_list(
    workspace: Workspace = "default", url: Url = None, token: Token = None, json_out: Json = False
) -> None:
    """The workspace's tracking plans."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(_plans(workspace))
    show(found, json_out=json_out, columns=_COLUMNS)


@plans_app.command("create")
def plans_create(
    file: PlanFile,
    format: PlanFormat = None,
    name: PlanName = None,
    slug: str | None = None,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Create a tracking plan from a file (409 when the slug is taken)."""
    document = _read_plan(file, format, name, json_out)
    with remote(url=url, token=token, json_out=json_out) as api:
        created = api.post(_plans(workspace), document, slug=slug)
    show(created, json_out=json_out, columns=None if json_out else _COLUMNS)


@plans_app.command("import")
def plans_import(
    file: PlanFile,
    format: PlanFormat = None,
    name: PlanName = None,
    slug: str | None = None,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Create the plan, or store the file as its next version when the slug exists."""
    kind = _format(file, format)
    raw = read_input(file)
    with remote(url=url, token=token, json_out=json_out) as api, spinner(f"importing {file}"):
        path = f"{_plans(workspace)}/import"
        params = {"format": kind, "name": name, "slug": slug}
        done = api.call("POST", path, content=raw, params=params)
    show(done, json_out=json_out, columns=None if json_out else _COLUMNS)


@plans_app.command("export")
def plans_export(
    slug: str,
    format: Annotated[str, typer.Option(help="json, yaml or csv")] = "json",
    version: int | None = None,
    out: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
) -> None:
    """Write the plan (newest version unless --version) as JSON, YAML or CSV."""
    path = f"{_plans(workspace)}/{segment(slug)}/export"
    with remote(url=url, token=token, json_out=False) as api:
        text = api.text(path, format=format, version=version)
    write_out(text, out)


@plans_app.command("show")
def plans_show(
    slug: str,
    version: int | None = None,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """The plan with its document."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(f"{_plans(workspace)}/{segment(slug)}", version=version)
    show(found, json_out=json_out)


@plans_app.command("versions")
def plans_versions(
    slug: str,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """The plan's versions, newest first."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(f"{_plans(workspace)}/{segment(slug)}/versions")
    show(found, json_out=json_out)


@plans_app.command("diff")
def plans_diff(
    slug: str,
    before: Annotated[int, typer.Argument(help="the older version")],
    after: Annotated[int | None, typer.Argument(help="the newer version (default: newest)")] = None,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """What changed between two versions of the plan."""
    path = f"{_plans(workspace)}/{segment(slug)}/diff"
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.call("GET", path, params={"from": before, "to": after})
    show(found, json_out=json_out)


@plans_app.command("connect")
def plans_connect(
    slug: str,
    source: int,
    unplanned_events: Annotated[str, typer.Option(help="allow or block")] = "allow",
    unplanned_properties: Annotated[str, typer.Option(help="allow or omit")] = "allow",
    violations: Annotated[str, typer.Option(help="allow, flag, omit or block")] = "allow",
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Validate SOURCE's events against the plan SLUG with these settings."""
    body = {
        "plan": slug,
        "settings": {
            "unplanned_events": unplanned_events,
            "unplanned_properties": unplanned_properties,
            "violations": violations,
        },
    }
    path = f"/api/v1/workspaces/{segment(workspace)}/sources/{source}/tracking-plan"
    with remote(url=url, token=token, json_out=json_out) as api:
        show(api.call("PUT", path, json=body), json_out=json_out)


@plans_app.command("infer")
def plans_infer(
    source: int,
    name: Annotated[str | None, typer.Option(help="the draft's name")] = None,
    format: Annotated[str, typer.Option(help="json or yaml")] = "yaml",
    out: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
) -> None:
    """Draft a plan from what SOURCE has sent (its observed schema); edit it, then import it."""
    if format not in ("json", "yaml"):
        fail("--format is json or yaml", code=2)
    path = f"/api/v1/workspaces/{segment(workspace)}/sources/{source}/observed-schema/plan"
    with remote(url=url, token=token, json_out=False) as api:
        document = api.get(path, name=name)
    from headwater.protocols import dump, parse_plan

    write_out(dump(parse_plan(document), format), out)  # type: ignore[arg-type]


@plans_app.command("codegen")
def plans_codegen(
    slug: Annotated[str | None, typer.Argument(help="a plan on the server")] = None,
    file: Annotated[
        Path | None, typer.Option(help="a local plan file instead (no server needed)")
    ] = None,
    lang: Annotated[str, typer.Option(help="python or typescript")] = "python",
    version: int | None = None,
    out: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
) -> None:
    """Write a typed tracking module for the plan (Segment Typewriter style)."""
    if lang not in ("python", "typescript"):
        fail("--lang is python or typescript", code=2)
    if (slug is None) == (file is None):
        fail("give a plan's SLUG or --file, not both", code=2)
    if file is not None:
        from headwater.protocols import generate, parse_plan

        plan = parse_plan(_read_plan(file, None, None, json_out=False))
        write_out(generate(plan, lang, version=None), out)  # type: ignore[arg-type]
        return
    path = f"{_plans(workspace)}/{segment(slug or '')}/codegen"
    with remote(url=url, token=token, json_out=False) as api:
        text = api.text(path, lang=lang, version=version)
    write_out(text, out)
