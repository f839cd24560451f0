"""``headwater retl``: reverse ETL's models (SQL on your database) and syncs (a model sent to
profiles, events or a destination), run by hand or on a schedule.

A model's connection URL holds a password: give it as ``@file`` (or ``@-``, stdin) rather
than on the command line, where other users of the machine can see it in the process list.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from headwater.cli.output import Json, fail, json_option, read_input, show, spinner
from headwater.cli.remote import Api, Token, Url, remote, segment

__all__ = ["retl_app"]

retl_app = typer.Typer(
    help="Reverse ETL: models (SQL on your database) and syncs to profiles, events or"
    " destinations.",
    no_args_is_help=True,
)
models_app = typer.Typer(help="Models: a SQL query on your database.", no_args_is_help=True)
syncs_app = typer.Typer(help="Syncs: a model sent somewhere, on a schedule.", no_args_is_help=True)
retl_app.add_typer(models_app, name="models")
retl_app.add_typer(syncs_app, name="syncs")

WorkspaceSlug = Annotated[str, typer.Option("--workspace", help="workspace slug")]
_MODEL_COLUMNS = ["id", "name", "connection", "primary_key", "cursor_column"]
_SYNC_COLUMNS = ["id", "name", "model_id", "target", "message_type", "mode", "next_run_at"]
_RUN_COLUMNS = [
    "id",
    "status",
    "trigger",
    "started_at",
    "rows_read",
    "added",
    "changed",
    "removed",
    "failed",
    "reason",
]


def _base(workspace: str) -> str:
    return f"/api/v1/workspaces/{segment(workspace)}/reverse-etl"


def _text(value: str) -> str:
    """A value, or the text of '@file' / '@-' (stdin), without its trailing newline."""
    if value.startswith("@"):
        return read_input(Path(value[1:] or "-")).decode().strip()
    return value


@models_app.command("list")
def models_list(
    workspace: WorkspaceSlug = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """The workspace's models (connections with their passwords masked)."""
    with remote(url=url, token=token, json_out=json_out) as api:
        show(api.get(f"{_base(workspace)}/models"), json_out=json_out, columns=_MODEL_COLUMNS)


