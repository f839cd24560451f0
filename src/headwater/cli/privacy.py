"""``headwater privacy``: regulations (deletion and suppression) and suppressions.

>>> headwater privacy regulate --type SUPPRESS_WITH_DELETE --user-id u-1 --user-id u-2
>>> headwater privacy regulate --type UNSUPPRESS --anonymous-id a-1
>>> headwater privacy regulations --workspace default
>>> headwater privacy regulation <regulateId>
>>> headwater privacy suppressions --subject-id u-1      # is u-1 suppressed?
"""

from __future__ import annotations

from typing import Annotated

import typer

from headwater.cli.output import Json, fail, show
from headwater.cli.remote import Token, Url, remote, segment

__all__ = ["privacy_app"]

privacy_app = typer.Typer(
    help="Regulations: delete and suppress people (Segment's regulations API).",
    no_args_is_help=True,
)


def _path(workspace: str, tail: str = "regulations") -> str:
    return f"/api/v1/workspaces/{segment(workspace)}/{tail}"


@privacy_app.command("regulate")
def regulate(
    kind: Annotated[
        str,
        typer.Option(
            "--type",
            help="SUPPRESS_WITH_DELETE, SUPPRESS_WITH_DELETE_INTERNAL, SUPPRESS_ONLY, "
            "DELETE_ONLY, DELETE_INTERNAL or UNSUPPRESS",
        ),
    ],
    user_id: Annotated[list[str] | None, typer.Option("--user-id", help="repeatable")] = None,
    anonymous_id: Annotated[
        list[str] | None, typer.Option("--anonymous-id", help="repeatable")
    ] = None,
    workspace: str = "default",
    source: Annotated[int | None, typer.Option(help="a source regulation")] = None,
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Create a regulation for user ids or anonymous ids (one kind per call; each covers the
    whole person); prints its regulateId."""
    if bool(user_id) == bool(anonymous_id):
        fail("give --user-id or --anonymous-id (one kind per regulation)")
    subject = "USER_ID" if user_id else "ANONYMOUS_ID"
    body = {"regulationType": kind, "subjectType": subject, "subjectIds": user_id or anonymous_id}
    path = _path(workspace) if source is None else f"{_path(workspace)}/sources/{source}"
    with remote(url=url, token=token, json_out=json_out) as api:
        created = api.post(path, body)
    show(created["data"], json_out=json_out)


@privacy_app.command("regulations")
def regulations(
    workspace: str = "default",
    status: Annotated[str | None, typer.Option(help="only of this status")] = None,
    count: Annotated[int, typer.Option(help="at most this many, newest first")] = 50,
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """The workspace's regulations, newest first (subjects shown as digests)."""
    query: dict[str, object] = {"pagination.count": count}
    if status is not None:
        query["status"] = status
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(_path(workspace), **query)
    rows = found["data"]["regulations"]
    for row in rows:
        row["subjects"] = len(row["subjects"])
    show(
        rows,
        json_out=json_out,
        columns=["id", "regulationType", "subjectType", "subjects", "status", "createdAt"],
    )


@privacy_app.command("regulation")
def regulation(
    regulate_id: str,
    workspace: str = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """One regulation: its status, each destination's and each subject's."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(f"{_path(workspace)}/{segment(regulate_id)}")
    show(found["data"]["regulation"], json_out=json_out)


@privacy_app.command("suppressions")
def suppressions(
    workspace: str = "default",
    subject_id: Annotated[str | None, typer.Option(help="show whether this id is")] = None,
    subject_type: Annotated[str, typer.Option(help="USER_ID or ANONYMOUS_ID")] = "USER_ID",
    count: Annotated[int, typer.Option(help="at most this many")] = 200,
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """The workspace's suppressed identifiers (as digests; an id you name, in clear)."""
    query: dict[str, object] = {"pagination.count": count, "subjectType": subject_type}
    if subject_id is not None:
        query["subjectId"] = subject_id
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(_path(workspace, "suppressions"), **query)
    rows = [
        {"subjectType": group["subjectType"], "subjectId": value}
        for group in found["data"]["suppressed"]
        for value in group["subjectIds"]
    ]
    show(rows, json_out=json_out, columns=["subjectType", "subjectId"])
