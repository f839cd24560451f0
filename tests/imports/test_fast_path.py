"""An import's fast path (the worker's :func:`normalise_flat`, MessagePack back to the server,
the PII rules applied there) answers what the tracking API's general path
(:meth:`Collector.normalised`) answers for the same rows: the same events, payloads byte for
byte, and the same rejections; and a whole import through it keeps suppressed people out and
drops duplicates as before."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import text

from headwater import pii
from headwater.collect import store
from headwater.imports.mapping import Mapping, default_mapping
from headwater.imports.reader import read_batches
from headwater.imports.rows import Plan, normalised, packed, prepare, unpacked
from headwater.imports.worker import next_packed
from headwater.spec import (
    Envelope,
    Event,
    Rejection,
    encode_payload_bytes,
    normalise,
    normalise_flat,
    payload_object,
)
from headwater.storage import connected
from headwater.workspaces import identifier_hash, identifier_key
from tests.imports.local import Local, local

__all__ = ["local"]

_NOW = datetime(2026, 12, 7, 6, 0, 0, 123456, tzinfo=UTC)
_LONG = "u" * 600  # over the 512 characters an id may have

_CSV = (
    "user_id,anonymous_id,event,timestamp,email,plan,price,zip,coupon,note\n"
    "u1,,Bought,2026-01-02T03:04:05Z,a@example.com,pro,9.5,00123,true,hello\n"
    "u2,a2,Viewed,2026-01-02T03:04:05.123456789+01:00,b@example.com,free,10,,FALSE,\n"
    ",a3,Viewed,,,,-3,,,x\n"
    "u4,,Bought,yesterday,c@example.com,pro,1e3,,,\n"
    f"{_LONG},,Bought,2026-01-02,d@example.com,,,,,\n"
    "u6,,,2026-01-02T03:04:05Z,,,,,,\n"
    ",,Viewed,2026-01-02T03:04:05Z,,,,,,\n"
    "u8,,  ,2026-01-02T03:04:05Z,,,,,,\n"
    "u9,,Blocked,2026-2-3 04:05:06,e@example.com,vip,,,,\n"
    "u1,,Bought,2026-01-02T03:04:05Z,a@example.com,pro,9.5,00123,true,hello\n"
    "u10,,Bought,2026-01-02T03:04:05,f@example.com,pro,7.25,,,\x00nul\n"
)


def _plan(mapping: Mapping, kind: Any = "events") -> Plan:
    return Plan(workspace_id=1, kind=kind, mapping=mapping, typed_cells=True)


def _messages() -> list[dict[str, Any]]:
    """Messages of every shape: an import's, and others the fast path must hand over."""
    base = {"type": "track", "userId": "u1", "event": "Bought", "messageId": "imp-1"}
    return [
        {**base, "properties": {"price": 9.5}},
        {**base, "timestamp": "2026-01-02T03:04:05Z", "properties": {}},
        {**base, "timestamp": "2026-01-02T03:04:05.123456789+01:00", "properties": {"a": [1]}},
        {**base, "timestamp": "not a time", "properties": {}},
        {**base, "timestamp": "", "properties": {}},
        {**base, "userId": _LONG, "properties": {}},
        *({**base, "userId": "u" * n, "properties": {}} for n in (10, 11, 512, 513)),
        *({**base, "anonymousId": "a" * n, "properties": {}} for n in (10, 11, 512, 513)),
        *({**base, "event": "e" * n, "properties": {}} for n in (3, 4, 512, 513)),
        *({**base, "messageId": "m" * n, "properties": {}} for n in (100, 101)),
        {**base, "userId": "", "properties": {}},
        {**base, "userId": 42, "properties": {}},
        {**base, "event": "  ", "properties": {}},
        {**base, "event": "e" * 600, "properties": {}},
        {**base, "messageId": "m" * 101, "properties": {}},
        {**base, "properties": "not an object"},
        {**base, "properties": {"big": "x" * 40_000}},
        {**base, "context": {"ip": "1.2.3.4"}, "properties": {}},
        {"type": "track", "anonymousId": "a1", "event": "E", "messageId": "imp-2"},
        {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}, "messageId": "imp-3"},
        {"type": "group", "anonymousId": "a", "groupId": "g", "traits": {}, "messageId": "i"},
        {"type": "group", "userId": "u", "groupId": _LONG, "traits": {}, "messageId": "i"},
        {"type": "nonsense", "userId": "u1", "messageId": "imp-4"},
        {"type": "track", "event": "E", "properties": {}, "messageId": "imp-5"},
    ]


