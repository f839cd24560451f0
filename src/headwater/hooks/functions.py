"""The transformation language's functions and the value helpers they share with its
evaluator (pure). Each function takes and returns JSON values; a bad argument is an
:class:`ExpressionError` in words, never a Python exception.

>>> call("join", [["a", "b"], "-"])
'a-b'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

__all__ = ["FUNCTIONS", "MAX_STRING", "ExpressionError", "call", "is_index", "is_number", "member"]

MAX_STRING = 100_000


class ExpressionError(ValueError):
    """The expression does not parse, or its evaluation failed or went over a limit; the
    message says which, in words for the person who wrote it."""


def member(container: Any, key: Any) -> Any:
    """An object's key or a list's index (negative from the end); None when missing."""
    if isinstance(container, dict):
        return container.get(str(key)) if not isinstance(key, bool) else None
    if isinstance(container, list) and isinstance(key, int) and not isinstance(key, bool):
        return container[key] if -len(container) <= key < len(container) else None
    return None


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def call(name: str, args: list[Any]) -> Any:
    function, arity = FUNCTIONS[name]
    low, high = arity
    if not low <= len(args) <= high:
        raise ExpressionError(f"{name}() takes {low}-{high} arguments, not {len(args)}")
    try:
        return function(*args)
    except (TypeError, ValueError, AttributeError, OverflowError) as error:
        if isinstance(error, ExpressionError):
            raise
        raise ExpressionError(f"{name}() cannot take these arguments") from None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def is_index(part: str) -> bool:
    """Does ``part`` of a path read as a list index (ASCII digits, maybe after a minus)?
    ``str.isdigit`` alone also holds for ``³``, which ``int`` refuses."""
    digits = part.removeprefix("-")
    return digits.isascii() and digits.isdigit()


def _path(value: Any, path: str, default: Any = None) -> Any:
    for part in path.split(".") if path else []:
        value = member(value, int(part) if is_index(part) else part)
        if value is None:
            return default
    return value


def _from_unix(seconds: Any) -> str:
    if not is_number(seconds):
        raise ExpressionError("from_unix() needs a number of seconds")
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _merge(*objects: Any) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for one in objects:
        if not isinstance(one, dict):
            raise ExpressionError("merge() takes objects")
        merged.update(one)
    return merged


def _fits(length: int) -> None:
    """Refuse, before building it, a string longer than :data:`MAX_STRING`."""
    if length > MAX_STRING:
        raise ExpressionError(f"a string grew over {MAX_STRING} characters")


def _join(items: Any, separator: Any = "") -> str:
    if not isinstance(items, list):
        raise ExpressionError("join() takes a list")
    parts = [_text(i) for i in items]
    _fits(sum(len(p) for p in parts) + len(str(separator)) * len(parts))
    return str(separator).join(parts)


def _replace(value: Any, old: Any, new: Any) -> str:
    text, old, new = str(value), str(old), str(new)
    _fits(len(text) + text.count(old) * len(new) if old else len(text) * (len(new) + 1))
    return text.replace(old, new)


FUNCTIONS: dict[str, tuple[Callable[..., Any], tuple[int, int]]] = {
    "len": (lambda v: len(v) if isinstance(v, str | list | dict) else 0, (1, 1)),
    "lower": (lambda v: str(v).lower(), (1, 1)),
    "upper": (lambda v: str(v).upper(), (1, 1)),
    "trim": (lambda v: str(v).strip(), (1, 1)),
    "str": (_text, (1, 1)),
    "int": (lambda v: int(float(v)) if not isinstance(v, bool) else int(v), (1, 1)),
    "float": (lambda v: float(v), (1, 1)),
    "round": (lambda v, n=0: round(v, int(n)), (1, 2)),
    "abs": (lambda v: abs(v), (1, 1)),
    "keys": (lambda v: list(v) if isinstance(v, dict) else [], (1, 1)),
    "values": (lambda v: list(v.values()) if isinstance(v, dict) else [], (1, 1)),
    "merge": (_merge, (1, 8)),
    "split": (lambda v, sep: str(v).split(str(sep)), (2, 2)),
    "join": (_join, (1, 2)),
    "replace": (_replace, (3, 3)),
    "starts_with": (lambda v, p: str(v).startswith(str(p)), (2, 2)),
    "coalesce": (lambda *vs: next((v for v in vs if v is not None), None), (1, 8)),
    "get": (_path, (2, 3)),
    "sha256": (lambda v: hashlib.sha256(_text(v).encode()).hexdigest(), (1, 1)),
    "from_unix": (_from_unix, (1, 1)),
    "sum": (lambda v: sum(x for x in v if is_number(x)), (1, 1)),
}
"""Name -> (function, (fewest, most) arguments). Each returns a JSON value."""
