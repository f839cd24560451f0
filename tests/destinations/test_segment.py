"""Segment-compatible forwarding: the request Segment's HTTP Tracking API documents, and a
real forward into another Headwater workspace through its tracking API."""

from __future__ import annotations

import base64

import httpx

from headwater.connectors.base import Outcome
from headwater.connectors.segment import SegmentForward, SegmentForwardConfig
from headwater.spec import message_of
from tests.destinations.conftest import Space, eventually, track
from tests.destinations.sink import Recorded, Reply, Sink


async def test_posts_a_batch_with_basic_auth_and_reads_documented_errors() -> None:
    def check(request: Recorded) -> Reply:
        assert (request.method, request.path) == ("POST", "/v1/batch")
        user = base64.b64decode(request.headers["authorization"].removeprefix("Basic ")).decode()
        assert user == "wk-secret:"
        body = request.json()
        assert body["sentAt"].endswith("Z")
        assert [e["messageId"] for e in body["batch"]] == ["m-1", "m-2"]
        if body["batch"][0]["properties"]["order"] == 1:
            return Reply(200, {"success": True})
        return Reply(400, {"code": "invalid_request"})

    with Sink(check) as sink:
        async with httpx.AsyncClient() as client:
            connector = SegmentForward(
                SegmentForwardConfig.model_validate(
                    {"write_key": "wk-secret", "endpoint": sink.url}
                ),
                client,
            )
            ok = await connector.send([message_of(track(1)), message_of(track(2))])
            sink.handler = lambda _: Reply(429, {}, {"Retry-After": "5"})
            limited = await connector.send([message_of(track(1)), message_of(track(2))])
    assert ok.outcome is Outcome.DELIVERED
    assert not sink.errors
    assert limited.outcome is Outcome.RETRY
    assert limited.retry_after == 5.0
    assert limited.exchange is not None
    assert "wk-secret" not in str(limited.exchange)


def test_forwards_into_another_headwater(space: Space) -> None:
    target = Space.create(space.server)
    space.ok(
        "POST",
        json={
            "name": "forward",
            "kind": "segment",
            "config": {"write_key": target.write_key, "endpoint": space.server.url},
        },
    )
    space.send(*(track(n, prefix="fw") for n in range(5)))

    def arrived() -> list[str] | None:
        with space.server.admin() as client:
            found = client.get(
                f"/api/v1/workspaces/{target.slug}/sources/{target.source_id}/events"
            ).json()
        ids = sorted(e["messageId"] for e in found)
        return ids if len(ids) == 5 else None

    assert eventually(arrived) == [f"fw-{n}" for n in range(5)]
