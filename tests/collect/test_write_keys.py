"""Where the write key may be, and what happens when it is wrong or its source disabled."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.collect.helpers import Source, api, assert_error, assert_ok, basic, poll
from tests.server import RunningServer

TRACK = {"userId": "u1", "event": "Keyed"}


def test_basic_auth_with_the_colon(source: Source) -> None:
    response = source.post(
        "/v1/track",
        {**TRACK, "messageId": "wk-colon"},
        headers={"Authorization": basic(source.write_key)},
    )
    assert_ok(response)
    assert [event["messageId"] for event in source.events()] == ["wk-colon"]


def test_basic_auth_without_the_colon(source: Source) -> None:
    response = source.post(
        "/v1/track",
        {**TRACK, "messageId": "wk-no-colon"},
        headers={"Authorization": basic(source.write_key, colon=False)},
    )
    assert_ok(response)
    assert [event["messageId"] for event in source.events()] == ["wk-no-colon"]


def test_basic_auth_as_httpx_sends_it(source: Source) -> None:
    response = httpx.post(
        f"{source.url}/v1/identify", json={"userId": "u1"}, auth=(source.write_key, "")
    )
    assert_ok(response)
    assert source.events()[0]["type"] == "identify"


def test_write_key_in_a_single_body(source: Source) -> None:
    body = {**TRACK, "messageId": "wk-body", "writeKey": source.write_key}
    assert_ok(source.post("/v1/track", body, auth=False))
    [stored] = source.events()
    assert stored["messageId"] == "wk-body"
    assert "writeKey" not in stored


def test_write_key_in_the_batch_envelope(source: Source) -> None:
    body = {
        "writeKey": source.write_key,
        "batch": [{**TRACK, "type": "track", "messageId": "wk-envelope"}],
    }
    assert_ok(source.post("/v1/batch", body, auth=False))
    assert [event["messageId"] for event in source.events()] == ["wk-envelope"]


def test_write_key_in_a_batch_item(source: Source) -> None:
    item = {**TRACK, "type": "track", "messageId": "wk-item", "writeKey": source.write_key}
    assert_ok(source.post("/v1/batch", {"batch": [item]}, auth=False))
    [stored] = source.events()
    assert "writeKey" not in stored


@pytest.mark.parametrize("path", ["/beacon/v1/batch", "/v1/batch"])
def test_write_key_in_the_query(source: Source, path: str) -> None:
    # navigator.sendBeacon cannot set headers: analytics.js puts the key in the URL.
    body = {"batch": [{**TRACK, "type": "track", "messageId": f"wk-query-{path}"}]}
    response = source.post(
        path,
        body,
        auth=False,
        params={"writeKey": source.write_key},
        headers={"Content-Type": "text/plain;charset=UTF-8"},
    )
    assert_ok(response)
    assert [event["messageId"] for event in source.events()] == [f"wk-query-{path}"]


def test_no_write_key_is_401(source: Source) -> None:
    assert_error(source.post("/v1/track", TRACK, auth=False), 401, "missing_write_key")
    bearer = {"Authorization": f"Bearer {source.write_key}"}
    assert_error(source.post("/v1/track", TRACK, headers=bearer), 401, "missing_write_key")
    assert source.nothing_stored()


@pytest.mark.parametrize(
    "authorization",
    [
        basic("no-such-key-123"),
        basic("no-such-key-123", colon=False),
        "Basic " + base64.b64encode(b":password").decode(),
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"\xff\xfe:").decode(),
    ],
)
def test_unknown_or_broken_basic_key_is_401(source: Source, authorization: str) -> None:
    response = source.post("/v1/track", TRACK, headers={"Authorization": authorization})
    assert response.status_code == 401
    assert_error(response, 401)
    assert source.nothing_stored()


def test_unknown_key_in_body_and_query_is_401(source: Source) -> None:
    body = {**TRACK, "writeKey": "no-such-key-456"}
    assert_error(source.post("/v1/track", body, auth=False), 401, "invalid_write_key")
    response = source.post(
        "/beacon/v1/batch", {"batch": []}, auth=False, params={"writeKey": "no-such-key-456"}
    )
    assert_error(response, 401, "invalid_write_key")


def _drops(source: Source) -> list[dict[str, object]]:
    return [
        r
        for r in source.rejections(refused_requests=True)
        if str(r["reason"]).startswith("source disabled")
    ]


def test_a_disabled_source_is_answered_its_drops_recorded_then_accepted_again(
    source: Source, shared: RunningServer
) -> None:
    # As Segment: a disabled source is not an unknown key. Its requests get 200, none of their
    # messages is stored, and each drop is recorded with its reason.
    assert_ok(source.post("/v1/track", TRACK))
    api(
        shared,
        "PATCH",
        f"/api/v1/workspaces/{source.workspace}/sources/{source.id}",
        json={"enabled": False},
    )
    # The shared server caches write keys for 0.1 s: well within a second, requests are dropped.
    poll(
        lambda: source.post("/v1/track", TRACK).status_code == 200 and bool(_drops(source)),
        timeout=1,
    )
    stored = len(source.events())
    dropped = len(_drops(source))
    assert_ok(source.post("/v1/batch", {"batch": [{**TRACK, "type": "track"}] * 3}))
    assert_ok(source.post("/v1/track", {**TRACK, "writeKey": source.write_key}, auth=False))
    assert len(source.events()) == stored
    drops = _drops(source)
    assert len(drops) == dropped + 2
    assert drops[-1]["index"] == -1
    assert drops[-1]["payload"] == {"bytes": drops[-1]["payload"]["bytes"], "gzip": False}  # type: ignore[index]
    assert drops[-1]["payload"]["bytes"] > 0  # type: ignore[index]

    api(
        shared,
        "PATCH",
        f"/api/v1/workspaces/{source.workspace}/sources/{source.id}",
        json={"enabled": True},
    )
    poll(
        lambda: (
            source.post("/v1/track", TRACK).status_code == 200 and len(source.events()) > stored
        ),
        timeout=1,
    )
    assert len(_drops(source)) == dropped + 2
