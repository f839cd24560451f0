"""``headwater privacy``: regulations (deletion and suppression), suppressions and subject
access exports.

>>> headwater privacy regulate --type SUPPRESS_WITH_DELETE --user-id u-1 --user-id u-2
>>> headwater privacy regulate --type UNSUPPRESS --anonymous-id a-1
>>> headwater privacy regulations --workspace default
>>> headwater privacy regulation <regulateId>
>>> headwater privacy suppressions --subject-id u-1      # is u-1 suppressed?
>>> headwater privacy export --user-id u-1                      # queued: the job
>>> headwater privacy export --user-id u-1 --wait -o u-1.json   # waits, then downloads
>>> headwater privacy export --anonymous-id a-1 --wait --format csv -o a-1.zip
>>> headwater privacy exports                                   # the workspace's exports
>>> headwater privacy download 12 --format csv -o u-1.zip
>>> headwater privacy retention dry-run                         # see cli/retention.py
"""

from __future__ import annotations

import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer

from headwater.cli.output import Json, console, fail, show, spinner
from headwater.cli.remote import Api, Token, Url, decoded, remote, segment
from headwater.cli.retention import retention_app

__all__ = ["privacy_app"]

privacy_app = typer.Typer(
    help=(
        "Privacy: delete and suppress people (Segment's regulations API), export"
        " everything held about one person, and retention."
    ),
    no_args_is_help=True,
)
privacy_app.add_typer(retention_app, name="retention")

_COLUMNS = ["id", "subject_type", "subject_id", "status", "reason", "created_at", "expires_at"]
_POLL = 1.0
Output = Annotated[
    Path | None, typer.Option("--output", "-o", help="write the file here (default: stdout)")
]
Format = Annotated[str, typer.Option("--format", help="json (one document) or csv (a ZIP)")]


def _path(workspace: str) -> str:
    return f"/api/v1/workspaces/{segment(workspace)}/privacy/exports"


@privacy_app.command("export")
def privacy_export(
    user_id: Annotated[str | None, typer.Option(help="the person's userId")] = None,
    anonymous_id: Annotated[str | None, typer.Option(help="the person's anonymousId")] = None,
    wait: Annotated[bool, typer.Option(help="wait until it is built, then download it")] = False,
    format: Format = "json",
    output: Output = None,
    workspace: str = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """Export everything held about the person one identifier belongs to (every profile
    merged together). Without --wait, prints the queued job; with it, waits for the job and
    writes the file (a failed job exits 1 with its reason)."""
    if (user_id is None) == (anonymous_id is None):
        fail("give one of --user-id and --anonymous-id", code=2)
    _check_format(format)
    subject = (
        {"subject_type": "USER_ID", "subject_id": user_id}
        if user_id is not None
        else {"subject_type": "ANONYMOUS_ID", "subject_id": anonymous_id}
    )
    with remote(url=url, token=token, json_out=json_out) as api:
        job = api.post(_path(workspace), subject)
        if not wait:
            show(job, json_out=json_out, columns=_COLUMNS)
            return
        with spinner(f"building export {job['id']}"):
            job = _finished(api, workspace, job["id"])
        if job["status"] == "failed":
            fail(f"export {job['id']} failed: {job['reason']}")
        _download(api, workspace, job["id"], format, output)


@privacy_app.command("exports")
def privacy_exports(
    limit: Annotated[int, typer.Option(help="at most this many, newest first")] = 50,
    workspace: str = "default",
    url: Url = None,
    token: Token = None,
    json_out: Json = False,
) -> None:
    """The workspace's subject access exports, newest first."""
    with remote(url=url, token=token, json_out=json_out) as api:
        found = api.get(_path(workspace), limit=limit)
    show(found, json_out=json_out, columns=_COLUMNS)


@privacy_app.command("download")
def privacy_download(
    export_id: Annotated[int, typer.Argument(help="the export's id")],
    format: Format = "json",
    output: Output = None,
    workspace: str = "default",
    url: Url = None,
    token: Token = None,
) -> None:
    """A finished export's file (needs the pii:read grant)."""
    _check_format(format)
    with remote(url=url, token=token, json_out=False) as api:
        _download(api, workspace, export_id, format, output)


def _check_format(value: str) -> None:
    if value not in ("json", "csv"):
        fail(f"--format is json or csv, not {value!r}", code=2)


def _finished(api: Api, workspace: str, export_id: int) -> Any:
    while True:
        job = api.get(f"{_path(workspace)}/{export_id}")
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(_POLL)


def _download(api: Api, workspace: str, export_id: int, format: str, output: Path | None) -> None:
    try:
        sink = nullcontext(sys.stdout.buffer) if output is None else output.open("wb")
    except OSError as error:
        fail(f"cannot write {output}: {error.strerror}", code=2)
    with sink as into:
        _stream(api, f"{_path(workspace)}/{export_id}/download", format, into)
    if output is not None:
        console.print(f"wrote {output}")


def _stream(api: Api, path: str, format: str, sink: BinaryIO) -> None:
    with api.client.stream("GET", path, params={"format": format}) as response:
        if response.status_code >= 400:
            response.read()
            decoded(response)
        for chunk in response.iter_bytes():
            sink.write(chunk)


def _regulations_path(workspace: str, tail: str = "regulations") -> str:
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
    path = (
        _regulations_path(workspace)
        if source is None
        else f"{_regulations_path(workspace)}/sources/{source}"
    )
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
        found = api.get(_regulations_path(workspace), **query)
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
        found = api.get(f"{_regulations_path(workspace)}/{segment(regulate_id)}")
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
        found = api.get(_regulations_path(workspace, "suppressions"), **query)
    rows = [
        {"subjectType": group["subjectType"], "subjectId": value}
        for group in found["data"]["suppressed"]
        for value in group["subjectIds"]
    ]
    show(rows, json_out=json_out, columns=["subjectType", "subjectId"])
