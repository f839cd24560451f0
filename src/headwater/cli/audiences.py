"""``headwater audiences``: audiences and computed traits."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer

from headwater.cli.output import Json, fail, progress, read_input, show, spinner
from headwater.cli.remote import Api, Token, Url, remote, segment

__all__ = ["audiences_app"]

audiences_app = typer.Typer(
    help="Audiences and computed traits (docs/audiences.md).", no_args_is_help=True
)

Kind = Annotated[
    str, typer.Option("--kind", help="audience or trait (computed trait)", show_default=True)
]
Definition = Annotated[Path, typer.Option("--file", help="definition JSON ('-': stdin)")]
_PATHS = {"audience": "audiences", "trait": "computed-traits"}
_COLUMNS = ["key", "name", "subject", "enabled", "size", "computed_at"]
# Numbers with a fraction stay exact from the file to the server (0.1 is 0.1), as the server
# decodes them.
_ENCODER = msgspec.json.Encoder(decimal_format="number")
_DECODER = msgspec.json.Decoder(float_hook=Decimal)


def _base(workspace: str, kind: str) -> str:
    if kind not in _PATHS:
        fail("--kind is audience or trait", code=2)
    return f"/api/v1/workspaces/{segment(workspace)}/{_PATHS[kind]}"


def _definition(path: Path) -> Any:
    """The definition file, decoded with exact decimals (``0.1`` stays 0.1)."""
    raw = read_input(path)
    try:
        return _DECODER.decode(raw)
    except msgspec.DecodeError as error:
        fail(f"{path} is not JSON: {error}", code=2)


def _send(api: Api, path: str, body: dict[str, Any]) -> Any:
    """POST ``body`` encoded as the server decodes it (exact decimals)."""
    content = _ENCODER.encode(body)
    return api.call("POST", path, content=content, headers={"content-type": "application/json"})


@audiences_app.command("list")
def audiences_list(
    kind: Kind = "audience",
    workspace: str = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Audiences (or computed traits) with their sizes."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(_base(workspace, kind))
    show(found, json_out=json_out, columns=_COLUMNS)


@audiences_app.command("create")
def audiences_create(
    key: str,
    definition: Definition,
    name: str | None = None,
    kind: Kind = "audience",
    subject: str = "user",
    destination: Annotated[list[int] | None, typer.Option(help="destination id")] = None,
    workspace: str = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Create an audience or computed trait from a definition file (see docs/audiences.md)."""
    body = {
        "key": key,
        "name": name or key,
        "subject": subject,
        "definition": _definition(definition),
        "destinations": destination or [],
    }
    with remote(url=url, token=token, json_out=json_out) as api:
        show(_send(api, _base(workspace, kind), body), json_out=json_out)


@audiences_app.command("preview")
def audiences_preview(
    definition: Definition,
    kind: Kind = "audience",
    subject: str = "user",
    workspace: str = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Size and sample members of a definition, without saving it."""
    body = {"definition": _definition(definition), "subject": subject}
    path = f"{_base(workspace, kind)}/preview"
    with remote(url=url, token=token, json_out=json_out) as api, spinner("computing"):
        show(_send(api, path, body), json_out=json_out)


@audiences_app.command("recompute")
def audiences_recompute(
    key: Annotated[str | None, typer.Argument(help="one key; all when left out")] = None,
    workspace: str = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Recompute now in batch (computed traits first, then audiences) and print the changes,
    with a progress bar of the keys done."""
    with remote(url=url, token=token, json_out=json_out) as api:
        order = api.get(f"/api/v1/workspaces/{segment(workspace)}/recompute-order")
        keys = [item for rounds in order for item in rounds if key in (None, item["key"])]
        if key is not None and not keys:
            fail(f"no audience or computed trait {key} in workspace {workspace}")
        done = []
        with progress("recomputing", len(keys)) as advanced:
            for item in keys:
                path = f"{_base(workspace, item['kind'])}/{segment(item['key'])}/recompute"
                done.append(api.post(path))
                advanced(len(done))
    show(done, json_out=json_out, columns=["key", "entered", "exited", "updated", "seconds"])


@audiences_app.command("members")
def audiences_members(
    key: str,
    kind: Kind = "audience",
    csv_out: Annotated[bool, typer.Option("--csv", help="CSV of every member")] = False,
    workspace: str = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Every member (or value) of an audience (or computed trait): a table, JSON lines
    (--json) or CSV (--csv)."""
    path = f"{_base(workspace, kind)}/{segment(key)}/members"
    with remote(url=url, token=token, json_out=json_out) as api:
        if csv_out:
            sys.stdout.write(api.text(path, format="csv"))
            return
        rows: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = api.get(path, cursor=cursor, limit=5000)
            rows += page["data"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    if json_out:
        sys.stdout.writelines(_ENCODER.encode(m).decode() + "\n" for m in rows)
        return
    show(rows, json_out=False, columns=["profile_id", "user_id", "email", "value", "since"])


@audiences_app.command("profile")
def audiences_profile(
    profile_id: str,
    workspace: str = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """A profile's audiences, computed traits and history of changes."""
    path = f"/api/v1/workspaces/{segment(workspace)}/profiles/{segment(profile_id)}/audiences"
    with remote(url=url, token=token, json_out=json_out) as api:
        show(api.get(path), json_out=json_out)


@audiences_app.command("delete")
def audiences_delete(
    key: str,
    kind: Kind = "audience",
    workspace: str = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Delete an audience or computed trait; its members exit (cause deleted)."""
    path = f"{_base(workspace, kind)}/{segment(key)}"
    with remote(url=url, token=token, json_out=json_out) as api:
        show(api.call("DELETE", path), json_out=json_out)
