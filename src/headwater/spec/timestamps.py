"""ISO-8601 timestamps as the Segment spec uses them.

Clients send every ISO-8601 form: ``Z`` or ``+00:00``, with or without fractions, with
nanosecond fractions (Go, Java) and without an offset. :func:`parse_timestamp` accepts them
all, and a month or day written with one digit (``2015-2-02``, in Segment's own documented
batch example); :func:`format_timestamp` writes the one form Headwater stores (UTC,
milliseconds, ``Z``)::

    >>> format_timestamp(parse_timestamp("2026-11-23T10:00:00.123456789+01:00"))
    '2026-11-23T09:00:00.123Z'
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated

from pydantic import PlainSerializer

__all__ = ["Timestamp", "format_timestamp", "parse_timestamp"]

# Fractions longer than microseconds (nanoseconds from Go or Java clients) are cut to six digits.
_LONG_FRACTION = re.compile(r"([.,]\d{6})\d+")
# A date whose month or day has one digit: padded to two before parsing.
_SHORT_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?=$|[T ])")


def _full_date(text: str) -> bool:
    """Whether ``text`` starts with a date of two-digit month and day (the usual case: no
    padding to do), checked without a regular expression."""
    return (
        len(text) >= 10
        and text[4] == "-"
        and text[7] == "-"
        and text[5:7].isdigit()
        and text[8:10].isdigit()
    )


@lru_cache(maxsize=4096)
def parse_timestamp(value: str) -> datetime:
    """Parse an ISO-8601 string into an aware UTC datetime; a missing offset means UTC.

    Raises ``ValueError`` with a readable message when ``value`` is not ISO-8601.
    """
    text = value.strip()
    if not text or len(text) > 64:
        raise ValueError(f"not an ISO-8601 timestamp: {value[:64]!r}")
    if text[-1] in "zZ":
        text = text[:-1] + "+00:00"
    if "." in text or "," in text:  # no fraction, nothing to cut: no regular expression run
        text = _LONG_FRACTION.sub(r"\1", text)
    if not _full_date(text):
        text = _SHORT_DATE.sub(_pad_date, text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO-8601 timestamp: {value[:64]!r}") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # "0001-01-01T00:00:00+01:00" is before year 1 in UTC
        raise ValueError(f"timestamp out of range: {value[:64]!r}") from None


def _pad_date(match: re.Match[str]) -> str:
    year, month, day = match.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


@lru_cache(maxsize=4096)
def format_timestamp(value: datetime) -> str:
    """Format an aware datetime as UTC with milliseconds and ``Z`` (years padded to four)."""
    utc = value if value.tzinfo is UTC else value.astimezone(UTC)
    return utc.isoformat(timespec="milliseconds")[:-6] + "Z"


Timestamp = Annotated[
    datetime, PlainSerializer(format_timestamp, return_type=str, when_used="json")
]
"""A time in a read model: an aware datetime, written in JSON in :func:`format_timestamp`'s
form, the one form of every time in the management API's answers
(``2026-11-23T09:00:00.123Z``)."""