def _same(flat: Event | Rejection, general: Event | Rejection) -> None:
    assert type(flat) is type(general)
    if isinstance(flat, Event) and isinstance(general, Event):
        assert encode_payload_bytes(flat.payload) == encode_payload_bytes(general.payload)
        assert list(payload_object(flat)) == list(payload_object(general))  # the keys' order
        flat = msgspec.structs.replace(flat, payload=payload_object(flat))
    assert flat == general


@pytest.mark.parametrize(
    "envelope",
    [
        Envelope(received_at=_NOW),
        Envelope(received_at=_NOW, max_id_chars=10, max_name_chars=3, max_event_bytes=100),
        Envelope(received_at=_NOW, context={"library": {"name": "import"}}),
    ],
    ids=["server", "tight limits", "with context"],
)
def test_the_flat_normalisation_answers_as_the_general_one(envelope: Envelope) -> None:
    encoded = 0
    for index, message in enumerate(_messages()):
        general = normalise(dict(message), index=index, route_type=None, envelope=envelope)
        flat = normalise_flat(dict(message), index=index, envelope=envelope)
        _same(flat, general)
        encoded += isinstance(flat, Event) and isinstance(flat.payload, msgspec.Raw)
    # The flat path's events come encoded (the log's form); a message handed over to the
    # general path (any, with a context to merge) comes as a dict.
    assert (encoded > 0) is (envelope.context is None)


_BIG = 123456789012345678901234567890


def test_an_integer_beyond_64_bits_comes_back_whole(tmp_path: Path) -> None:
    """In an event it travels in the payload's JSON; in a rejection's excerpt of the row,
    which MessagePack cannot carry, the batch comes back pickled."""
    plan = _plan(default_mapping("events", ["user_id", "event", "n"]))
    envelope = Envelope(received_at=_NOW)
    for user, rejected in (("u1", False), (_LONG, True)):
        path = tmp_path / "big.jsonl"
        path.write_text(f'{{"user_id": "{user}", "event": "E", "n": {_BIG}}}\n')
        [batch] = read_batches(path, "jsonl", batch_rows=10)
        sent = packed(batch, first=1, plan=plan, envelope=envelope)
        assert isinstance(sent, bytes) is not rejected
        back = unpacked(sent, received_at=_NOW)
        if rejected:
            assert back == normalised(batch, first=1, plan=plan, envelope=envelope)
            assert back.rejections[0].payload["properties"]["n"] == _BIG
        else:
            assert payload_object(back.events[0])["properties"]["n"] == _BIG


_RULES = [
    {"path": "properties.email", "action": "hash"},
    {"path": "properties.note", "action": "redact"},
    {"path": "properties.zip", "action": "drop"},
    {"path": "properties.price", "action": "allow"},
    {"path": "properties.coupon", "action": "mask"},
    {"path": "userId", "action": "hash"},
    {"value": "vip", "action": "block"},
]


