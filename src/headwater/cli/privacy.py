"""``headwater privacy``: subject access exports.

>>> headwater privacy export --user-id u-1                      # queued: the job
>>> headwater privacy export --user-id u-1 --wait -o u-1.json   # waits, then downloads
>>> headwater privacy export --anonymous-id a-1 --wait --format csv -o a-1.zip
>>> headwater privacy exports                                   # the workspace's exports
>>> headwater privacy download 12 --format csv -o u-1.zip
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

__all__ = ["privacy_app"]

privacy_app = typer.Typer(
    help="Privacy: subject access exports (everything held about one person).",
    no_args_is_help=True,
)

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
