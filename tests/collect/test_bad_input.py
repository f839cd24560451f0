"""Bad input on a real server: never a 500, and nothing lost.

Every bad request is answered 400 with ``{"success": false, "code", "message"}``; every bad
event inside a good request is answered 200 and recorded as a rejection with its reason.
"""

from __future__ import annotations

import gzip
import json
import socket
from typing import Any

import httpx
import pytest

from tests.collect.helpers import Source, assert_error, assert_ok, basic

TRACK = {"userId": "u1", "event": "Signed Up"}


def raw_request(
    source: Source, head: bytes, body: bytes = b"", *, half_close: bool = False
) -> tuple[int | None, bytes]:
    """Send bytes as they are (httpx would fix what these tests break); return status, body."""
    port = int(source.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head + body)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                return None, received
            received += chunk
        header, _, rest = received.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in header.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(rest) < length:
            rest += sock.recv(65536)
    return int(header.split(b" ", 2)[1]), rest[:length]


def head(source: Source, path: str, length: int, *extra: str) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{source.url.rsplit(':', 1)[1]}",
        f"Authorization: {basic(source.write_key)}",
        "Content-Type: application/json",
        f"Content-Length: {length}",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# --- the request is bad: 400 with a JSON error, nothing stored ------------------------------


@pytest.mark.parametrize(
    ("path", "content", "code"),
    [
        ("/v1/track", b'{"userId": "u1", "event": "Signed', "invalid_json"),
        ("/v1/batch", b'{"batch": [{"type": "track", "userId": "u1"', "invalid_json"),
        ("/v1/track", b"", "empty_body"),
        ("/v1/batch", b"  \n ", "empty_body"),
        ("/v1/track", b'[{"userId": "u1", "event": "E"}]', "invalid_body"),
        ("/v1/batch", b'[{"type": "track", "userId": "u1", "event": "E"}]', "invalid_body"),
        ("/v1/track", b'"just a string"', "invalid_body"),
        ("/v1/batch", b'{"batch": {"type": "track"}}', "invalid_body"),
        ("/v1/batch", b'{"batch": [], "context": "web"}', "invalid_body"),
        ("/v1/batch", b'{"batch": [], "sentAt": 1700000000}', "invalid_body"),
        ("/v1/batch", b'{"batch": [], "sentAt": "last tuesday"}', "invalid_body"),
        ("/v1/track", b'{"userId": "u\xff\xfe", "event": "E"}', "invalid_json"),
        ("/v1/track", b'{"userId": "u\x00", "event": "E"}', "invalid_json"),
        ("/v1/track", b'{"userId": "u1", "event": "E"} trailing', "invalid_json"),
        ("/v1/track", b"\xef\xbb\xbf" + json.dumps(TRACK).encode(), "invalid_json"),
        (
            "/v1/track",
            b'{"userId": "u1", "event": "E", "properties": {"n": 1e999}}',
            "invalid_body",
        ),
    ],
    ids=lambda value: repr(value)[:30] if isinstance(value, bytes) else str(value),
)
def test_bad_request_bodies_are_400_json(
    source: Source, path: str, content: bytes, code: str
) -> None:
    assert_error(source.post(path, content=content), 400, code)
    assert source.nothing_stored()


def test_bad_gzip_is_400(source: Source) -> None:
    whole = gzip.compress(json.dumps(TRACK).encode())
    for content in (whole[:-8], b"plain text, not gzip", whole + b"garbage"):
        response = source.post("/v1/track", content=content, headers={"Content-Encoding": "gzip"})
        assert_error(response, 400, "invalid_gzip")
    assert source.nothing_stored()


def test_a_600kb_request_is_400(source: Source) -> None:
    items = [{"type": "track", "userId": "u", "event": "E", "properties": {"p": "x" * 20_000}}]
    body = {"batch": items * 30}
    response = source.post("/v1/batch", body)
    assert_error(response, 400, "request_too_large")
    assert source.nothing_stored()


