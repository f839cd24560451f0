"""``headwater privacy retention``: the workspace's retention windows, a dry run of what they
would remove now, and removing it now (docs/privacy.md, Retention).

>>> headwater privacy retention show
>>> headwater privacy retention set events 30                 # the workspace's window
>>> headwater privacy retention set events 7 --source 12      # a source's own window
>>> headwater privacy retention unset events --source 12
>>> headwater privacy retention dry-run                       # what would go now: a table
>>> headwater privacy retention apply --yes                   # remove it now
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from headwater.cli.output import Json, fail, out, show
from headwater.cli.remote import Api, Token, Url, remote, segment

__all__ = ["retention_app"]

retention_app = typer.Typer(
    help=(
        "Retention: windows per store (and per source), a dry run of what they would remove"
        " now, and removing it now."
    ),
    no_args_is_help=True,
)

STORES = ("events", "rejections", "quarantine", "delivery_logs", "journey_history")
_WINDOW_COLUMNS = ["store", "source_id", "days", "updated_at"]
_ITEM_COLUMNS = [
    "store",
    "action",
    "partition",
    "source_id",
    "destination_id",
    "journey_id",
    "rows",
]

Store = Annotated[str, typer.Argument(help=", ".join(STORES))]
Source = Annotated[
    int | None,
    typer.Option("--source", help="a source's own window (events, rejections, quarantine)"),
]
Workspace = Annotated[str, typer.Option("--workspace", help="workspace slug")]


def _path(workspace: str, tail: str = "") -> str:
    return f"/api/v1/workspaces/{segment(workspace)}/retention{tail}"


def _check_store(store: str) -> None:
    if store not in STORES:
        fail(f"the store is one of {', '.join(STORES)}, not {store!r}", code=2)


def _show_windows(found: Any, *, json_out: bool) -> None:
    if json_out:
        show(found, json_out=True)
        return
    default = found["default_days"]
    show(found["windows"], json_out=False, columns=_WINDOW_COLUMNS, title="windows")
    kept = "kept until a window is set" if default is None else f"{default} days"
    out.print(f"stores and sources without a window: {kept}", highlight=False)


def _replace(api: Api, workspace: str, windows: list[dict[str, Any]]) -> Any:
    return api.call("PUT", _path(workspace), json={"windows": windows})


def _others(found: Any, store: str, source: int | None) -> list[dict[str, Any]]:
    """The workspace's windows but the one of ``store`` (and ``source``), as the API sets them."""
    return [
        {"store": w["store"], "source_id": w["source_id"], "days": w["days"]}
        for w in found["windows"]
        if (w["store"], w["source_id"]) != (store, source)
    ]


@retention_app.command("show")
def retention_show(
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """The workspace's windows per store and source, and the install's default."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(_path(workspace))
    _show_windows(found, json_out=json_out)


@retention_app.command("set")
def retention_set(
    store: Store,
    days: Annotated[int, typer.Argument(help="rows older than this many days go (1 to 36500)")],
    source: Source = None,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Set one window (the workspace's for a store, or a source's with --source), keeping the
    others. It takes effect at the next retention round, or with `apply`."""
    _check_store(store)
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(_path(workspace))
        window = {"store": store, "source_id": source, "days": days}
        changed = _replace(api, workspace, [*_others(found, store, source), window])
    _show_windows(changed, json_out=json_out)


@retention_app.command("unset")
def retention_unset(
    store: Store,
    source: Source = None,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Remove one window: that store (or source) falls back to the workspace's window or the
    install's default."""
    _check_store(store)
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(_path(workspace))
        kept = _others(found, store, source)
        if len(kept) == len(found["windows"]):
            fail(f"no window for {store}" + (f" of source {source}" if source else ""), code=2)
        changed = _replace(api, workspace, kept)
    _show_windows(changed, json_out=json_out)


def _show_plan(plan: Any, *, json_out: bool, verb: str) -> None:
    if json_out:
        show(plan, json_out=True)
        return
    show(plan["items"], json_out=False, columns=_ITEM_COLUMNS, title=f"as of {plan['as_of']}")
    out.print(f"{plan['rows']} rows {verb}", highlight=False)


@retention_app.command("dry-run")
def retention_dry_run(
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """What retention would remove now for the workspace, removing nothing: a row per day of
    the log dropped whole (drop_partition) or per store and source whose rows are deleted
    (delete_rows), with the rows counted."""
    with remote(url=url, token=token, json_out=json_out) as api:
        plan = api.post(_path(workspace, "/dry-run"))
    _show_plan(plan, json_out=json_out, verb="would go")


@retention_app.command("apply")
def retention_apply(
    yes: Annotated[
        bool, typer.Option("--yes", help="remove for good what `dry-run` shows, without asking")
    ] = False,
    workspace: Workspace = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Enforce the windows now: remove for good what `dry-run` shows. Asks first on a
    terminal; elsewhere (a script) it needs --yes."""
    if not yes:
        if not sys.stdin.isatty():
            fail("apply removes data for good: pass --yes (see `retention dry-run` first)", code=2)
        if not typer.confirm(f"Remove what retention drops now in {workspace!r}, for good?"):
            fail("nothing removed", code=1)
    with remote(url=url, token=token, json_out=json_out) as api:
        plan = api.post(_path(workspace, "/apply"))
    _show_plan(plan, json_out=json_out, verb="removed")
