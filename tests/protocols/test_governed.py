"""A tracking plan governs every reader downstream of the processor, not only what destinations
receive: profile events (the Profile API's), traits, rebuilds after a merge, real-time and
recomputed audiences and computed traits, destination replays and quarantine replays all see
the event as the plan left it (trimmed by ``omit``, with ``context.violations`` under
``flag``), and never an event the plan blocked.

Each test runs the processor's own stages on a real PostgreSQL and reads through the service
functions behind the management API, the Profile API and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import audiences, profiles, protocols, routing, workspaces
from headwater.log import MemoryLog
from tests.protocols.plans import BAD_ORDER, COUPON_X, GOOD_ORDER
from tests.protocols.shop import MODES, NOW, Shop, violations_of


@pytest.mark.parametrize("mode", MODES)
async def test_profile_events_are_the_governed_events(shop: Shop, mode: str) -> None:
    await shop.connect(mode)
    good, bad = await shop.send(GOOD_ORDER, BAD_ORDER)
    seen = await shop.profile_events()
    assert seen[good]["properties"] == {"order_id": "o1"}
    assert "violations" not in seen[good]["context"]
    if mode == "block":
        assert bad not in seen
    elif mode == "omit":
        assert seen[bad]["properties"] == {"order_id": "o2"}
        assert "violations" not in seen[bad]["context"]
    else:
        assert seen[bad]["properties"] == {"order_id": "o2", "coupon": "X"}
        assert violations_of(seen[bad]) == [("pattern_mismatch", "properties.coupon")]
    # the management API's profile view reads the same events
    [pid] = await _profile_ids(shop.engine)
    detail = await profiles.detail(
        shop.engine, shop.log, governed=protocols.governed, workspace="default", profile_id=pid
    )
    assert {e["message_id"] for e in detail["events"]} == set(seen)


async def _profile_ids(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT id FROM profiles WHERE kind = 'user' AND merged_into IS NULL")
        )
        return [row.id for row in rows]


@pytest.mark.parametrize("mode", MODES)
async def test_traits_and_a_rebuild_after_a_merge_read_the_governed_events(
    shop: Shop, mode: str
) -> None:
    """An anonymous identify sets a trait the plan refuses; the user's later event, then a
    late identify joining the two, make the profile stage rebuild the component from the
    stored events: the rebuilt traits and events are the governed ones."""
    await shop.connect(mode)
    base = NOW - timedelta(hours=1)
    identify = {
        "type": "identify",
        "userId": None,
        "anonymousId": "a1",
        "traits": {"email": "ada@example.com", "plan": "gold"},
        "timestamp": base.isoformat(),
    }
    [first] = await shop.send(identify)
    if mode != "block":
        assert (await shop.traits("anonymous_id:a1")).get("plan") == (
            "gold" if mode == "flag" else None
        )
    later = {**GOOD_ORDER, "timestamp": (base + timedelta(minutes=5)).isoformat()}
    await shop.send(later)
    joining = {
        "type": "identify",
        "anonymousId": "a1",
        "traits": {"email": "ada@example.com"},
        "timestamp": (base + timedelta(minutes=1)).isoformat(),
    }
    await shop.send(joining)
    traits = await shop.traits()
    seen = await shop.profile_events()
    assert traits["email"] == "ada@example.com"
    if mode == "block":
        assert first not in seen
        assert "plan" not in traits
    elif mode == "omit":
        assert "plan" not in traits
        assert seen[first]["traits"] == {"email": "ada@example.com"}
    else:
        assert traits["plan"] == "gold"
        assert ("enum_mismatch", "traits.plan") in violations_of(seen[first])


@pytest.mark.parametrize("mode", MODES)
async def test_audiences_and_computed_traits_in_real_time_and_recomputed(
    shop: Shop, mode: str
) -> None:
    await shop.connect(mode)
    await audiences.create(
        shop.engine,
        workspace="default",
        kind="audience",
        key="coupon_x",
        name="Coupon X",
        definition=COUPON_X,
    )
    await audiences.create(
        shop.engine,
        workspace="default",
        kind="trait",
        key="t_coupons",
        name="Coupons",
        definition={
            "version": 1,
            "kind": "unique_list",
            "event": "Order Completed",
            "property": "coupon",
        },
    )
    await shop.send(GOOD_ORDER, BAD_ORDER)
    [pid] = await _profile_ids(shop.engine)
    member = {pid: True} if mode == "flag" else {}
    coupons = {pid: ["X"]} if mode == "flag" else {}
    assert await shop.values("coupon_x") == member, "real time"
    assert await shop.values("t_coupons") == coupons, "real time"
    await audiences.recompute(shop.engine, workspace="default")
    assert await shop.values("coupon_x") == member, "recomputed"
    assert await shop.values("t_coupons") == coupons, "recomputed"
    preview = await audiences.preview(
        shop.engine, workspace="default", kind="audience", definition=COUPON_X
    )
    assert preview["size"] == len(member)


@pytest.mark.parametrize("mode", MODES)
async def test_a_destination_replay_sends_the_governed_events(shop: Shop, mode: str) -> None:
    await shop.connect(mode)
    good, bad = await shop.send(GOOD_ORDER, BAD_ORDER)
    first = await shop.queued()
    async with shop.engine.begin() as connection:  # as if delivered
        await connection.execute(text("DELETE FROM deliveries"))
    result = await routing.replay(
        shop.engine,
        shop.log,
        governed=protocols.governed,
        workspace="default",
        destination_id=shop.destination_id,
        since=NOW - timedelta(days=1),
        until=datetime.now(UTC) + timedelta(minutes=1),
    )
    replayed = await shop.queued()
    assert replayed == first
    assert result["queued"] == len(first)
    assert replayed[good]["properties"] == {"order_id": "o1"}
    if mode == "block":
        assert set(replayed) == {good}
    elif mode == "omit":
        assert replayed[bad]["properties"] == {"order_id": "o2"}
    else:
        assert violations_of(replayed[bad]) == [("pattern_mismatch", "properties.coupon")]


@pytest.mark.parametrize("mode", ["omit", "flag"])
@pytest.mark.parametrize("how", ["replay", "forward"])
async def test_a_quarantine_replay_reaches_profiles_governed(
    shop: Shop, engine: AsyncEngine, mode: str, how: str
) -> None:
    """Blocked, then replayed (or forwarded to a second source) under a plan that lets the
    event through in ``mode``: profiles see it as that plan governs it; blocked again, never."""
    await shop.connect("block")
    [bad] = await shop.send(BAD_ORDER)
    assert bad not in await _all_profile_events(shop)
    [row] = await protocols.quarantine(engine, workspace="default")
    if how == "replay":
        await shop.connect(mode)
        await protocols.replay(engine, shop.log, workspace="default", ids=[row["id"]])
    else:
        other = await workspaces.create_source(
            engine, name="app", workspace="default", write_key=None, kind="server", strict=False
        )
        await protocols.connect_source(
            engine,
            workspace="default",
            plan="shop",
            source_id=other.id,
            settings={"violations": mode},
        )
        await protocols.forward(
            engine, shop.log, workspace="default", to_source=other.id, ids=[row["id"]]
        )
    await shop.drain()
    seen = await shop.profile_events()
    if mode == "omit":
        assert seen[bad]["properties"] == {"order_id": "o2"}
    else:
        assert violations_of(seen[bad]) == [("pattern_mismatch", "properties.coupon")]
    queued = await shop.queued()
    assert queued[bad]["properties"] == seen[bad]["properties"]


async def _all_profile_events(shop: Shop) -> set[str]:
    async with shop.engine.connect() as connection:
        rows = await connection.execute(text("SELECT message_id FROM profile_events"))
        return {row.message_id for row in rows}


@pytest.mark.parametrize("mode", MODES)
async def test_the_processor_and_the_readers_run_on_the_memory_log(shop: Shop, mode: str) -> None:
    """The stages, the Profile API's events, the profile view and a destination replay, on a
    :class:`~headwater.log.MemoryLog`: none of them reads the PostgreSQL log's table."""
    memory = Shop(shop.engine, shop.settings, shop.source_id, log=MemoryLog(4))
    memory.destination_id = shop.destination_id
    await memory.connect(mode)
    good, bad = await memory.send(GOOD_ORDER, BAD_ORDER)
    async with shop.engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM events")) == 0

    seen = await memory.profile_events()
    assert seen[good]["properties"] == {"order_id": "o1"}
    assert (bad in seen) == (mode != "block")
    [pid] = await _profile_ids(shop.engine)
    detail = await profiles.detail(
        shop.engine, memory.log, governed=protocols.governed, workspace="default", profile_id=pid
    )
    assert {e["message_id"] for e in detail["events"]} == set(seen)

    first = await memory.queued()
    assert set(first) == set(seen)
    async with shop.engine.begin() as connection:  # as if delivered
        await connection.execute(text("DELETE FROM deliveries"))
    result = await routing.replay(
        shop.engine,
        memory.log,
        governed=protocols.governed,
        workspace="default",
        destination_id=shop.destination_id,
        since=NOW - timedelta(days=1),
        until=datetime.now(UTC) + timedelta(minutes=1),
    )
    assert result["queued"] == len(first)
    assert await memory.queued() == first
