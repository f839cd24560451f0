"""Reverse ETL's pure rules, without fixtures: the diff by primary key, row hashes, which
changes each mode sends, the messages and their ids, the sync checks and the schedules."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.errors import BadRequest
from headwater.retl.diff import Differ, DuplicateKey, row_hash
from headwater.retl.model import Mapping, Plan, check_columns, check_sync, message, removal, sends
from headwater.retl.records import decode_mark, encode_mark
from headwater.retl.schedule import Schedule, check_schedule, next_run


def test_row_hash_tells_rows_apart_and_is_stable() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    row = (1, "a", Decimal("1.50"), at, None, date(2026, 1, 2))
    assert row_hash(row) == row_hash(tuple(row))
    assert row_hash(row) != row_hash((1, "a", Decimal("1.5"), at, None, date(2026, 1, 2)))
    assert row_hash((1, "a")) != row_hash(("1", "a"))
    assert row_hash((None, "a")) != row_hash(("a", None))
    assert len(row_hash(row)) == 16


def test_differ_classifies_each_key() -> None:
    state = {"1": row_hash((1, "a")), "2": row_hash((2, "b")), "3": None, "4": row_hash((4,))}
    differ = Differ(state)
    assert differ.see("1", row_hash((1, "a"))) is None
    assert differ.see("2", row_hash((2, "B"))) == "changed"
    assert differ.see("3", row_hash((3,))) == "added"  # never sent: its first attempt failed
    assert differ.see("5", row_hash((5,))) == "added"
    assert differ.removed() == ["4"]
    assert differ.forgotten() == []


def test_never_sent_keys_that_are_gone_are_forgotten_not_removed() -> None:
    differ = Differ({"1": None, "2": row_hash((2,))})
    assert differ.removed() == ["2"]
    assert differ.forgotten() == ["1"]


def test_a_key_seen_twice_is_refused() -> None:
    differ = Differ({})
    differ.see("1", row_hash((1,)))
    with pytest.raises(DuplicateKey):
        differ.see("1", row_hash((1, "other")))


@given(
    before=st.dictionaries(st.text(max_size=3), st.integers(0, 3), max_size=12),
    after=st.dictionaries(st.text(max_size=3), st.integers(0, 3), max_size=12),
)
def test_diff_matches_set_arithmetic(before: dict[str, int], after: dict[str, int]) -> None:
    differ = Differ({k: row_hash((v,)) for k, v in before.items()})
    seen = {k: differ.see(k, row_hash((v,))) for k, v in after.items()}
    assert {k for k, c in seen.items() if c == "added"} == set(after) - set(before)
    assert {k for k, c in seen.items() if c == "changed"} == {
        k for k in set(after) & set(before) if after[k] != before[k]
    }
    assert set(differ.removed()) == set(before) - set(after)


@pytest.mark.parametrize(
    ("mode", "sent"),
    [
        ("insert", {"added"}),
        ("update", {"changed"}),
        ("upsert", {"added", "changed"}),
        ("mirror", {"added", "changed", "removed"}),
    ],
)
def test_what_each_mode_sends(mode: str, sent: set[str]) -> None:
    assert {c for c in ("added", "changed", "removed") if sends(mode, c)} == sent  # type: ignore[arg-type]


def test_message_ids_follow_sync_key_and_row() -> None:
    plan = Plan(sync_id=1, message_type="identify", mapping=Mapping(user_id="id"))
    row = {"id": 7, "plan": "pro"}
    one = message(plan, key="7", row=row, digest=row_hash((7, "pro")))
    assert one == message(plan, key="7", row=row, digest=row_hash((7, "pro")))
    other_row = message(plan, key="7", row=row, digest=row_hash((7, "free")))
    other_sync = message(
        Plan(sync_id=2, message_type="identify", mapping=plan.mapping),
        key="7",
        row=row,
        digest=row_hash((7, "pro")),
    )
    assert len({one["messageId"], other_row["messageId"], other_sync["messageId"]}) == 3
    assert one["userId"] == "7"
    assert one["traits"] == {"plan": "pro"}  # every column but the identifiers, by default


def test_track_and_group_messages() -> None:
    track = Plan(
        sync_id=1,
        message_type="track",
        mapping=Mapping(anonymous_id="visitor", event="Trial Started", fields={"p": "plan"}),
    )
    sent = message(track, key="1", row={"visitor": "v1", "plan": "pro"}, digest=b"x")
    assert (sent["type"], sent["event"], sent["anonymousId"]) == ("track", "Trial Started", "v1")
    assert sent["properties"] == {"p": "pro"}
    group = Plan(
        sync_id=1,
        message_type="group",
        mapping=Mapping(user_id="owner", group_id="account", fields={"name": "name"}),
    )
    gone = removal(group, key="a1", identity={"owner": 5, "account": "a1"}, columns=[], digest=b"")
    assert (gone["groupId"], gone["userId"], gone["traits"]) == ("a1", "5", {"name": None})


@pytest.mark.parametrize(
    ("target", "message_type", "mode", "mapping", "cursor", "problem"),
    [
        ("profiles", "track", "upsert", Mapping(user_id="id"), False, "sends identify or group"),
        ("events", "track", "mirror", Mapping(user_id="id", event="E"), False, "cannot take back"),
        ("profiles", "identify", "mirror", Mapping(user_id="id"), True, "cursor"),
        ("profiles", "identify", "upsert", Mapping(), False, "userId or anonymousId"),
        ("profiles", "group", "upsert", Mapping(user_id="id"), False, "groupId"),
        ("events", "track", "insert", Mapping(user_id="id"), False, "event name"),
        ("warehouse", "identify", "upsert", Mapping(user_id="id"), False, "target must be"),
        ("profiles", "identify", "merge", Mapping(user_id="id"), False, "mode must be"),
    ],
)
def test_sync_checks(
    target: str, message_type: str, mode: str, mapping: Mapping, cursor: bool, problem: str
) -> None:
    with pytest.raises(BadRequest) as raised:
        check_sync(
            target=target, message_type=message_type, mode=mode, mapping=mapping, has_cursor=cursor
        )
    assert raised.value.code == "invalid_sync"
    assert problem in raised.value.message


def test_a_sound_sync_passes_and_columns_are_checked() -> None:
    mapping = Mapping(user_id="id", fields={"email": "mail"})
    check_sync(
        target="destination",
        message_type="identify",
        mode="mirror",
        mapping=mapping,
        has_cursor=False,
    )
    assert check_columns(mapping, ["id", "mail"]) is None
    assert check_columns(mapping, ["id"]) == (
        "the mapping names columns the model does not have: mail"
    )


def test_schedules() -> None:
    start = datetime(2026, 1, 1, 0, 7, tzinfo=UTC)
    assert next_run(Schedule(kind="manual"), after=start) is None
    assert next_run(Schedule(kind="interval", seconds=900), after=start) == datetime(
        2026, 1, 1, 0, 22, tzinfo=UTC
    )
    cron = Schedule(kind="cron", expression="0 6 * * 1")  # Mondays at 06:00 UTC
    assert next_run(cron, after=start) == datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
    on_the_dot = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
    assert next_run(cron, after=on_the_dot) == datetime(2026, 1, 12, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "schedule",
    [
        Schedule(kind="interval", seconds=5),
        Schedule(kind="interval"),
        Schedule(kind="cron"),
        Schedule(kind="cron", expression="61 * * * *"),
        Schedule(kind="cron", expression="every day"),
    ],
)
def test_bad_schedules_are_refused(schedule: Schedule) -> None:
    with pytest.raises(BadRequest) as raised:
        check_schedule(schedule)
    assert raised.value.code == "invalid_schedule"


@pytest.mark.parametrize(
    "value",
    [datetime(2026, 1, 1, tzinfo=UTC), date(2026, 1, 1), Decimal("1.25"), 42, "k-9", None],
)
def test_cursor_marks_round_trip(value: object) -> None:
    assert decode_mark(encode_mark(value)) == value
