"""``headwater audiences``: audiences and computed traits."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer

from headwater.cli.output import Json, fail, progress, read_input, show, spinner
from headwater.cli.remote import Api, ServerError, Token, Url, remote, segment

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


_BY = ("user_id", "anonymous_id", "email", "profile_id")
_BATCH = 1000  # the most members one request takes
Ids = Annotated[list[str] | None, typer.Option(help="repeat for several")]


def _references(
    user_id: list[str] | None,
    anonymous_id: list[str] | None,
    email: list[str] | None,
    profile_id: list[str] | None,
    file: Path | None,
    by: str,
) -> list[dict[str, str]]:
    """The members named on the command line, then those of the file (one per line)."""
    if by not in _BY:
        fail(f"--by is one of {', '.join(_BY)}", code=2)
    named = {"user_id": user_id, "anonymous_id": anonymous_id, "email": email}
    found = [
        {kind: v}
        for kind, values in (named | {"profile_id": profile_id}).items()
        for v in values or []
    ]
    if file is not None:
        lines = read_input(file).decode("utf-8", errors="replace").splitlines()
        found += [{by: line.strip()} for line in lines if line.strip()]
    if not found:
        fail("name members: --user-id, --anonymous-id, --email, --profile-id or --file", code=2)
    return found


def _change_members(api: Api, path: str, members: list[dict[str, str]]) -> dict[str, Any]:
    """Send the members in batches (a progress bar over them); the counts and problems of all
    the batches together (each problem's path counts from the first member)."""
    total: dict[str, Any] = {"added": 0, "removed": 0, "unchanged": 0, "problems": []}
    with progress("sending members", len(members)) as advanced:
        for start in range(0, len(members), _BATCH):
            try:
                done = api.post(path, {"members": members[start : start + _BATCH]})
            except ServerError as error:  # none of this batch was found
                if error.body.get("code") != "members_not_found":
                    raise
                done = {"problems": error.body["problems"]}
            for count in ("added", "removed", "unchanged"):
                total[count] += done.get(count, 0)
            total["problems"] += [
                {**p, "path": f"members.{start + int(p['path'].split('.')[1])}"}
                for p in done["problems"]
            ]
            advanced(min(start + _BATCH, len(members)))
    return total


def _members_command(action: str) -> None:
    verb = "Add members to" if action == "add" else "Remove members from"
    summary = (
        f"{verb} a list audience, by user id, anonymous id, email or profile id, or from a"
        " file; members not found are listed (exit status 1) and the others changed."
    )

    @audiences_app.command(action, help=summary)
    def change(
        key: str,
        user_id: Ids = None,
        anonymous_id: Ids = None,
        email: Ids = None,
        profile_id: Ids = None,
        file: Annotated[
            Path | None, typer.Option("--file", help="one member per line ('-': stdin)")
        ] = None,
        by: Annotated[str, typer.Option(help="what the file's lines are")] = "user_id",
        workspace: str = "default",
        url: Url = None,
        token: Token = None,
        json_out: Json = False,
    ) -> None:
        members = _references(user_id, anonymous_id, email, profile_id, file, by)
        path = f"{_base(workspace, 'audience')}/{segment(key)}/members"
        with remote(url=url, token=token, json_out=json_out) as api:
            done = _change_members(api, path + ("" if action == "add" else "/remove"), members)
        show(done, json_out=json_out)
        if done["problems"]:
            fail(f"{len(done['problems'])} of {len(members)} members were not found")


_members_command("add")
_members_command("remove")


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