@models_app.command("create")
def models_create(
    name: str,
    connection: Annotated[str, typer.Option(help="SQLAlchemy URL, @file or @- (stdin)")],
    query: Annotated[str, typer.Option(help="the SQL, @file or @-")],
    primary_key: Annotated[str, typer.Option(help="the column naming each row")],
    cursor_column: Annotated[str | None, typer.Option(help="read rows from its last value")] = None,
    workspace: WorkspaceSlug = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Create a model (try it first with ``preview``)."""
    body = {
        "name": name,
        "connection": _text(connection),
        "query": _text(query),
        "primary_key": primary_key,
        "cursor_column": cursor_column,
    }
    with remote(url=url, token=token, json_out=json_out) as api:
        show(api.post(f"{_base(workspace)}/models", body), json_out=json_out)


@models_app.command("preview")
def models_preview(
    model_id: Annotated[int | None, typer.Argument(help="a saved model (or give --query)")] = None,
    connection: Annotated[str | None, typer.Option(help="URL, @file or @-")] = None,
    query: Annotated[str | None, typer.Option(help="SQL, @file or @-")] = None,
    primary_key: Annotated[str | None, typer.Option(help="checked in the rows")] = None,
    limit: int = 10,
    workspace: WorkspaceSlug = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Run a model's query with a limit: its columns, first rows and what would stop a sync."""
    with remote(url=url, token=token, json_out=json_out) as api, spinner("querying"):
        if model_id is not None:
            found = api.post(f"{_base(workspace)}/models/{model_id}/preview", limit=limit)
        elif connection is None or query is None:
            fail("give a model id, or --connection and --query", code=2)
        else:
            body = {
                "connection": _text(connection),
                "query": _text(query),
                "primary_key": primary_key,
                "limit": limit,
            }
            found = api.post(f"{_base(workspace)}/models/preview", body)
    if json_out:
        show(found, json_out=True)
        return
    rows = [dict(zip(found["columns"], row, strict=True)) for row in found["rows"]]
    show(rows, json_out=False, columns=found["columns"])
    for problem in found["problems"]:
        typer.echo(f"problem: {problem}")


@models_app.command("delete")
def models_delete(
    model_id: int,
    workspace: WorkspaceSlug = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Delete a model that no sync sends."""
    with remote(url=url, token=token, json_out=json_out) as api:
        show(api.call("DELETE", f"{_base(workspace)}/models/{model_id}"), json_out=json_out)


@syncs_app.command("list")
def syncs_list(
    workspace: WorkspaceSlug = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """The workspace's syncs, with when each runs next."""
    with remote(url=url, token=token, json_out=json_out) as api:
        show(api.get(f"{_base(workspace)}/syncs"), json_out=json_out, columns=_SYNC_COLUMNS)


@syncs_app.command("create")
def syncs_create(
    name: str,
    model_id: Annotated[int, typer.Option(help="the model to send")],
    target: Annotated[str, typer.Option(help="profiles, events or destination")],
    message_type: Annotated[str, typer.Option(help="identify, group or track")],
    mapping: Annotated[str, typer.Option(help='JSON, @file or @-: {"user_id": "id", ...}')],
    mode: Annotated[str, typer.Option(help="insert, update, upsert or mirror")] = "upsert",
    every: Annotated[int | None, typer.Option(help="run every N seconds")] = None,
    cron: Annotated[str | None, typer.Option(help="run on a cron expression (UTC)")] = None,
    destination_id: Annotated[int | None, typer.Option(help="for target destination")] = None,
    source_id: Annotated[int | None, typer.Option(help="default: the 'Reverse ETL' source")] = None,
    workspace: WorkspaceSlug = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Create a sync (by hand only, unless --every or --cron)."""
    schedule: dict[str, Any] = {"kind": "manual"}
    if every is not None and cron is not None:
        fail("give --every or --cron, not both", code=2)
    if every is not None:
        schedule = {"kind": "interval", "seconds": every}
    elif cron is not None:
        schedule = {"kind": "cron", "expression": cron}
    body = {
        "name": name,
        "model_id": model_id,
        "target": target,
        "message_type": message_type,
        "mode": mode,
        "mapping": json_option(mapping, "mapping"),
        "schedule": schedule,
        "destination_id": destination_id,
        "source_id": source_id,
    }
    with remote(url=url, token=token, json_out=json_out) as api:
        show(api.post(f"{_base(workspace)}/syncs", body), json_out=json_out)


@syncs_app.command("update")
def syncs_update(
    sync_id: int,
    changes: Annotated[str, typer.Argument(help="JSON object of changes, @file or @-")],
    workspace: WorkspaceSlug = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Change a sync's name, model, target, mode, mapping, schedule or enabled."""
    parsed = json_option(changes, "changes")
    if not isinstance(parsed, dict):
        fail("changes is a JSON object", code=2)
    with remote(url=url, token=token, json_out=json_out) as api:
        show(
            api.call("PATCH", f"{_base(workspace)}/syncs/{sync_id}", json=parsed), json_out=json_out
        )


@syncs_app.command("run")
def syncs_run(
    sync_id: int,
    wait: Annotated[bool, typer.Option(help="wait for the run and print its counts")] = False,
    workspace: WorkspaceSlug = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Run a sync now (a reverse ETL task takes it within seconds)."""
    path = f"{_base(workspace)}/syncs/{sync_id}"
    with remote(url=url, token=token, json_out=json_out) as api:
        before = api.get(f"{path}/runs", limit=1)
        asked = api.post(f"{path}/run")
        if not wait:
            show(asked, json_out=json_out)
            return
        with spinner("running"):
            run = _finished(api, path, before[0]["id"] if before else 0)
    show(run, json_out=json_out)
    if run["status"] != "succeeded":
        fail(f"the run {run['status']}: {run['reason']}")


def _finished(api: Api, path: str, after: int) -> dict[str, Any]:
    """The first run newer than ``after`` once it has ended (polled each half second)."""
    while True:
        runs = api.get(f"{path}/runs", limit=1)
        if runs and runs[0]["id"] > after and runs[0]["status"] != "running":
            return runs[0]  # type: ignore[no-any-return]
        time.sleep(0.5)


@syncs_app.command("runs")
def syncs_runs(
    sync_id: int,
    limit: int = 20,
    workspace: WorkspaceSlug = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """The sync's runs, newest first (failure samples with --json)."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(f"{_base(workspace)}/syncs/{sync_id}/runs", limit=limit)
    show(found, json_out=json_out, columns=_RUN_COLUMNS)


@syncs_app.command("delete")
def syncs_delete(
    sync_id: int,
    workspace: WorkspaceSlug = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Delete a sync with its runs and state (what it sent stays where it went)."""
    with remote(url=url, token=token, json_out=json_out) as api:
        show(api.call("DELETE", f"{_base(workspace)}/syncs/{sync_id}"), json_out=json_out)