def test_a_600kb_gzip_request_is_400_after_inflating(source: Source) -> None:
    content = gzip.compress(json.dumps({"batch": [TRACK], "pad": "x" * 600_000}).encode())
    assert len(content) < 10_000
    response = source.post("/v1/batch", content=content, headers={"Content-Encoding": "gzip"})
    assert_error(response, 400, "request_too_large")


def test_a_600kb_chunked_request_is_400(source: Source) -> None:
    def chunks() -> Any:
        yield b'{"batch": ['
        for _ in range(30):
            yield json.dumps({**TRACK, "type": "track", "p": "x" * 20_000}).encode() + b","
        yield b"{}]}"

    response = httpx.post(
        f"{source.url}/v1/batch",
        content=chunks(),
        headers={"Authorization": basic(source.write_key)},
        timeout=30,
    )
    assert "content-length" not in response.request.headers
    assert_error(response, 400, "request_too_large")
    assert source.nothing_stored()


def test_content_length_claiming_too_much_is_refused_before_the_body(source: Source) -> None:
    status, body = raw_request(source, head(source, "/v1/track", 600_000), b'{"userId"')
    assert status == 400
    assert json.loads(body)["code"] == "request_too_large"
    assert source.nothing_stored()


def test_content_length_claiming_too_little_cuts_the_json(source: Source) -> None:
    content = json.dumps({**TRACK, "messageId": "cut-1"}).encode()
    status, _ = raw_request(source, head(source, "/v1/track", 20), content)
    # Headwater answers invalid_json for the first 20 bytes; the HTTP server may answer the
    # rest, a broken second request, with its own 400 first. Either way: 400, nothing stored.
    assert status == 400
    assert source.nothing_stored()


def test_content_length_claiming_more_than_sent(source: Source) -> None:
    content = json.dumps({**TRACK, "messageId": "short-1"}).encode()
    status, _ = raw_request(
        source, head(source, "/v1/track", len(content) + 100), content, half_close=True
    )
    assert status in (None, 400)
    assert source.nothing_stored()
    assert_ok(source.post("/v1/track", {**TRACK, "messageId": "after-short"}))


# --- the request is good, some events are bad: 200, rejections recorded ---------------------


def test_wrong_types_become_rejections_with_reason_index_and_payload(source: Source) -> None:
    bad = [
        {"type": "track", "userId": {"id": 1}, "event": "E", "messageId": "wt-1"},
        {"type": "track", "userId": "u1", "event": 42},
        {"type": "identify", "userId": True},
        {"type": "track", "userId": "u1", "event": "E", "properties": ["a", "b"]},
        {"type": "page", "userId": "u1", "context": "web"},
        {"type": "track", "userId": "u1", "event": "E", "timestamp": 1700000000},
        {"type": "track", "userId": "u1", "event": "E", "timestamp": "yesterday"},
        {"type": "purchase", "userId": "u1"},
        {"userId": "u1", "event": "E"},
        "not an object",
        None,
        [1, 2],
        {"type": "alias", "previousId": "p1"},
        {"type": "group", "userId": "u1", "groupId": ["g1"]},
        {"type": "track", "userId": "u1", "event": "E", "messageId": "m" * 101},
    ]
    good = {"type": "track", "userId": "u1", "event": "Kept", "messageId": "wt-good"}
    response = source.post("/v1/batch", {"batch": [*bad, good]})
    assert_ok(response)

    [stored] = source.events()
    assert stored["messageId"] == "wt-good"
    rejections = source.rejections()
    assert [r["index"] for r in rejections] == list(range(len(bad)))
    for rejection, sent in zip(rejections, bad, strict=True):
        assert rejection["reason"]
        assert rejection["payload"] == sent
        assert rejection["sourceId"] == source.id
    reasons = [r["reason"] for r in rejections]
    assert reasons[0].startswith("userId must be a string")
    assert "track requires event" in reasons[1]
    assert reasons[3].startswith("properties must be an object")
    assert "unknown type 'purchase'" in reasons[7]
    assert "type is required" in reasons[8]
    assert "longer than 100" in reasons[14]
    assert rejections[0]["messageId"] == "wt-1"
    assert rejections[0]["type"] == "track"
    assert source.totals() == {"accepted": 1, "duplicates": 0, "rejected": len(bad)}


