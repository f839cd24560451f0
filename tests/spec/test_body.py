"""Decoding request bodies: gzip, Segment's size limits, and bad JSON, without a server."""

from __future__ import annotations

import gzip
import json
import time
import tracemalloc
import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.errors import BadRequest
from headwater.spec import DecodedRequest, Limits, Unreadable, decode_body

LIMITS = Limits()
KB = 1024


def decode(body: bytes, *, batch: bool = False, gzip: bool = False, **limits: int) -> Any:
    return decode_body(body, gzip=gzip, batch=batch, limits=Limits(**limits) if limits else LIMITS)


def attempt(body: bytes, *, batch: bool, gzip: bool = False, **limits: int) -> Any:
    """The decoded request, or the BadRequest raised."""
    try:
        return decode(body, batch=batch, gzip=gzip, **limits)
    except BadRequest as error:
        return error


def refused(
    body: bytes, code: str, *, batch: bool = False, gzip: bool = False, **limits: int
) -> str:
    with pytest.raises(BadRequest) as caught:
        decode(body, batch=batch, gzip=gzip, **limits)
    assert caught.value.code == code, caught.value.message
    assert caught.value.status == 400
    assert caught.value.body()["success"] is False
    return caught.value.message


def event_of(size: int) -> bytes:
    """A JSON track event of exactly ``size`` bytes."""
    head = b'{"type":"track","userId":"u","event":"E","properties":{"pad":"'
    tail = b'"}}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def batch_of(*items: bytes, **envelope: Any) -> bytes:
    extra = b"".join(
        b',"%s":%s' % (k.encode(), json.dumps(v).encode()) for k, v in envelope.items()
    )
    return b'{"batch":[' + b",".join(items) + b"]" + extra + b"}"


# --- sizes ----------------------------------------------------------------------------------


def test_the_byte_limits_are_segments_and_the_count_limit_fits_a_500kb_sdk_batch() -> None:
    # analytics-python fills batches up to 500 KB: 7,662 of its smallest tracks.
    assert (LIMITS.max_event_bytes, LIMITS.max_request_bytes, LIMITS.max_batch_events) == (
        32 * KB,
        500 * KB,
        10_000,
    )


def test_single_event_at_the_limit_is_read() -> None:
    decoded = decode(event_of(32 * KB))
    assert decoded.items[0][1] == 32 * KB
    assert decoded.items[0][0]["type"] == "track"


def test_single_event_over_32kb_is_a_bad_request() -> None:
    message = refused(event_of(32 * KB + 1), "event_too_large")
    assert "32768" in message


def test_batch_item_over_32kb_is_unreadable_and_the_others_are_read() -> None:
    big = event_of(32 * KB + 1)
    decoded = decode(batch_of(event_of(100), big, event_of(32 * KB)), batch=True)
    sizes = [size for _, size in decoded.items]
    assert sizes == [100, 32 * KB + 1, 32 * KB]
    assert isinstance(decoded.items[1][0], Unreadable)
    assert "exceeds 32768 bytes" in decoded.items[1][0].reason
    assert decoded.items[0][0]["type"] == decoded.items[2][0]["type"] == "track"


def test_request_over_500kb_is_refused() -> None:
    items = [event_of(30 * KB)] * 17  # 510 KB
    refused(batch_of(*items), "request_too_large", batch=True)
    refused(b" " * (500 * KB) + b"{}", "request_too_large")


def test_request_at_500kb_is_read() -> None:
    item = event_of(10 * KB)
    body = batch_of(*[item] * 49)
    body = body[:-1] + b',"pad":"' + b"x" * (500 * KB - len(body) - 9) + b'"}'
    assert len(body) == 500 * KB
    assert len(decode(body, batch=True).items) == 49


def test_request_limit_applies_after_decompression() -> None:
    body = batch_of(*[event_of(30 * KB)] * 17)
    assert len(gzip.compress(body)) < 500 * KB
    refused(gzip.compress(body), "request_too_large", batch=True, gzip=True)


def test_items_past_the_count_limit_are_one_unreadable_and_the_batch_is_read() -> None:
    item = b'{"type":"track","event":"e","userId":"u"}'
    decoded = decode(batch_of(*[item] * 2503), batch=True, max_batch_events=2500)
    assert len(decoded.items) == 2501
    assert all(isinstance(message, dict) for message, _ in decoded.items[:2500])
    past, size = decoded.items[2500]
    assert isinstance(past, Unreadable)
    assert (past.count, size) == (3, 3 * len(item))
    assert past.reason == "batch holds 2503 events: the 3 past the limit of 2500 were not stored"
    assert past.excerpt == item.decode()


