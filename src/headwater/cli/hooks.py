"""``headwater sources webhook``: webhook sources (created from a preset or a configuration
file, shown with their URL, reconfigured, their secret rotated), the test run of a sample
request, and the requests a source received (its debugger)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from headwater.cli.output import Json, fail, read_input, show
from headwater.cli.remote import Token, Url, remote, segment

__all__ = ["webhook_app"]

webhook_app = typer.Typer(
    help="Webhook sources: a URL that maps a sender's requests to events.", no_args_is_help=True
)

_REQUEST_COLUMNS = ["id", "received_at", "method", "status", "outcome", "reason", "errors"]
Workspace = Annotated[str, typer.Option(help="the source's workspace")]
ConfigFile = Annotated[
    Path | None, typer.Option("--config", help="a JSON configuration file ('-': stdin)")
]


def _scope(workspace: str) -> str:
    return f"/api/v1/workspaces/{segment(workspace)}"


def _config(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        value = json.loads(read_input(path))
    except json.JSONDecodeError as error:
        fail(f"{path} is not JSON: {error.msg} (line {error.lineno})", code=2)
    if not isinstance(value, dict):
        fail(f"{path} must hold a JSON object", code=2)
    return value


@webhook_app.command("presets")
def presets(
    workspace: Workspace = "default", url: Url = None, token: Token = None, json_out: Json = False
) -> None:
    """The presets a webhook source can start from."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(f"{_scope(workspace)}/hook-presets")
    show(found, json_out=json_out, columns=["name", "title", "secret_label", "docs"])


@webhook_app.command("create")
def create(
    name: str,
    preset: Annotated[str | None, typer.Option(help="stripe, shopify, hubspot, …")] = None,
    config: ConfigFile = None,
    secret: Annotated[
        str | None, typer.Option(help="the sender's secret (generated when omitted)")
    ] = None,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Create a webhook source and print its URL (and a generated secret, shown this once)."""
    body = {"name": name, "preset": preset, "config": _config(config), "secret": secret}
    with remote(url=url, token=token, json_out=json_out) as api:
        show(api.post(f"{_scope(workspace)}/webhook-sources", body), json_out=json_out)


@webhook_app.command("show")
def show_hook(
    source: int,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """A webhook source's URL and configuration (secrets shown as set, never their value)."""
    with remote(url=url, token=token, json_out=json_out) as api:
        show(api.get(f"{_scope(workspace)}/sources/{source}/hook"), json_out=json_out)


@webhook_app.command("configure")
def configure(
    source: int,
    preset: Annotated[str | None, typer.Option(help="start again from a preset")] = None,
    config: ConfigFile = None,
    secret: Annotated[str | None, typer.Option(help="a new secret (else kept)")] = None,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Replace a webhook source's configuration (its secret is kept unless given)."""
    body = {"preset": preset, "config": _config(config), "secret": secret}
    with remote(url=url, token=token, json_out=json_out) as api:
        path = f"{_scope(workspace)}/sources/{source}/hook"
        show(api.call("PUT", path, json=body), json_out=json_out)


@webhook_app.command("rotate")
def rotate(
    source: int,
    secret: Annotated[
        str | None, typer.Option(help="the new secret (generated if omitted)")
    ] = None,
    new_url: Annotated[bool, typer.Option(help="also a new URL; the old one stops")] = False,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """A new secret for a webhook source (printed this once), and with --new-url a new URL."""
    body = {"secret": secret, "new_url": new_url}
    with remote(url=url, token=token, json_out=json_out) as api:
        show(api.post(f"{_scope(workspace)}/sources/{source}/hook/rotate", body), json_out=json_out)


@webhook_app.command("test")
def try_sample(
    source: int,
    body: Annotated[Path, typer.Option(help="the sample request's body ('-': stdin)")],
    header: Annotated[list[str] | None, typer.Option(help="Name: value (repeatable)")] = None,
    config: ConfigFile = None,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Run a sample request through the source's mapping (or --config) without storing it."""
    headers = {}
    for line in header or []:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    if not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/json"
    sample = {"body": read_input(body).decode("utf-8", "replace"), "headers": headers}
    payload = {"request": sample, "config": _config(config)}
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.post(f"{_scope(workspace)}/sources/{source}/hook/test", payload)
    show(found, json_out=json_out)
    if found["errors"]:
        raise typer.Exit(1)


@webhook_app.command("requests")
def requests(
    source: int,
    limit: int = 20,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """The requests a webhook source received, newest first, with what became of each."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(f"{_scope(workspace)}/sources/{source}/hook/requests", limit=limit)
    show(found, json_out=json_out, columns=_REQUEST_COLUMNS)