def test_a_bad_single_event_is_recorded_too(source: Source) -> None:
    assert_ok(source.post("/v1/track", {"userId": "u1", "messageId": "no-event"}))
    [rejection] = source.rejections()
    assert rejection["index"] == 0
    assert rejection["type"] == "track"
    assert rejection["messageId"] == "no-event"
    assert "track requires event" in rejection["reason"]
    assert rejection["payload"] == {"userId": "u1", "messageId": "no-event"}
    assert source.events() == []


def test_unknown_keys_are_kept_in_the_payload(source: Source) -> None:
    body = {**TRACK, "messageId": "uk-1", "myField": {"a": [1, None, True]}, "version": 2}
    assert_ok(source.post("/v1/track", body))
    [stored] = source.events()
    assert stored["myField"] == {"a": [1, None, True]}
    assert stored["version"] == 2


def test_an_event_with_10000_properties_is_rejected_as_oversize(source: Source) -> None:
    properties = {f"property_{i}": i for i in range(10_000)}
    huge = {"type": "track", "userId": "u1", "event": "Huge", "properties": properties}
    small = {"type": "track", "userId": "u1", "event": "Small", "messageId": "small-1"}
    assert_ok(source.post("/v1/batch", {"batch": [small, huge]}))
    assert [event["messageId"] for event in source.events()] == ["small-1"]
    [rejection] = source.rejections()
    assert rejection["index"] == 1
    assert "exceeds 32768 bytes" in rejection["reason"]
    assert isinstance(rejection["payload"], str)
    assert rejection["payload"].startswith('{"type":"track","userId":"u1","event":"Huge"')

    alone = source.post("/v1/track", {"userId": "u1", "event": "Huge", "properties": properties})
    assert "32768" in assert_error(alone, 400, "event_too_large")["message"]


def test_items_the_parser_cannot_read_are_rejections(source: Source) -> None:
    content = (
        b'{"batch": [{"type": "track", "userId": "u1", "event": "E", "messageId": "ok-1"},'
        b' {"type": "track", "userId": "u\xff", "event": "E"},'
        b' {"type": "track", "userId": "u1", "event": "E", "properties": {"n": 1e999}}]}'
    )
    assert_ok(source.post("/v1/batch", content=content))
    assert [event["messageId"] for event in source.events()] == ["ok-1"]
    rejections = source.rejections()
    assert [r["index"] for r in rejections] == [1, 2]
    assert "not valid UTF-8" in rejections[0]["reason"]
    assert rejections[0]["payload"] == '{"type": "track", "userId": "u\ufffd", "event": "E"}'
    assert "invalid" in rejections[1]["reason"]
    assert rejections[1]["payload"].startswith('{"type": "track"')
    assert source.totals() == {"accepted": 1, "duplicates": 0, "rejected": 2}


def test_lone_surrogates_become_replacement_characters_and_pairs_are_kept(
    source: Source,
) -> None:
    lone = (
        b'{"batch": [{"type": "track", "userId": "u1", "event": "\\ud83d cut",'
        b' "messageId": "lone-1", "properties": {"escaped": "\\\\ud83d", "low": "\\udc00"}}]}'
    )
    assert_ok(source.post("/v1/batch", content=lone))
    stored = source.events()[0]
    assert stored["event"] == "\ufffd cut"
    assert stored["properties"] == {"escaped": "\\ud83d", "low": "\ufffd"}
    paired = b'{"userId": "u1", "event": "\\ud83d\\ude00", "messageId": "pair-1"}'
    assert_ok(source.post("/v1/track", content=paired))
    assert [event["event"] for event in source.events()] == ["\ufffd cut", "\U0001f600"]


