"""What the CLI prints: tables for people, JSON for scripts (``--json``), messages on stderr.

>>> show([{"id": 1, "name": "web"}], json_out=False, columns=["id", "name"])   # a table
>>> show([{"id": 1, "name": "web"}], json_out=True)                            # JSON
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import msgspec
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

__all__ = [
    "Json",
    "console",
    "fail",
    "json_option",
    "out",
    "pick",
    "print_json",
    "progress",
    "read_input",
    "show",
    "spinner",
    "write_out",
]

console = Console(stderr=True, soft_wrap=True)
"""Messages and progress: stderr, so that stdout holds only the data."""
out = Console(width=None if sys.stdout.isatty() or "COLUMNS" in os.environ else 1000)
"""The data, when it is a table: as wide as the terminal; unbounded when piped, so that no
value (a write key) is cut."""

Json = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


def print_json(value: Any) -> None:
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(value), indent=2).decode() + "\n")


def fail(message: str, *, code: int = 1) -> NoReturn:
    """End the command: ``message`` on stderr in plain words, exit status ``code``."""
    console.print(f"[red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def read_input(path: Path) -> bytes:
    """A file's bytes ('-': stdin); exit status 2 with the reason when it cannot be read."""
    try:
        return sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}", code=2)


def json_option(value: str | None, what: str) -> Any:
    """A JSON command-line value, or '@file' / '@-' (stdin) for one read from elsewhere; exit
    status 2 with the reason when it is not JSON."""
    if value is None:
        return None
    raw = read_input(Path(value[1:] or "-")) if value.startswith("@") else value.encode()
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        fail(f"{what} is not JSON: {error}", code=2)


def write_out(text: str, out: Path | None) -> None:
    """``text`` to the file ``out``, or to stdout without one (exit 2 if it cannot be written)."""
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text)
    except OSError as error:
        fail(f"cannot write {out}: {error.strerror}", code=2)
    console.print(f"wrote {out}")


def pick(row: dict[str, Any], name: str) -> Any:
    """``row[name]``; a dotted name reaches inside (``payload.userId``)."""
    value: Any = row
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    return msgspec.json.encode(value).decode()


def show(
    value: Any,
    *,
    json_out: bool,
    columns: Sequence[str] | None = None,
    title: str | None = None,
) -> None:
    """Print ``value``: JSON with ``json_out``; otherwise a list of objects as a table of
    ``columns`` (default: the first row's keys; ``a.b`` is ``b`` inside ``a``), an object as a
    field/value table."""
    if json_out:
        print_json(value)
        return
    if isinstance(value, list):
        rows = [r if isinstance(r, dict) else {"value": r} for r in value]
        if not rows:
            out.print(f"{title}: none" if title else "(none)", highlight=False)
            return
        names = list(columns or rows[0].keys())
        table = Table(title=title, title_justify="left")
        for name in names:
            table.add_column(name.rsplit(".", 1)[-1], overflow="fold")
        for row in rows:
            table.add_row(*(escape(_cell(pick(row, name))) for name in names))
        out.print(table)
        return
    if isinstance(value, dict):
        table = Table(title=title, title_justify="left")
        table.add_column("field")
        table.add_column("value", overflow="fold")
        for name, item in value.items():
            if columns is None or name in columns:
                table.add_row(escape(name), escape(_cell(item)))
        out.print(table)
        return
    out.print(escape(_cell(value)), highlight=False)


@contextmanager
def spinner(text: str) -> Iterator[None]:
    """A spinner on stderr while one long request runs (nothing when stderr is not a
    terminal)."""
    with console.status(escape(text)):
        yield


@contextmanager
def progress(text: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr; the caller reports how much is done by calling what this
    yields (``done(3)``)."""
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    with bar:
        task = bar.add_task(escape(text), total=total)
        yield lambda completed: bar.update(task, completed=completed)
