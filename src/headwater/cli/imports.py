"""``headwater import FILE``: upload a file of profiles, events or accounts to a running
Headwater, dry-run or import it, with progress bars and a summary.

    headwater import people.csv --kind profiles --source 3
    headwater import orders.parquet --kind events --source web --event-column action --dry-run
    headwater import accounts.jsonl --kind accounts --source 3 --mapping mapping.json

Without mapping options the server's suggested mapping is used (identifier columns by their
names, every other column a trait or property); each option changes one part of it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from headwater.cli.output import console, fail, print_json, progress, show
from headwater.cli.remote import Api, Token, Url, remote, segment

__all__ = ["import_file"]

_CONTENT_TYPES = {
    ".csv": "text/csv",
    ".jsonl": "application/x-ndjson",
    ".ndjson": "application/x-ndjson",
    ".parquet": "application/vnd.apache.parquet",
    ".pq": "application/vnd.apache.parquet",
}
_CHUNK = 1024 * 1024
_ROLES = ("user_id", "anonymous_id", "group_id", "event", "timestamp", "key")


def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    kind: Annotated[
        str, typer.Option(help="profiles (identify), events (track), accounts (group)")
    ],
    source: Annotated[str, typer.Option(help="the source's id or name")],
    workspace: str = "default",
    file_format: Annotated[
        str | None, typer.Option("--format", help="csv, jsonl or parquet (default: by suffix)")
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="a JSON file with the whole mapping (see docs/imports.md)")
    ] = None,
    user_id: Annotated[str | None, typer.Option(help="the column of userId")] = None,
    anonymous_id: Annotated[str | None, typer.Option(help="the column of anonymousId")] = None,
    group_id: Annotated[str | None, typer.Option(help="the column of groupId")] = None,
    event: Annotated[str | None, typer.Option(help="the column of the event name")] = None,
    timestamp: Annotated[str | None, typer.Option(help="the column of the time")] = None,
    key: Annotated[str | None, typer.Option(help="a column naming each row for good")] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(help="COLUMN or COLUMN=NAME: a trait or property (repeat; replaces the rest)"),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="check every row, import nothing")] = False,
    wait: Annotated[bool, typer.Option(help="follow the import until it ends")] = True,
    url: Url = None,
    token: Token = None,
    json_out: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Import a CSV, JSON Lines or Parquet file into a source (see docs/imports.md)."""
    content_type = _content_type(file, file_format)
    with remote(url=url, token=token, json_out=json_out) as api:
        base = f"/api/v1/workspaces/{segment(workspace)}"
        source_id = _source_id(api, base, source)
        job = _upload(api, base, file, kind, source_id, content_type)
        chosen = _mapping(job["mapping"], mapping, field, locals())
        if not json_out:
            console.print(
                f"import {job['id']}: {job['rows_total']:,} rows, columns "
                + ", ".join(job["columns"])
            )
        if dry_run:
            report = api.post(f"{base}/imports/{job['id']}/dry-run", {"mapping": chosen})
            _print_dry_run(report, json_out=json_out)
            if report["problems"] or report["rejected"]:
                raise typer.Exit(1)
            return
        job = api.post(f"{base}/imports/{job['id']}/start", {"mapping": chosen})
        if wait:
            job = _follow(api, base, job)
        _print_summary(job, json_out=json_out)
        if job["status"] == "failed":
            raise typer.Exit(1)


def _content_type(file: Path, file_format: str | None) -> str:
    if file_format is not None:
        suffix = {"csv": ".csv", "jsonl": ".jsonl", "parquet": ".parquet"}.get(file_format)
        if suffix is None:
            fail(f"unknown format {file_format!r}: use csv, jsonl or parquet", code=2)
        return _CONTENT_TYPES[suffix]
    found = _CONTENT_TYPES.get(file.suffix.lower())
    if found is None:
        fail(f"cannot tell the format of {file.name}: pass --format csv|jsonl|parquet", code=2)
    return found


def _source_id(api: Api, base: str, source: str) -> int:
    if source.isascii() and source.isdigit():
        return int(source)
    named = [s["id"] for s in api.get(f"{base}/sources") if s["name"] == source]
    if len(named) != 1:
        fail(f"no single source named {source!r}: pass its id (headwater sources list)", code=2)
    return int(named[0])


def _upload(
    api: Api, base: str, file: Path, kind: str, source_id: int, content_type: str
) -> dict[str, Any]:
    size = file.stat().st_size
    with progress(f"uploading {file.name}", total=size) as done:

        def chunks() -> Iterator[bytes]:
            sent = 0
            with file.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    sent += len(chunk)
                    done(sent)
                    yield chunk

        job: dict[str, Any] = api.call(
            "POST",
            f"{base}/imports",
            params={"source_id": source_id, "kind": kind, "file_name": file.name},
            content=chunks(),
            headers={"Content-Type": content_type},
        )
    return job


def _mapping(
    suggested: dict[str, Any],
    mapping_file: Path | None,
    fields: list[str] | None,
    options: dict[str, Any],
) -> dict[str, Any]:
    """The suggested mapping, or the file's, with each option given put in."""
    chosen = dict(suggested)
    if mapping_file is not None:
        try:
            chosen = json.loads(mapping_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            fail(f"cannot read the mapping {mapping_file}: {error}", code=2)
    for role in _ROLES:
        if options.get(role) is not None:
            chosen[role] = options[role]
    if fields:
        chosen["fields"] = dict((item.split("=", 1)[0], item.split("=", 1)[-1]) for item in fields)
    return chosen


def _follow(api: Api, base: str, job: dict[str, Any]) -> dict[str, Any]:
    with progress(f"importing {job['file_name']}", total=job["rows_total"]) as done:
        while job["status"] in ("queued", "running"):
            time.sleep(0.5)
            job = api.get(f"{base}/imports/{job['id']}")
            done(job["checkpoint"])
    return job


def _print_dry_run(report: dict[str, Any], *, json_out: bool) -> None:
    if json_out:
        print_json(report)
        return
    for problem in report["problems"]:
        console.print(f"[red]mapping:[/] {problem}")
    console.print(
        f"dry run: {report['rows']:,} rows, {report['valid']:,} would be imported,"
        f" {report['rejected']:,} refused; nothing was written"
    )
    if report["errors"]:
        show(report["errors"], json_out=False, columns=["row", "column", "message"])


def _print_summary(job: dict[str, Any], *, json_out: bool) -> None:
    if json_out:
        print_json(job)
        return
    show(
        [job],
        json_out=False,
        columns=["id", "status", "rows_total", "imported", "duplicates", "rejected"],
    )
    if job["failure"]:
        console.print(f"[red]failed:[/] {job['failure']}")
    if job["errors"]:
        console.print("rows refused (the first ones; all are in `headwater events rejections`):")
        show(job["errors"], json_out=False, columns=["row", "column", "message"])
