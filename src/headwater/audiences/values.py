"""What a JSON value means to the condition language: equality, numbers, strings, dates, paths.

Pure functions shared by the in-memory evaluator (``evaluate.py``); ``sql.py`` states the same
rules in SQL, and ``tests/audiences/test_agreement.py`` checks that the two agree.

Values are decoded with :func:`decode` (numbers with a fraction become :class:`~decimal.Decimal`,
so that ``0.1`` means exactly what it means to PostgreSQL's ``numeric``):

>>> decode('{"price": 0.1}')
{'price': Decimal('0.1')}
>>> same(1, Decimal("1.0")), same(True, 1), same("1", 1)
(True, False, False)
>>> parse_moment("2026-03-01T10:00:00+02:00")
datetime.datetime(2026, 3, 1, 8, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec

__all__ = [
    "ISO_MOMENT",
    "decode",
    "encode",
    "is_number",
    "lookup",
    "parse_moment",
    "same",
    "split_path",
]

ISO_MOMENT = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"(Z|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)?)?$"
)
"""The date strings the language reads as moments (the same regular expression in SQL): an
ISO-8601 date, or date and time with an optional UTC offset. A moment without an offset is
UTC. Anything else (``"yesterday"``, ``"03/01/2026"``, ``"2026-02-30"``) is not a date."""

_MOMENT = re.compile(ISO_MOMENT, re.ASCII)


def decode(text: str | bytes) -> Any:
    """JSON with exact decimals: numbers with a fraction or exponent become ``Decimal``."""
    return json.loads(text, parse_float=Decimal)


_ENCODER = msgspec.json.Encoder(decimal_format="number")


def encode(value: Any) -> str:
    """JSON text of a decoded value, decimals written exactly (``Decimal("0.10")`` → ``0.10``)."""
    return _ENCODER.encode(value).decode()


def is_number(value: Any) -> bool:
    """A JSON number: ``int`` or ``Decimal``; ``bool`` is not a number."""
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def same(left: Any, right: Any) -> bool:
    """JSON equality as PostgreSQL's ``jsonb =``: numbers by value, no coercion between types."""
    if is_number(left) and is_number(right):
        return bool(left == right)
    if type(left) is not type(right):
        return False
    if isinstance(left, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    return bool(left == right)


def split_path(path: str) -> list[str]:
    """``"address.city"`` → ``["address", "city"]``: a dotted path into nested objects."""
    return path.split(".")


def lookup(container: Mapping[str, Any] | None, path: Sequence[str]) -> Any:
    """The value at ``path``, or ``None`` when it is missing or JSON ``null`` (the same thing
    to every operator)."""
    value: Any = container
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def parse_moment(value: Any) -> datetime | None:
    """A date string (see :data:`ISO_MOMENT`) as an aware UTC datetime, else ``None``."""
    if not isinstance(value, str) or not _MOMENT.fullmatch(value):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None  # matches the shape but is no date, like 2026-02-30
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None
