"""``headwater journeys``: journeys as code (import, export), publishing and states."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from headwater.cli.output import (
    Json,
    fail,
    json_option,
    out,
    print_json,
    read_input,
    show,
    spinner,
    write_out,
)
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


def _json_file(path: Path, what: str) -> Any:
    try:
        return json.loads(read_input(path))
    except ValueError as error:
        fail(f"{what} {path} is not JSON: {error}", code=2)


@journeys_app.command("test")
def journeys_test(
    key: str,
    event: Annotated[
        Path | None,
        typer.Option(help="the triggering Segment message, a JSON file ('-' for stdin)"),
    ] = None,
    profile: Annotated[str | None, typer.Option(help="an existing profile id (prf_...)")] = None,
    user_id: Annotated[str | None, typer.Option(help="an existing profile's userId")] = None,
    sample: Annotated[
        Path | None,
        typer.Option(
            help="a JSON file with more of the sample: traits, computed, audiences, later"
            " ([{after: {hours: 2}, event: {...}}]), failing, document"
        ),
    ] = None,
    version: Annotated[
        int | None, typer.Option(help="a published version (default: the draft)")
    ] = None,
    ignore_history: Annotated[
        bool, typer.Option(help="let a profile that entered before in again")
    ] = False,
    fail_node: Annotated[
        list[str] | None, typer.Option("--fail", help="an action node to take as failed")
    ] = None,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Walk a sample through the journey: the path it would take, on a virtual clock, with
    what each action would do. Nothing is sent, queued or stored."""
    body: dict[str, Any] = {} if sample is None else _json_file(sample, "the sample")
    if not isinstance(body, dict):
        fail("the sample file holds a JSON object", code=2)
    if event is not None:
        body["event"] = _json_file(event, "the event")
    extra = {"profile_id": profile, "user_id": user_id, "version": version}
    body.update({name: value for name, value in extra.items() if value is not None})
    if ignore_history:
        body["ignore_history"] = True
    if fail_node:
        body["failing"] = fail_node
    path = f"{_journeys(workspace)}/{segment(key)}/test-run"
    with remote(url=url, token=token, json_out=json_out) as api:
        run = api.call("POST", path, json=body)
    if json_out:
        print_json(run)
    else:
        _print_run(run)


def _print_run(run: dict[str, Any]) -> None:
    """A test run for people: the entry, each step (time, node, port, why, effect), the end."""
    out.print(escape(f"Entry: {run['entry']}"), highlight=False)
    for step in run["steps"]:
        port = f" -> {step['port']}" if step["port"] else ""
        line = (
            f"{_clock(step['elapsed']):>8}  {step['label']} ({step['type']}){port}: {step['why']}"
        )
        out.print(escape(line), highlight=False)
        if step["effect"]:
            out.print(escape(f"{'':>10}{step['effect']['summary']}"), highlight=False)
    for later in run["events"]:
        line = f"Event {later['event']} at {_clock(later['elapsed'])}: {later['outcome']}"
        out.print(escape(line), highlight=False)
    out.print(escape(f"Outcome: {run['outcome']}"), highlight=False)
    if run["converted_at"]:
        out.print(escape(f"Reached the goal at {run['converted_at']}"), highlight=False)
    for problem in run["problems"]:
        line = f"Not publishable yet: {problem['path']}: {problem['message']}"
        out.print(escape(line), highlight=False)
    out.print("Nothing was sent, queued or stored.", highlight=False)


def _clock(seconds: int) -> str:
    """Time since the entry, as ``+1d 2h``, ``+5m``, ``+0``."""
    parts = []
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "+" + " ".join(parts[:2]) if parts else "+0"
