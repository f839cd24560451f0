"""Limits that hold for each event as it will be stored, on a real ``headwater serve``.

What a request adds to each of its messages (a batch-level ``context``, the ``AnonymousId``
header) counts in the event limit; ids and names that are indexed are capped; an event the
database still refuses is rejected alone; a batch over the count limit is never refused whole.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.collect.helpers import Source, assert_ok, new_source
from tests.server import RunningServer, start_server

KB = 1024
EVENT_LIMIT = 33 * KB  # the event limit, plus the 1 KiB normalisation may add


def _track(number: int, **fields: object) -> dict[str, object]:
    return {"type": "track", "userId": f"u{number}", "event": "Limited", **fields}


def _incompressible(chars: int) -> str:
    """Text PostgreSQL cannot compress into an index entry (3,000 "E"s would fit)."""
    return secrets.token_hex(chars // 2)


def _stored_sizes(source: Source) -> list[int]:
    return [len(json.dumps(event, separators=(",", ":"))) for event in source.events()]


def test_a_batch_context_counts_in_each_event_it_is_merged_into(source: Source) -> None:
    # 290 KB once: merged into each of 200 items, it used to store 58 MB.
    context = {"blob": "c" * (290 * KB - 200 * 60)}
    body = {"batch": [_track(n) for n in range(200)], "context": context}
    assert_ok(source.post("/v1/batch", body))
    assert source.events() == []
    rejections = source.rejections()
    assert len(rejections) == 200
    assert all(r["reason"].startswith("event as stored is ") for r in rejections)
    assert rejections[0]["payload"] == _track(0)


def test_a_small_batch_context_is_merged_and_the_events_too_large_with_it_are_rejected(
    source: Source,
) -> None:
    context = {"blob": "c" * (8 * KB)}
    big = _track(1, properties={"blob": "p" * (30 * KB)})
    assert_ok(source.post("/v1/batch", {"batch": [_track(0), big, _track(2)], "context": context}))
    assert [e["userId"] for e in source.events()] == ["u0", "u2"]
    assert all(e["context"]["blob"] == context["blob"] for e in source.events())
    [rejection] = source.rejections()
    assert rejection["index"] == 1
    assert max(_stored_sizes(source)) <= EVENT_LIMIT


def test_the_anonymous_id_header_is_held_to_the_id_limit(source: Source) -> None:
    header = {"AnonymousId": "h" * 4000}
    own = {**_track(1), "anonymousId": "a1"}
    assert_ok(source.post("/v1/batch", {"batch": [_track(0), own]}, headers=header))
    assert [e["anonymousId"] for e in source.events()] == ["a1"]
    [rejection] = source.rejections()
    assert rejection["reason"] == "anonymousId is longer than 512 characters"


def test_an_oversized_header_is_refused_before_anything_is_stored(source: Source) -> None:
    # One 8 MB AnonymousId header was stored as an 8.4 MB event.
    response = source.post("/v1/track", _track(0), headers={"AnonymousId": "h" * (8 * KB * KB)})
    assert response.status_code == 431
    assert source.nothing_stored()


def _rss(server: RunningServer) -> int:
    process = psutil.Process(server.process.pid)
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])


def test_memory_per_request_stays_bounded(source: Source, shared: RunningServer) -> None:
    # A 1 MB header with 200 items took the server from 202 MB to 966 MB; a header as large as
    # the header limit allows, with a batch context as large as the body allows, costs little.
    headers = {"AnonymousId": "h" * (30 * KB)}
    body = {
        "batch": [_track(n) for n in range(200)],
        "context": {"blob": "c" * (400 * KB)},
    }
    before = _rss(shared)
    for _ in range(10):
        assert_ok(source.post("/v1/batch", body, headers=headers))
    growth = _rss(shared) - before
    assert growth < 150 * KB * KB, growth
    assert source.totals() == {"accepted": 0, "duplicates": 0, "rejected": 2000}


def test_an_event_name_too_long_to_index_is_rejected_alone(source: Source) -> None:
    good = [_track(n, messageId=f"good-{n}") for n in range(5)]
    bad = _track(9, event=_incompressible(3000), messageId="too-long")
    assert_ok(source.post("/v1/batch", {"batch": [*good[:2], bad, *good[2:]]}))
    assert sorted(e["messageId"] for e in source.events()) == [f"good-{n}" for n in range(5)]
    [rejection] = source.rejections()
    assert rejection["index"] == 2
    assert rejection["messageId"] == "too-long"
    assert rejection["reason"] == "event is longer than 512 characters"


@pytest.mark.parametrize("field", ["userId", "anonymousId", "groupId", "previousId"])
def test_ids_too_long_to_index_are_rejected_alone(source: Source, field: str) -> None:
    bad = {**_track(9), "type": "group", "groupId": "g", field: "i" * 3000}
    assert_ok(source.post("/v1/batch", {"batch": [_track(0), bad]}))
    assert [e["userId"] for e in source.events()] == ["u0"]
    [rejection] = source.rejections()
    assert rejection["reason"] == f"{field} is longer than 512 characters"


def test_a_batch_over_the_count_limit_is_stored_up_to_it_never_refused(source: Source) -> None:
    # 10,005 small tracks fit in 500 KB: the first 10,000 are stored, the 5 others rejected,
    # recorded once with their number (a body of 170,000 "{}" is one record, not 160,000).
    item = {"type": "track", "userId": "u", "event": "e"}
    assert_ok(source.post("/v1/batch", {"batch": [item] * 10_005}))
    assert source.totals() == {"accepted": 10_000, "duplicates": 0, "rejected": 5}
    [rejection] = source.rejections()
    assert rejection["index"] == 10_000
    assert rejection["reason"] == (
        "batch holds 10005 events: the 5 past the limit of 10000 were not stored"
    )
    assert rejection["payload"] == json.dumps(item, separators=(",", ":"))


@pytest.fixture
def lenient(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    """A server whose edge lets through names the database cannot index."""
    running = start_server(database_url, tmp_path, {"HEADWATER_MAX_NAME_CHARS": "100000"})
    try:
        yield running
    finally:
        running.stop()


def test_events_the_database_refuses_are_rejected_alone_and_the_others_stored(
    lenient: RunningServer,
) -> None:
    source = new_source(lenient)
    batch = [_track(n, messageId=f"good-{n}") for n in range(40)]
    names = {index: _incompressible(3000) for index in (3, 17, 38)}
    for index, name in names.items():
        batch[index] = _track(index, event=name, messageId=f"refused-{index}")
    assert_ok(source.post("/v1/batch", {"batch": batch}))
    good = {f"good-{n}" for n in range(40) if n not in names}
    assert {e["messageId"] for e in source.events()} == good
    rejections = source.rejections()
    assert [r["index"] for r in rejections] == list(names)
    for rejection in rejections:
        assert rejection["messageId"] == f"refused-{rejection['index']}"
        assert rejection["reason"].startswith("the database refused to store this event")
        assert rejection["payload"]["event"] == names[rejection["index"]]
    assert source.totals() == {"accepted": 37, "duplicates": 0, "rejected": 3}
    # A request of that event alone is answered 200 too, and recorded.
    assert_ok(source.post("/v1/track", {"userId": "u", "event": _incompressible(3000)}))
    assert len(source.rejections()) == 4
