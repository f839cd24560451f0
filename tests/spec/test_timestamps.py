"""ISO-8601 parsing and the one stored form (UTC, milliseconds, ``Z``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.spec import format_timestamp, parse_timestamp


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05.000Z"),
        ("2026-01-02T03:04:05z", "2026-01-02T03:04:05.000Z"),
        ("2026-01-02T03:04:05+00:00", "2026-01-02T03:04:05.000Z"),
        ("2026-01-02T03:04:05-00:00", "2026-01-02T03:04:05.000Z"),
        ("2026-01-02T03:04:05+05:30", "2026-01-01T21:34:05.000Z"),
        ("2026-01-02T03:04:05-0800", "2026-01-02T11:04:05.000Z"),
        ("2026-01-02T03:04:05+0530", "2026-01-01T21:34:05.000Z"),
        ("2026-01-02T03:04:05", "2026-01-02T03:04:05.000Z"),
        ("2026-01-02 03:04:05Z", "2026-01-02T03:04:05.000Z"),
        ("2026-01-02T03:04Z", "2026-01-02T03:04:00.000Z"),
        ("  2026-01-02T03:04:05Z  ", "2026-01-02T03:04:05.000Z"),
        ("2026-01-02", "2026-01-02T00:00:00.000Z"),
        ("20260102", "2026-01-02T00:00:00.000Z"),
        ("20260102T030405Z", "2026-01-02T03:04:05.000Z"),
        ("20260102T030405.250+0100", "2026-01-02T02:04:05.250Z"),
        ("2026-01-02T03:04:05,123Z", "2026-01-02T03:04:05.123Z"),
        ("2026-12-31T23:30:00-01:00", "2027-01-01T00:30:00.000Z"),
    ],
)
def test_every_iso_form(text: str, stored: str) -> None:
    parsed = parse_timestamp(text)
    assert parsed.tzinfo is not None
    assert parsed.utcoffset() == timedelta(0)
    assert format_timestamp(parsed) == stored


@pytest.mark.parametrize(
    ("fraction", "millis"),
    [
        ("1", "100"),
        ("12", "120"),
        ("123", "123"),
        ("1234", "123"),
        ("12345", "123"),
        ("123456", "123"),
        ("1234567", "123"),
        ("12345678", "123"),
        ("123456789", "123"),
        ("999999999", "999"),
    ],
)
def test_one_to_nine_fraction_digits(fraction: str, millis: str) -> None:
    for offset in ("Z", "+00:00", ""):
        parsed = parse_timestamp(f"2026-01-02T03:04:05.{fraction}{offset}")
        assert format_timestamp(parsed) == f"2026-01-02T03:04:05.{millis}Z"


def test_nanoseconds_keep_microseconds() -> None:
    assert parse_timestamp("2026-01-02T03:04:05.123456789Z").microsecond == 123456


def test_no_offset_means_utc() -> None:
    assert parse_timestamp("2026-01-02T03:04:05") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        # Segment's documented batch example writes this date.
        ("2015-2-02T00:30:08.276Z", "2015-02-02T00:30:08.276Z"),
        ("2015-12-2T01:02:03+01:00", "2015-12-02T00:02:03.000Z"),
        ("2015-2-2", "2015-02-02T00:00:00.000Z"),
    ],
)
def test_a_one_digit_month_or_day_is_read(text: str, stored: str) -> None:
    assert format_timestamp(parse_timestamp(text)) == stored


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "garbage",
        "now",
        "12345",
        "1700000000000",
        "2026-13-01",
        "2026-01-32",
        "2026-02-30T00:00:00Z",
        "2026-01-02T25:00:00Z",
        "2026-01-02T03:60:00Z",
        "2026-01-02T03:04:05+25:00",
        "2026-01-02T03:04:05ZZ",
        "2026-01-02T03:04:05Z+01:00",
        "0000-01-01",
        "2026/01/02",
        "02/01/2026",
        "Fri, 02 Jan 2026 03:04:05 GMT",
        "2026-01-02T03:04:05.123456789" + "0" * 60 + "Z",
        "x" * 1000,
        "\x00",
        "2026-1-123",
        "2026-0-01",
    ],
)
def test_invalid_strings_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="ISO-8601"):
        parse_timestamp(text)


@pytest.mark.parametrize(
    "text",
    ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00+23:59"],
)
def test_out_of_range_after_utc_conversion_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="out of range"):
        parse_timestamp(text)


@pytest.mark.parametrize("year", [1, 9, 99, 999, 1000, 2026, 9999])
def test_format_writes_four_digit_years(year: int) -> None:
    text = format_timestamp(datetime(year, 1, 2, 3, 4, 5, 678000, tzinfo=UTC))
    assert text == f"{year:04d}-01-02T03:04:05.678Z"
    assert parse_timestamp(text) == datetime(year, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def test_format_converts_to_utc() -> None:
    local = datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=timezone(timedelta(hours=-5)))
    assert format_timestamp(local) == "2026-01-02T08:04:05.999Z"


_offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
_aware = st.datetimes(
    min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=_offsets
)


@settings(max_examples=200, deadline=None)
@given(_aware)
def test_format_parse_round_trips_at_millisecond_precision(value: datetime) -> None:
    text = format_timestamp(value)
    parsed = parse_timestamp(text)
    assert format_timestamp(parsed) == text
    expected = value.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000)
    assert parsed == expected


@settings(max_examples=200, deadline=None)
@given(_aware, st.sampled_from(["%Y-%m-%dT%H:%M:%S.%f%z", "%Y%m%dT%H%M%S.%f%z"]))
def test_any_offset_and_layout_parses_to_the_same_instant(value: datetime, layout: str) -> None:
    text = f"{value.year:04d}" + value.strftime(layout)[len(str(value.year)) :]
    assert parse_timestamp(text) == value


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_parse_only_ever_returns_utc_or_raises_value_error(text: str) -> None:
    try:
        parsed = parse_timestamp(text)
    except ValueError:
        return
    assert parsed.utcoffset() == timedelta(0)
    parse_timestamp(format_timestamp(parsed))
