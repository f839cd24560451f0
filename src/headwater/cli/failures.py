"""``headwater failures``: events a processor stage failed on alone, and their replay.

>>> headwater failures list --workspace default
>>> headwater failures replay --workspace default          # every open failure
>>> headwater failures replay 12 13 --workspace default     # these two
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from headwater.cli.output import Json, fail, progress, show
from headwater.cli.remote import Api, Token, Url, remote, segment

__all__ = ["failures_app"]

failures_app = typer.Typer(
    help="Processing failures: events set aside so that their partition went on.",
    no_args_is_help=True,
)

_COLUMNS = ["id", "status", "stage", "reason", "message_id", "attempts", "failed_at"]
_CHUNK = 20  # failures a replay request carries: small enough for the bar to move


def _path(workspace: str) -> str:
    return f"/api/v1/workspaces/{segment(workspace)}/failures"


@failures_app.command("list")
def failures_list(
    workspace: str = "default",
    status: Annotated[str, typer.Option(help="open, resolved or all")] = "open",
    limit: Annotated[int, typer.Option(help="at most this many, newest first")] = 50,
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """The workspace's processing failures, newest first: stage, reason and messageId."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(_path(workspace), status=status, limit=limit)
    show(found, json_out=json_out, columns=_COLUMNS)


@failures_app.command("replay")
def failures_replay(
    ids: Annotated[
        list[int] | None, typer.Argument(help="failure ids; none: every open one")
    ] = None,
    workspace: str = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Run open failures through the processor's stages again, once their cause is fixed:
    those that pass are resolved, the others stay open with their new reason."""
    with remote(url=url, token=token, json_out=json_out) as api:
        chosen = list(ids or _every_open(api, workspace))
        if not chosen:
            fail(f"no open failure to replay in workspace {workspace}")
        resolved: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        with progress("replaying", len(chosen)) as advanced:
            for start in range(0, len(chosen), _CHUNK):
                answer = api.post(f"{_path(workspace)}/replay", {"ids": chosen[start:][:_CHUNK]})
                resolved += answer["resolved"]
                failed += answer["failed"]
                advanced(min(start + _CHUNK, len(chosen)))
    if json_out:
        show(
            {"replayed": len(resolved) + len(failed), "resolved": resolved, "failed": failed},
            json_out=True,
        )
        return
    show(resolved + failed, json_out=False, columns=_COLUMNS, title="replayed")


def _every_open(api: Api, workspace: str) -> list[int]:
    """The ids of every open failure, paging newest first."""
    ids: list[int] = []
    before: int | None = None
    while page := api.get(_path(workspace), status="open", limit=1000, before=before):
        ids += [row["id"] for row in page]
        before = page[-1]["id"]
    return ids