def test_limits_are_configurable() -> None:
    decoded = decode(batch_of(b"{}", b"{}", b"{}"), batch=True, max_batch_events=2)
    assert isinstance(decoded.items[2][0], Unreadable)
    assert decoded.items[2][0].count == 1
    decoded = decode(batch_of(b'{"a":"xxxxxxxx"}'), batch=True, max_event_bytes=10)
    assert isinstance(decoded.items[0][0], Unreadable)


def test_a_batch_of_no_object_at_all_is_a_bad_request_and_a_mixed_one_is_read() -> None:
    refused(batch_of(b'[{"type":"track"}]'), "invalid_body", batch=True)
    refused(batch_of(b"[]", b"1", b'"x"'), "invalid_body", batch=True)
    decoded = decode(batch_of(b"[]", b'{"type":"track"}'), batch=True)
    assert [type(message) for message, _ in decoded.items] == [list, dict]
    assert decode(batch_of(), batch=True).items == []


# --- gzip -----------------------------------------------------------------------------------


def test_gzip_body_is_inflated() -> None:
    body = batch_of(event_of(200))
    decoded = decode(gzip.compress(body), batch=True, gzip=True)
    assert decoded.items[0][1] == 200


def test_concatenated_gzip_members_are_all_read() -> None:
    body = batch_of(event_of(200), event_of(300))
    compressed = gzip.compress(body[:50]) + gzip.compress(body[50:])
    assert [size for _, size in decode(compressed, batch=True, gzip=True).items] == [200, 300]