def test_nul_characters_are_stored_as_replacement_characters(source: Source) -> None:
    content = (
        b'{"batch": [{"type": "track", "userId": "u\\u0000", "event": "Sign\\u0000Up",'
        b' "messageId": "nul-1", "properties": {"k\\u0000": ["\\u0000"]}},'
        b' {"type": "identify", "userId": 5, "traits": [], "messageId": "nul-2\\u0000"}],'
        b' "context": {"note": "a\\u0000b"}, "integrations": {"X\\u0000": true}}'
    )
    assert_ok(source.post("/v1/batch", content=content))
    [stored] = source.events()
    assert stored["userId"] == "u\ufffd"
    assert stored["event"] == "Sign\ufffdUp"
    assert stored["properties"] == {"k\ufffd": ["\ufffd"]}
    assert stored["context"] == {"note": "a\ufffdb"}
    assert stored["integrations"] == {"X\ufffd": True}
    [rejection] = source.rejections()
    assert rejection["messageId"] == "nul-2\ufffd"
    assert rejection["payload"]["messageId"] == "nul-2\ufffd"


def test_nul_in_a_single_event(source: Source) -> None:
    content = b'{"userId": "u1", "event": "E", "messageId": "nul-s", "properties": {"\\u0000": 1}}'
    assert_ok(source.post("/v1/track", content=content))
    assert source.events()[0]["properties"] == {"\ufffd": 1}


def deep_track(depth: int, *, nul: bool = False, batch: bool = False) -> bytes:
    """A track event whose properties nest ``depth`` objects: the message is depth + 1 deep."""
    leaf = b'"\\u0000"' if nul else b"1"
    properties = b'{"a":' * depth + leaf + b"}" * depth
    event = b'{"type": "track", "userId": "u1", "event": "Deep", "properties": ' + properties + b"}"
    return b'{"batch": [' + event + b"]}" if batch else event


@pytest.mark.parametrize("nul", [False, True])
def test_nesting_up_to_100_levels_is_stored(source: Source, nul: bool) -> None:
    assert_ok(source.post("/v1/track", content=deep_track(99, nul=nul)))
    assert_ok(source.post("/v1/batch", content=deep_track(99, nul=nul, batch=True)))
    stored = source.events()
    assert len(stored) == 2
    leaf = stored[0]["properties"]
    for _ in range(98):
        leaf = leaf["a"]
    assert leaf == {"a": "\ufffd" if nul else 1}


@pytest.mark.parametrize("depth", [100, 500, 900, 990, 1000, 2000, 5000])
@pytest.mark.parametrize("nul", [False, True])
def test_deeper_nesting_is_400_or_a_rejection_never_a_500(
    source: Source, depth: int, nul: bool
) -> None:
    assert_error(source.post("/v1/track", content=deep_track(depth, nul=nul)), 400, "invalid_json")
    assert source.nothing_stored()
    batch = source.post("/v1/batch", content=deep_track(depth, nul=nul, batch=True))
    if batch.status_code == 400:  # too deep for the JSON parser itself
        assert_error(batch, 400, "invalid_json")
        assert depth >= 900
        assert source.nothing_stored()
    else:
        assert_ok(batch)
        assert source.events() == []
        [rejection] = source.rejections()
        assert "nested deeper than 100 levels" in rejection["reason"]
        assert rejection["payload"].startswith('{"type": "track"')


def test_anonymous_id_header_with_odd_bytes(source: Source) -> None:
    content = json.dumps({"event": "E", "messageId": "hdr-1"}).encode()
    status, _ = raw_request(
        source, head(source, "/v1/track", len(content), "AnonymousId: caf\xe9"), content
    )
    assert status == 200
    [stored] = source.events()
    assert stored["anonymousId"] == "caf\xe9"
