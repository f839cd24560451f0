"""``headwater journeys``: journeys as code (import, export), publishing and states."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from headwater.cli.output import Json, fail, json_option, read_input, show, spinner, write_out
from headwater.cli.remote import Token, Url, remote, segment

__all__ = ["journeys_app"]

journeys_app = typer.Typer(
    help="Customer journeys: drafts as files, publishing, pause and resume.",
    no_args_is_help=True,
)

Workspace = Annotated[str, typer.Option(help="the workspace's slug")]
_COLUMNS = ["key", "name", "state", "version", "updated_at"]


def _journeys(workspace: str) -> str:
    return f"/api/v1/workspaces/{segment(workspace)}/journeys"


def _kind(file: Path, format: str | None) -> str:
    kind = format or ("yaml" if file.suffix in (".yml", ".yaml") else "json")
    if kind not in ("json", "yaml"):
        fail("--format is json or yaml", code=2)
    return kind


@journeys_app.command("list")
def journeys_list(
    workspace: Workspace = "default", url: Url = None, token: Token = None, json_out: Json = False
) -> None:
    """The workspace's journeys with their states."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(_journeys(workspace))
    show(found, json_out=json_out, columns=_COLUMNS)


@journeys_app.command("show")
def journeys_show(
    key: str,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """The journey with its draft and what stops the draft from being published."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(f"{_journeys(workspace)}/{segment(key)}")
    show(found, json_out=json_out)


@journeys_app.command("import")
def journeys_import(
    file: Annotated[Path, typer.Argument(help="a journey file, JSON or YAML ('-' for stdin)")],
    format: Annotated[str | None, typer.Option(help="json or yaml (default: the suffix)")] = None,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Create the journey in FILE, or make FILE the draft of the journey with its key."""
    kind = _kind(file, format)
    raw = read_input(file)
    with remote(url=url, token=token, json_out=json_out) as api, spinner(f"importing {file}"):
        done = api.call(
            "POST", f"{_journeys(workspace)}/import", content=raw, params={"format": kind}
        )
    show(done, json_out=json_out, columns=None if json_out else _COLUMNS)


@journeys_app.command("export")
def journeys_export(
    key: str,
    format: Annotated[str, typer.Option(help="json or yaml")] = "yaml",
    version: Annotated[
        int | None, typer.Option(help="a published version (default: the draft)")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
) -> None:
    """Write the journey as a file to keep beside your code (import takes it back)."""
    path = f"{_journeys(workspace)}/{segment(key)}/export"
    with remote(url=url, token=token, json_out=False) as api:
        text = api.text(path, format=format, version=version)
    write_out(text, out)


@journeys_app.command("publish")
def journeys_publish(
    key: str,
    note: Annotated[str, typer.Option(help="what changed, kept with the version")] = "",
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Publish the draft as a new version (every problem listed when it cannot be)."""
    path = f"{_journeys(workspace)}/{segment(key)}/publish"
    with remote(url=url, token=token, json_out=json_out) as api:
        done = api.call("POST", path, json={"note": note})
    show(done, json_out=json_out, columns=None if json_out else _COLUMNS)


def _state_command(verb: str, help: str) -> None:
    @journeys_app.command(verb, help=help)
    def change(
        key: str,
        workspace: Workspace = "default",
        url: Url = None,
        token: Token = None,
        json_out: Json = False,
    ) -> None:
        path = f"{_journeys(workspace)}/{segment(key)}/{verb}"
        with remote(url=url, token=token, json_out=json_out) as api:
            done = api.call("POST", path)
        show(done, json_out=json_out, columns=None if json_out else _COLUMNS)


_state_command("pause", "Nobody enters or moves on until it is resumed.")
_state_command("resume", "Carry on: each profile where it was.")
_state_command("archive", "End the journey for good (read only from then on).")


@journeys_app.command("versions")
def journeys_versions(
    key: str,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """The journey's published versions, newest first."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(f"{_journeys(workspace)}/{segment(key)}/versions")
    show(found, json_out=json_out)


@journeys_app.command("start")
def journeys_start(
    key: str,
    profiles: Annotated[list[str], typer.Argument(help="profile ids (prf_...)")],
    start_id: Annotated[
        str | None, typer.Option(help="names this start: run again, it enters nobody twice")
    ] = None,
    properties: Annotated[
        str | None,
        typer.Option(help="JSON object its steps read as {{ event.x }}, @file or @-"),
    ] = None,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Start profiles in the live journey now (its entry rules apply)."""
    body: dict[str, Any] = {"profile_ids": profiles, "start_id": start_id}
    given = json_option(properties, "--properties")
    if given is not None:
        if not isinstance(given, dict):
            fail("--properties is a JSON object", code=2)
        body["properties"] = given
    path = f"{_journeys(workspace)}/{segment(key)}/start"
    with remote(url=url, token=token, json_out=json_out) as api:
        done = api.call("POST", path, json=body)
    show(done, json_out=json_out)


@journeys_app.command("stats")
def journeys_stats(
    key: str,
    version: Annotated[int | None, typer.Option(help="one version (default: all)")] = None,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Entered, in progress, completed, converted, exited; per node and port."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(f"{_journeys(workspace)}/{segment(key)}/stats", version=version)
    show(found, json_out=json_out)
