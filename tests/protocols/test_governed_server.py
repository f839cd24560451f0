"""The issue's case against a running ``headwater serve``: under a plan in ``omit``, ``flag`` or
``block``, the webhook, the Profile API (over HTTP) and an audience ("Order Completed where
coupon equals X", in real time and recomputed) all see the same governed event."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import scratch_database
from tests.destinations.conftest import FAST
from tests.destinations.sink import Sink
from tests.profiles.conftest import Space
from tests.protocols.plans import BAD_ORDER, COUPON_X, GOOD_ORDER, SHOP
from tests.server import RunningServer, start_server


@pytest.fixture(scope="module")
async def module_database_url(postgres_url: str) -> AsyncIterator[str]:
    async with scratch_database(postgres_url, "hw_governed") as url:
        yield url


@pytest.fixture(scope="module")
def shared_server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    running = start_server(module_database_url, tmp_path_factory.mktemp("governed"), FAST)
    try:
        yield running
    finally:
        running.stop()


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


def _members(space: Space) -> set[str]:
    body = _ok(space.admin("GET", "/audiences/coupon_x/members"))
    return {row["profile_id"] for row in body["data"]}


@pytest.mark.parametrize("mode", ["omit", "flag", "block"])
def test_the_webhook_profile_api_and_audiences_see_one_governed_event(
    shared_server: RunningServer, mode: str
) -> None:
    space = Space.create(shared_server)
    _ok(space.admin("POST", "/tracking-plans", json=SHOP))
    _ok(
        space.admin(
            "PUT",
            f"/sources/{space.source_id}/tracking-plan",
            json={"plan": "shop", "settings": {"violations": mode}},
        )
    )
    _ok(
        space.admin(
            "POST", "/audiences", json={"key": "coupon_x", "name": "X", "definition": COUPON_X}
        )
    )
    with Sink() as sink:
        _ok(
            space.admin(
                "POST",
                "/destinations",
                json={"name": "hook", "kind": "webhook", "config": {"url": sink.url + "/hook"}},
            )
        )
        # The routing stage rereads destinations at a batch 0.2 s after its last read (FAST).
        time.sleep(0.5)
        space.send(
            {**GOOD_ORDER, "userId": "u1", "messageId": "good"},
            {**BAD_ORDER, "userId": "u1", "messageId": "bad"},
        )
        delivered = {
            r.json()["messageId"]: r.json() for r in sink.wait_for(1 if mode == "block" else 2)
        }
    events = space.eventually("user_id:u1/events", lambda b: len(b["data"]) >= 1)
    seen = {event["messageId"]: event for event in events["data"]}
    assert set(seen) == set(delivered) == ({"good"} if mode == "block" else {"good", "bad"})
    if mode != "block":
        assert seen["bad"]["properties"] == delivered["bad"]["properties"]
        assert seen["bad"]["context"] == delivered["bad"]["context"]
        expected = {"order_id": "o2"} if mode == "omit" else {"order_id": "o2", "coupon": "X"}
        assert seen["bad"]["properties"] == expected
        assert ("violations" in seen["bad"]["context"]) == (mode == "flag")
    members = _members(space)
    _ok(space.admin("POST", "/audiences/coupon_x/recompute"))
    assert _members(space) == members
    assert bool(members) == (mode == "flag")