async def test_rows_with_every_pii_action_come_out_as_the_general_path_makes_them(
    local: Local, tmp_path: Path
) -> None:
    for rule in _RULES:
        await pii.create_rule(local.engine, workspace=local.workspace, body=rule)
    local.collector.pii.forget()
    path = tmp_path / "rows.csv"
    path.write_text(_CSV)
    names = _CSV.split("\n", 1)[0].split(",")
    plan = Plan(
        workspace_id=local.source.workspace_id,
        kind="events",
        mapping=default_mapping("events", names),
        typed_cells=True,
    )
    [batch] = read_batches(path, "csv", batch_rows=100)
    envelope = local.collector.server_envelope(_NOW)

    prepared = prepare(batch, first=1, plan=plan)
    events, rejections = await local.collector.normalised(
        local.source, prepared.messages, received_at=_NOW
    )
    made = unpacked(packed(batch, first=1, plan=plan, envelope=envelope), received_at=_NOW)
    fast_events, fast_rejections = await local.collector.governed(
        local.source, [*made.events, *made.rejections]
    )
    fast_rejections.sort(key=lambda r: r.index)

    assert made.errors == prepared.errors
    assert made.rows == prepared.rows == 11
    assert len(fast_events) == len(events) == 5  # u1, u2, a3, u10, and u1 again (same id)
    for fast, general in zip(fast_events, events, strict=True):
        _same(fast, general)
    assert fast_rejections == rejections
    reasons = [r.reason for r in rejections]
    assert reasons[0].startswith("timestamp: not an ISO-8601 timestamp")  # row 4
    assert reasons[1] == "userId is longer than 512 characters"  # row 5
    assert reasons[2].startswith("blocked")  # row 9: the vip
    hashed = payload_object(fast_events[0])
    assert hashed["properties"]["email"] != "a@example.com"
    assert hashed["properties"]["note"] == pii.REDACTED
    assert "zip" not in hashed["properties"]


async def test_an_import_keeps_a_suppressed_person_out_and_drops_a_duplicate(
    local: Local,
) -> None:
    workspace_id = local.source.workspace_id
    async with connected(local.engine) as tx:
        key = await identifier_key(tx, workspace_id)
        digest = identifier_hash(key, "user_id", "gone")
        await store.suppress(tx, workspace_id, [("user_id", digest, digest)], regulation_id="r")
        await tx.connection.commit()
    await local.collector.suppressions.reload(workspace_id)
    csv = (
        "user_id,event,timestamp,plan\n"
        "u1,Bought,2026-01-02T03:04:05Z,pro\n"
        "gone,Bought,2026-01-02T03:04:05Z,pro\n"
        "u1,Bought,2026-01-02T03:04:05Z,pro\n"
        "u2,Viewed,2026-01-03T00:00:00Z,free\n"
    )
    job = await local.run_to_end((await local.upload(csv))["id"])
    assert job["status"] == "done"
    assert (job["imported"], job["duplicates"], job["rejected"]) == (2, 1, 1)
    async with local.engine.connect() as connection:
        stored = (
            await connection.execute(
                text("SELECT user_id, payload::text FROM events WHERE workspace_id = :w"),
                {"w": workspace_id},
            )
        ).all()
    assert sorted(row[0] for row in stored) == ["u1", "u2"]
    assert all("gone" not in row[1] for row in stored)


def test_the_worker_reads_on_or_opens_the_file_again_at_the_row_asked(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("user_id,event\n" + "".join(f"u{i},E\n" for i in range(1, 6)))
    plan = _plan(default_mapping("events", ["user_id", "event"]))
    envelope = Envelope(received_at=_NOW)

    def rows_from(start: int) -> list[int] | None:
        sent = next_packed(path, "csv", start=start, batch_rows=2, plan=plan, envelope=envelope)
        if sent is None:
            return None
        made = unpacked(sent, received_at=_NOW)
        assert [e.user_id for e in made.events] == [f"u{e.index}" for e in made.events]
        return [e.index for e in made.events]

    assert rows_from(1) == [1, 2]
    assert rows_from(3) == [3, 4]
    assert rows_from(3) == [3, 4]  # asked again (the batch before was not committed)
    assert rows_from(2) == [2, 3]  # resumed from another checkpoint
    assert rows_from(4) == [4, 5]
    assert rows_from(6) is None
    assert rows_from(1) == [1, 2]  # a new run of the file


async def test_a_file_unreadable_halfway_ends_its_import_with_the_reason(local: Local) -> None:
    job = await local.upload("user_id,event\nu1,E\nu2,E\n")
    stored = local.settings.resolved_data_dir() / "imports" / f"{job['id']}.csv"
    stored.write_bytes(b"user_id,event\nu1,E\nu2,\xff\xfe\n")  # changed after its survey
    ended = await local.run_to_end(job["id"])
    assert ended["status"] == "failed"
    assert ended["failure"] is not None
    assert ended["failure"].startswith("not a readable CSV file")
