"""``headwater destinations``: create, test, enable, replay, stats."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any

import typer

from headwater.cli.output import Json, fail, json_option, progress, show, spinner
from headwater.cli.remote import Api, Token, Url, remote, segment

__all__ = ["destinations_app"]

destinations_app = typer.Typer(
    help="Destinations: create, test, enable, replay, stats.", no_args_is_help=True
)

WorkspaceSlug = Annotated[str, typer.Option("--workspace", help="workspace slug")]
JsonOption = Annotated[str | None, typer.Option(help="JSON, or @file, or @- for stdin")]
_COLUMNS = ["id", "name", "kind", "enabled", "sources", "created_at"]


def _base(workspace: str) -> str:
    return f"/api/v1/workspaces/{segment(workspace)}/destinations"


@destinations_app.command("kinds")
def destinations_kinds(url: Url = None, token: Token = None, json_out: Json = False) -> None:
    """Every connector kind (with its config's JSON Schema, with --json)."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get("/api/v1/destination-kinds")
    show(found, json_out=json_out, columns=["kind", "max_batch", "categories", "secret_fields"])


@destinations_app.command("list")
def destinations_list(
    workspace: WorkspaceSlug = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """The workspace's destinations (secrets shown as set or unset)."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(_base(workspace))
    show(found, json_out=json_out, columns=_COLUMNS)


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
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Create a destination and print it."""
    body = {
        "name": name,
        "kind": kind,
        "config": json_option(config, "config"),
        "sources": json_option(sources, "sources"),
        "filters": json_option(filters, "filters") or [],
        "categories": json_option(categories, "categories"),
        "delivery": json_option(delivery, "delivery") or {},
        "enabled": not disabled,
    }
    with remote(url=url, token=token, json_out=json_out) as api:
        show(api.post(_base(workspace), body), json_out=json_out)


def _change(api: Api, workspace: str, destination_id: int, action: str | dict[str, Any]) -> Any:
    path = f"{_base(workspace)}/{destination_id}"
    if isinstance(action, str):
        return api.post(f"{path}/{action}")
    return api.call("PATCH", path, json=action)


@destinations_app.command("update")
def destinations_update(
    destination_id: int,
    changes: Annotated[str, typer.Argument(help="JSON object of changes, @file or @-")],
    workspace: WorkspaceSlug = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Change name, config (merged; secrets left out are kept), sources, filters, categories,
    delivery or enabled."""
    parsed = json_option(changes, "changes")
    if not isinstance(parsed, dict):
        fail("changes is a JSON object", code=2)
    with remote(url=url, token=token, json_out=json_out) as api:
        show(_change(api, workspace, destination_id, parsed), json_out=json_out)


@destinations_app.command("enable")
def destinations_enable(
    destination_id: int,
    workspace: WorkspaceSlug = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Enable a destination."""
    with remote(url=url, token=token, json_out=json_out) as api:
        show(_change(api, workspace, destination_id, "enable"), json_out=json_out)


@destinations_app.command("disable")
def destinations_disable(
    destination_id: int,
    workspace: WorkspaceSlug = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Disable a destination; its queued events wait until it is enabled again."""
    with remote(url=url, token=token, json_out=json_out) as api:
        show(_change(api, workspace, destination_id, "disable"), json_out=json_out)


@destinations_app.command("test")
def destinations_test(
    destination_id: int,
    workspace: WorkspaceSlug = "default",
    event: JsonOption = None,
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Send one event (a sample unless given) now; print the outcome, request and response."""
    body = {"event": json_option(event, "event")}
    with remote(url=url, token=token, json_out=json_out) as api, spinner("sending"):
        found = api.post(f"{_base(workspace)}/{destination_id}/test", body)
    show(found, json_out=json_out)


@destinations_app.command("replay")
def destinations_replay(
    destination_id: int,
    workspace: WorkspaceSlug = "default",
    since: Annotated[datetime | None, typer.Option(help="ISO-8601, with --until")] = None,
    until: Annotated[datetime | None, typer.Option(help="ISO-8601, with --since")] = None,
    dead_letters: Annotated[bool, typer.Option(help="replay the dead letters")] = False,
    wait: Annotated[
        bool, typer.Option(help="follow delivery with a progress bar until the queue is empty")
    ] = False,
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Queue the dead letters, or the events received between --since and --until, again."""
    body = {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "dead_letters": dead_letters,
    }
    path = f"{_base(workspace)}/{destination_id}"
    with remote(url=url, token=token, json_out=json_out) as api:
        with spinner("queueing"):
            queued = api.post(f"{path}/replay", body)
        if wait:
            _follow_queue(api, path, int(queued.get("queued") or 0))
    show(queued, json_out=json_out)


def _follow_queue(api: Api, path: str, queued: int) -> None:
    """A bar of the destination's queue draining (``/health``'s depth, polled each second)
    until it is empty; Ctrl-C stops following, not the delivery."""
    start = _depth(api.get(f"{path}/health"))
    total = max(start, queued)
    with progress("delivering", total) as done:
        try:
            while (left := _depth(api.get(f"{path}/health"))) > 0:
                done(max(0, total - left))
                time.sleep(1.0)
        except KeyboardInterrupt:
            return
        done(total)


def _depth(health: dict[str, Any]) -> int:
    queue = health.get("queue") or {}
    return int(queue.get("pending") or 0) + int(queue.get("retrying") or 0)


@destinations_app.command("stats")
def destinations_stats(
    destination_id: int,
    workspace: WorkspaceSlug = "default",
    since: Annotated[datetime | None, typer.Option(help="ISO-8601 (default: 24 hours ago)")] = None,
    until: Annotated[datetime | None, typer.Option(help="ISO-8601 (default: now)")] = None,
    interval: Annotated[str, typer.Option(help="minute, hour or day")] = "hour",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Delivered, retried, failed and dead-lettered counts and p95 latency over time, with
    the alert state and queue depth."""
    path = f"{_base(workspace)}/{destination_id}"
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(
            f"{path}/stats",
            since=since.isoformat() if since else None,
            until=until.isoformat() if until else None,
            interval=interval,
        )
        found["health"] = api.get(f"{path}/health")
    show(found, json_out=json_out)


@destinations_app.command("dead-letters")
def destinations_dead_letters(
    destination_id: int,
    workspace: WorkspaceSlug = "default",
    limit: int = 50,
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Dead letters, newest first, with their last error and exchange."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(f"{_base(workspace)}/{destination_id}/dead-letters", limit=limit)
    show(
        found,
        json_out=json_out,
        columns=["id", "message_id", "received_at", "failed_at", "attempts", "reason", "error"],
    )


@destinations_app.command("errors")
def destinations_errors(
    destination_id: int,
    workspace: WorkspaceSlug = "default",
    limit: int = 20,
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """The latest failed sends with their requests and responses."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(f"{_base(workspace)}/{destination_id}/errors", limit=limit)
    show(found, json_out=json_out, columns=["id", "at", "outcome", "events", "error"])
