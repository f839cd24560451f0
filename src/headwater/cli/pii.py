"""``headwater pii``: a workspace's PII rules, their test run and the inbox.

>>> headwater pii list --workspace default
>>> headwater pii add --path properties.email --action hash
>>> headwater pii add --detector card --path 'properties.**' --action block --source 3
>>> headwater pii update 12 --action redact
>>> headwater pii remove 12
>>> headwater pii test message.json --source 3
>>> headwater pii inbox
>>> headwater pii classify traits.email --action hash
>>> headwater pii dismiss traits.nickname
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from headwater.cli.output import Json, fail, show
from headwater.cli.remote import Token, Url, remote, segment

__all__ = ["pii_app"]

pii_app = typer.Typer(
    help="PII rules: detect, mask, hash, redact, drop or block personal fields.",
    no_args_is_help=True,
)

_COLUMNS = ["id", "name", "path", "key", "value", "detector", "action", "sources", "destinations"]
_ACTION = Annotated[str, typer.Option(help="allow, mask, hash, redact, drop or block")]
_SOURCES = Annotated[list[int] | None, typer.Option("--source", help="a source id (repeat)")]
_DESTINATIONS = Annotated[
    list[int] | None, typer.Option("--destination", help="a destination id (repeat)")
]


def _path(workspace: str, rest: str = "") -> str:
    return f"/api/v1/workspaces/{segment(workspace)}{rest}"


def _rule(**given: Any) -> dict[str, Any]:
    return {name: value for name, value in given.items() if value not in (None, [])}


@pii_app.command("list")
def pii_list(
    workspace: str = "default", url: Url = None, token: Token = None, json_out: Json = False
) -> None:
    """The workspace's rules, oldest first."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(_path(workspace, "/pii-rules"))
    show(found, json_out=json_out, columns=_COLUMNS)


@pii_app.command("add")
def pii_add(
    action: _ACTION,
    path: Annotated[str | None, typer.Option(help="dotted path; * one segment, ** any")] = None,
    key: Annotated[str | None, typer.Option(help="regular expression on key names")] = None,
    value: Annotated[str | None, typer.Option(help="regular expression on values")] = None,
    detector: Annotated[str | None, typer.Option(help="email, phone, card, iban...")] = None,
    source: _SOURCES = None,
    destination: _DESTINATIONS = None,
    name: str | None = None,
    workspace: str = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Add a rule (at least one of --path, --key, --value, --detector)."""
    body = _rule(
        action=action,
        path=path,
        key=key,
        value=value,
        detector=detector,
        sources=source,
        destinations=destination,
        name=name,
    )
    with remote(url=url, token=token, json_out=json_out) as api:
        made = api.post(_path(workspace, "/pii-rules"), body)
    show(made, json_out=json_out, columns=_COLUMNS)


@pii_app.command("update")
def pii_update(
    rule_id: int,
    action: Annotated[str | None, typer.Option(help="the new action")] = None,
    name: str | None = None,
    enabled: Annotated[bool | None, typer.Option("--enabled/--disabled")] = None,
    workspace: str = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Change a rule's action, name or switch."""
    body = _rule(action=action, name=name, enabled=enabled)
    if not body:
        fail("nothing to change: give --action, --name or --enabled/--disabled")
    with remote(url=url, token=token, json_out=json_out) as api:
        changed = api.call("PATCH", _path(workspace, f"/pii-rules/{rule_id}"), json=body)
    show(changed, json_out=json_out, columns=_COLUMNS)


@pii_app.command("remove")
def pii_remove(
    rule_id: int,
    workspace: str = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Delete a rule."""
    with remote(url=url, token=token, json_out=json_out) as api:
        removed = api.call("DELETE", _path(workspace, f"/pii-rules/{rule_id}"))
    show(removed, json_out=json_out)


@pii_app.command("test")
def pii_test(
    message: Annotated[Path, typer.Argument(help="a JSON file holding one message")],
    source: Annotated[int | None, typer.Option(help="the source to test for")] = None,
    destination: Annotated[int | None, typer.Option(help="and a destination's rules")] = None,
    workspace: str = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Run the rules on a sample message and print the result; nothing is stored."""
    try:
        sample = json.loads(message.read_text())
    except (OSError, ValueError) as error:
        fail(f"cannot read {message}: {error}")
    body = _rule(message=sample, source_id=source, destination_id=destination)
    with remote(url=url, token=token, json_out=json_out) as api:
        answer = api.post(_path(workspace, "/pii-rules/test"), body)
    if json_out:
        show(answer, json_out=True)
        return
    show(answer["fields"], json_out=False, columns=["path", "action", "rule_id", "stage"])
    show(answer["message"] or {"blocked": answer["blocked"]}, json_out=False)


@pii_app.command("inbox")
def pii_inbox(
    workspace: str = "default", url: Url = None, token: Token = None, json_out: Json = False
) -> None:
    """Observed fields that look personal and that no rule classifies yet."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(_path(workspace, "/pii-inbox"))
    show(found, json_out=json_out, columns=["path", "count", "last_seen", "source_ids"])


@pii_app.command("classify")
def pii_classify(
    path: str,
    action: _ACTION,
    workspace: str = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Classify an inbox field: a rule on its path with this action."""
    with remote(url=url, token=token, json_out=json_out) as api:
        made = api.post(_path(workspace, "/pii-inbox/classify"), {"path": path, "action": action})
    show(made, json_out=json_out, columns=_COLUMNS)


@pii_app.command("dismiss")
def pii_dismiss(
    path: str,
    undo: Annotated[bool, typer.Option(help="bring the field back to the inbox")] = False,
    workspace: str = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Mark an inbox field "not personal"."""
    body = {"path": path, "dismissed": not undo}
    with remote(url=url, token=token, json_out=json_out) as api:
        answer = api.post(_path(workspace, "/pii-inbox/dismiss"), body)
    show(answer, json_out=json_out)