def test_gzip_bomb_stops_at_the_limit() -> None:
    inflated = 50 * 1024 * KB  # 50 MB of spaces, about 50 KB compressed
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b" " * (1024 * KB)
    bomb = b"".join(compressor.compress(chunk) for _ in range(inflated // len(chunk)))
    bomb += compressor.flush()
    assert len(bomb) < 500 * KB
    tracemalloc.start()
    started = time.perf_counter()
    try:
        message = refused(bomb, "request_too_large", batch=True, gzip=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "after decompression" in message
    assert peak < 10 * 500 * KB, f"inflating the bomb used {peak} bytes"
    assert time.perf_counter() - started < 2


def test_many_small_members_add_up_to_the_limit() -> None:
    member = gzip.compress(b" " * (100 * KB))
    refused(member * 6, "request_too_large", gzip=True)


@pytest.mark.parametrize(
    "body",
    [
        gzip.compress(b'{"userId":"u","event":"E"}')[:-6],
        gzip.compress(b'{"userId":"u","event":"E"}')[:10],
        b'{"userId":"u","event":"E"}',
        b"\x1f\x8b",
        b"\x1f\x8b\x08\x00garbage-garbage-garbage",
        b"not gzip at all",
        gzip.compress(b'{"userId":"u"}') + b"trailing garbage",
    ],
    ids=["truncated", "header-only", "plain-json", "magic-only", "bad-deflate", "text", "trailing"],
)
def test_bad_gzip_is_refused(body: bytes) -> None:
    refused(body, "invalid_gzip", gzip=True)


def test_empty_body_with_gzip_flag_is_refused() -> None:
    with pytest.raises(BadRequest) as caught:
        decode(b"", gzip=True)
    assert caught.value.code in {"invalid_gzip", "empty_body"}


# --- JSON -----------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"   ", b"\n\t\r "])
@pytest.mark.parametrize("batch", [False, True])
def test_empty_body_is_refused(body: bytes, batch: bool) -> None:
    refused(body, "empty_body", batch=batch)


@pytest.mark.parametrize(
    "body",
    [
        b'{"userId": "u", "event": "E"',
        b'{"userId": "u", "event": }',
        b"{'userId': 'u'}",
        b'{"userId": "u",}',
        b'{"a": NaN}',
        b'{"a": 1}{"b": 2}',
        b'{"a": 1} x',
        b'{"a": "\x00"}',
        b"\xef\xbb\xbf{}",
        b"undefined",
    ],
    ids=lambda body: repr(body)[:40],
)
@pytest.mark.parametrize("batch", [False, True])
def test_malformed_json_is_refused(body: bytes, batch: bool) -> None:
    if batch:
        body = b'{"batch": [{"a": 1}, ' + body + b"]}"
    refused(body, "invalid_json", batch=batch)


@pytest.mark.parametrize(
    "body",
    [b'{"a": "\xff\xfe"}', b'{"\xc3\x28": 1}', b'{"a": "\xed\xa0\x80"}', b'"\xc0\xaf"'],
    ids=["ff-fe", "bad-continuation", "encoded-surrogate", "overlong"],
)
def test_invalid_utf8_is_refused_alone_and_unreadable_in_a_batch(body: bytes) -> None:
    assert "UTF-8" in refused(body, "invalid_json")
    decoded = decode(b'{"batch": [{"a": 1}, ' + body + b', {"b": 2}]}', batch=True)
    first, bad, last = (item for item, _ in decoded.items)
    assert (first, last) == ({"a": 1}, {"b": 2})
    assert isinstance(bad, Unreadable)
    assert "event is not valid UTF-8" in bad.reason
    assert bad.excerpt is not None
    assert "\ufffd" in bad.excerpt


@pytest.mark.parametrize(
    "body", [b"[]", b'[{"type":"track"}]', b'"track"', b"42", b"null", b"true"]
)
def test_a_single_body_must_be_an_object(body: bytes) -> None:
    refused(body, "invalid_body")


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"{}",
        b'{"batch": {}}',
        b'{"batch": "x"}',
        b'{"batch": null}',
        b'{"batch": [], "context": []}',
        b'{"batch": [], "integrations": "x"}',
        b'{"batch": [], "sentAt": 5}',
        b'{"batch": [], "writeKey": 5}',
    ],
)
def test_a_batch_body_must_be_a_batch_envelope(body: bytes) -> None:
    refused(body, "invalid_body", batch=True)


@pytest.mark.parametrize("bad", [b"1e400", b'{"n": -1e999}', b'{"s": "\xff"}', b'"\xc3\x28"'])
def test_bad_items_in_a_batch_are_unreadable_not_fatal(bad: bytes) -> None:
    decoded = decode(b'{"batch": [{"a": 1}, ' + bad + b', {"b": 2}]}', batch=True)
    first, bad, last = (item for item, _ in decoded.items)
    assert first == {"a": 1}
    assert last == {"b": 2}
    assert isinstance(bad, Unreadable)
    assert bad.reason
    assert "request body" not in bad.reason


def test_non_object_batch_items_are_passed_on() -> None:
    decoded = decode(b'{"batch": [1, "x", null, [], {}]}', batch=True)
    assert [item for item, _ in decoded.items] == [1, "x", None, [], {}]


def test_deep_nesting_is_a_bad_request_not_a_recursion_error() -> None:
    huge = {"max_event_bytes": 10**7, "max_request_bytes": 10**7}
    deep_array = b"[" * 100_000 + b"]" * 100_000
    deep_object = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    refused(deep_array, "invalid_json", **huge)
    refused(b'{"properties":' + deep_object + b"}", "invalid_json", **huge)
    refused(b'{"batch":[],"context":' + deep_object + b"}", "invalid_json", batch=True, **huge)
    message = refused(
        b'{"batch":[{"a":1},' + deep_array + b"]}", "invalid_json", batch=True, **huge
    )
    assert "deeply" in message


def test_deep_nesting_within_the_default_limits() -> None:
    refused(b"[" * 16_000 + b"]" * 16_000, "invalid_json")
    refused(b'{"batch":[' + b"[" * 16_000 + b"]" * 16_000 + b"]}", "invalid_json", batch=True)


def nested(depth: int) -> bytes:
    """A message nested ``depth`` levels deep, the message itself being the first."""
    return b'{"p":' * (depth - 1) + b"{}" + b"}" * (depth - 1)


def test_nesting_up_to_100_levels_is_read() -> None:
    assert decode(nested(100)).items[0][0]["p"]["p"]
    items = b'{"batch": [' + b"[" * 99 + b"{}" + b"]" * 99 + b", {}]}"
    assert isinstance(decode(items, batch=True).items[0][0], list)
    assert not isinstance(decode(b'{"batch": [' + nested(100) + b"]}", batch=True), BadRequest)


def test_nesting_deeper_than_100_levels_is_refused() -> None:
    assert "deeper than 100 levels" in refused(nested(101), "invalid_json")
    decoded = decode(b'{"batch": [{"a": 1}, ' + nested(101) + b"]}", batch=True)
    bad = decoded.items[1][0]
    assert isinstance(bad, Unreadable)
    assert bad.reason == "event is nested deeper than 100 levels"
    assert bad.excerpt is not None
    assert bad.excerpt.startswith('{"p":{"p":')
    assert decoded.items[0][0] == {"a": 1}


def test_batch_context_counts_as_one_level_down() -> None:
    context = b'{"batch": [], "context": ' + nested(99) + b"}"
    assert decode(context, batch=True).context is not None
    deeper = b'{"batch": [], "integrations": ' + nested(100) + b"}"
    refused(deeper, "invalid_json", batch=True)


def test_many_brackets_without_depth_are_fine() -> None:
    wide = b'{"items": [' + b",".join([b'{"a": [1]}'] * 500) + b"]}"
    assert len(decode(wide).items[0][0]["items"]) == 500
    assert decode(b'{"s": "' + b"[" * 500 + b'"}').items[0][0]["s"] == "[" * 500


def test_unreadable_items_keep_an_excerpt() -> None:
    big = event_of(40 * KB)
    decoded = decode(batch_of(big, rb'{"nul": "\u0000", "bad": 1e999}'), batch=True)
    oversize, unparsable = (item for item, _ in decoded.items)
    assert isinstance(oversize, Unreadable)
    assert isinstance(unparsable, Unreadable)
    assert oversize.excerpt == big[:1024].decode()
    assert unparsable.excerpt == '{"nul": "\\u0000", "bad": 1e999}'


# --- what the envelope tells ----------------------------------------------------------------


def test_write_key_in_a_single_body() -> None:
    assert decode(b'{"writeKey": "k1", "userId": "u"}').write_key == "k1"
    assert decode(b'{"writeKey": 5, "userId": "u"}').write_key is None


def test_write_key_in_the_batch_envelope_or_the_first_item_that_has_one() -> None:
    assert (
        decode(b'{"writeKey": "env", "batch": [{"writeKey": "item"}]}', batch=True).write_key
        == "env"
    )
    items = b'{"batch": [{}, {"writeKey": 5}, {"writeKey": "item"}, {"writeKey": "later"}]}'
    assert decode(items, batch=True).write_key == "item"


def test_batch_context_integrations_and_sent_at_are_read() -> None:
    decoded = decode(
        batch_of(
            b"{}",
            context={"ip": "1.2.3.4"},
            integrations={"All": False},
            sentAt="2026-01-01T00:00:00Z",
        ),
        batch=True,
    )
    assert decoded.context == {"ip": "1.2.3.4"}
    assert decoded.integrations == {"All": False}
    assert decoded.sent_at == "2026-01-01T00:00:00Z"


def test_escaped_nul_is_flagged() -> None:
    assert decode(b'{"a": "x\\u0000y"}').has_nul
    assert decode(gzip.compress(b'{"a": "x\\u0000y"}'), gzip=True).has_nul
    assert not decode(b'{"a": "x\\u0001y"}').has_nul


# --- properties -----------------------------------------------------------------------------


def _mutations() -> st.SearchStrategy[bytes]:
    seeds = [
        b'{"batch":[{"type":"track","userId":"u","event":"E","properties":{"a":[1,2.5,null]}}]}',
        b'{"userId":"u","event":"E","context":{"ip":"1.2.3.4"},"timestamp":"2026-01-01"}',
    ]

    def mutate(seed: bytes, cuts: list[tuple[int, bytes]]) -> bytes:
        data = bytearray(seed)
        for position, insert in cuts:
            position %= len(data) + 1
            data[position : position + len(insert)] = insert
        return bytes(data)

    return st.builds(
        mutate,
        st.sampled_from(seeds),
        st.lists(st.tuples(st.integers(0, 200), st.binary(max_size=4)), max_size=4),
    )


_bodies = st.binary(max_size=300) | _mutations()


@settings(max_examples=200, deadline=None)
@given(body=_bodies, batch=st.booleans(), compressed=st.booleans(), gzip_flag=st.booleans())
def test_any_bytes_either_decode_or_raise_bad_request(
    body: bytes, batch: bool, compressed: bool, gzip_flag: bool
) -> None:
    if compressed:
        body = gzip.compress(body)
    decoded = attempt(body, batch=batch, gzip=gzip_flag, max_event_bytes=64)
    if isinstance(decoded, BadRequest):
        assert decoded.code in {
            "empty_body",
            "invalid_body",
            "invalid_gzip",
            "invalid_json",
            "event_too_large",
            "request_too_large",
        }
        assert decoded.message
        return
    assert isinstance(decoded, DecodedRequest)
    for item, size in decoded.items:
        assert size > 0
        if isinstance(item, Unreadable):
            assert item.reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"a": "x\\ud83d"}', "x\ufffd"),
        (b'{"a": "\\udc00x"}', "\ufffdx"),
        (b'{"a": "\\ud83d\\ude00"}', "\U0001f600"),
        (b'{"a": "\\\\ud83d"}', "\\ud83d"),
        (b'{"a": "\\\\\\ud83d"}', "\\\ufffd"),
        (b'{"a": "\\ude00\\ud83d"}', "\ufffd\ufffd"),
    ],
)
def test_lone_surrogate_escapes_become_replacement_characters(raw: bytes, expected: str) -> None:
    decoded = decode_body(raw, gzip=False, batch=False, limits=Limits())
    assert decoded.items[0][0] == {"a": expected}
