"""A tracking plan governs every reader downstream of the processor, not only what destinations
receive: profile events (the Profile API's), traits, rebuilds after a merge, real-time and
recomputed audiences and computed traits, destination replays and quarantine replays all see
the event as the plan left it (trimmed by ``omit``, with ``context.violations`` under
``flag``), and never an event the plan blocked.

Each test runs the processor's own stages on a real PostgreSQL and reads through the service
functions behind the management API, the Profile API and the CLI."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from headwater import audiences, destinations, profiles, protocols, workspaces
from headwater.audiences import AudienceStage
from headwater.destinations import RoutingStage
from headwater.log import LogEntry, LogRecord, PostgresLog
from headwater.pipeline import Processor
from headwater.profiles import ProfileStage
from headwater.protocols import ProtocolStage
from headwater.settings import Settings
from headwater.spec import Envelope, Event, normalise
from tests.protocols.plans import BAD_ORDER, COUPON_X, GOOD_ORDER, SHOP

MODES = ["omit", "flag", "block"]
NOW = datetime.now(UTC).replace(microsecond=0)
_ids = itertools.count()


class Shop:
    """The default workspace with a source ``web`` under the plan above, a webhook destination
    (no delivery workers run: deliveries stay queued, where the test reads them) and the
    processor's stages."""

    def __init__(self, engine: AsyncEngine, settings: Settings, source_id: int) -> None:
        self.engine, self.settings, self.source_id = engine, settings, source_id
        self.log = PostgresLog(engine, settings.log_partitions)
        self.processor = Processor(
            engine=engine,
            log=self.log,
            settings=settings,
            stages=[
                ProtocolStage(),
                ProfileStage(),
                AudienceStage(),
                RoutingStage(refresh_seconds=0),
            ],
        )
        self.destination_id = 0

    async def connect(self, violations: str) -> None:
        await protocols.connect_source(
            self.engine,
            workspace="default",
            plan="shop",
            source_id=self.source_id,
            settings={"violations": violations},
        )

    async def send(self, *messages: dict[str, Any], source_id: int | None = None) -> list[str]:
        envelope = Envelope(received_at=datetime.now(UTC))
        records = []
        for index, message in enumerate(messages):
            message = {"messageId": f"m{next(_ids)}", "userId": "u1", **message}
            event = normalise(message, index=index, route_type=None, envelope=envelope)
            assert isinstance(event, Event), event
            records.append(
                LogRecord(workspace_id=1, source_id=source_id or self.source_id, event=event)
            )
        await self.log.append(records)
        await self.drain()
        return [r.event.message_id for r in records]

    async def drain(self) -> None:
        while await self.processor.drain():
            pass

    async def profile_events(self, lookup: str = "user_id:u1") -> dict[str, dict[str, Any]]:
        """The Profile API's events of a profile, by messageId."""
        found = await profiles.events(
            self.engine, space="default", collection="users", lookup=lookup, limit=100
        )
        return {event["messageId"]: event for event in found["data"]}

    async def traits(self, lookup: str = "user_id:u1") -> dict[str, Any]:
        found = await profiles.traits(
            self.engine, space="default", collection="users", lookup=lookup, limit=200
        )
        return dict(found["traits"])

    async def values(self, key: str) -> dict[str, Any]:
        """profile id -> the stored value of an audience (True) or computed trait."""
        found = await audiences.members(
            self.engine,
            workspace="default",
            kind="trait" if key.startswith("t_") else "audience",
            key=key,
        )
        return {row["profile_id"]: row.get("value", True) for row in found["data"]}

    async def queued(self) -> dict[str, dict[str, Any]]:
        """What is queued for the webhook, by messageId."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT message_id, payload FROM deliveries WHERE destination_id = :d"),
                {"d": self.destination_id},
            )
            return {row.message_id: row.payload for row in rows}


@pytest.fixture
async def shop(engine: AsyncEngine, settings: Settings) -> AsyncIterator[Shop]:
    await workspaces.bootstrap(engine, admin_token="test-admin-token")
    source = await workspaces.create_source(
        engine, name="web", workspace="default", write_key=None, kind="server", strict=False
    )
    await protocols.create_plan(engine, workspace="default", document=SHOP)
    running = Shop(engine, settings, source.id)
    created = await destinations.create_destination(
        engine,
        settings,
        workspace="default",
        name="hook",
        kind="webhook",
        config={"url": "http://127.0.0.1:9/hook"},
    )
    running.destination_id = created["id"]
    yield running
    await running.log.close()


def _coupon_violation(event: dict[str, Any]) -> list[tuple[str, str]]:
    return [(v["type"], v["path"]) for v in event["context"].get("violations", [])]


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
        assert _coupon_violation(seen[bad]) == [("pattern_mismatch", "properties.coupon")]
    # the management API's profile view reads the same events
    [pid] = await _profile_ids(shop.engine)
    detail = await profiles.detail(shop.engine, workspace="default", profile_id=pid)
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
        assert ("enum_mismatch", "traits.plan") in _coupon_violation(seen[first])


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
    result = await destinations.replay(
        shop.engine,
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
        assert _coupon_violation(replayed[bad]) == [("pattern_mismatch", "properties.coupon")]


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
        assert _coupon_violation(seen[bad]) == [("pattern_mismatch", "properties.coupon")]
    queued = await shop.queued()
    assert queued[bad]["properties"] == seen[bad]["properties"]


async def _all_profile_events(shop: Shop) -> set[str]:
    async with shop.engine.connect() as connection:
        rows = await connection.execute(text("SELECT message_id FROM profile_events"))
        return {row.message_id for row in rows}


async def test_a_redelivered_entry_is_governed_as_its_latest_delivery_was(shop: Shop) -> None:
    """Delivered again after its plan's settings changed (a batch that failed after the
    protocols stage), an entry's governed form is replaced; passing unchanged, it is the
    event as sent again."""
    await shop.connect("omit")
    [bad] = await shop.send(BAD_ORDER)
    assert (await shop.profile_events())[bad]["properties"] == {"order_id": "o2"}
    entries = [
        e for p in range(shop.log.partitions) for e in await shop.log.read(p, after=0, limit=9)
    ]
    stage = ProtocolStage()
    for mode, expected in [("flag", [("pattern_mismatch", "properties.coupon")]), ("allow", [])]:
        await shop.connect(mode)
        async with shop.engine.begin() as connection:
            await stage.process(entries, connection)
        seen = (await shop.profile_events())[bad]
        assert seen["properties"] == {"order_id": "o2", "coupon": "X"}
        assert _coupon_violation(seen) == expected


class _Peek:
    """A later stage that reads, on a connection of its own, what any other reader would see
    of the batch while the processor's transaction is still open."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.seen: dict[str, dict[str, Any] | None] = {}

    async def process(
        self, entries: Sequence[LogEntry], connection: AsyncConnection
    ) -> Sequence[LogEntry]:
        async with self.engine.connect() as other:
            rows = await other.execute(
                text(
                    "SELECT e.message_id, g.payload FROM events e"
                    " LEFT JOIN governed_events g ON g.seq = e.seq"
                )
            )
            self.seen = {row.message_id: row.payload for row in rows}
        return entries


@pytest.mark.parametrize("mode", MODES)
async def test_the_governed_form_is_committed_before_the_next_stage_runs(
    shop: Shop, mode: str
) -> None:
    """The profile stage commits part of its work apart, before the processor's transaction
    ends: the governed form of the batch must already be there for other readers."""
    await shop.connect(mode)
    peek = _Peek(shop.engine)
    shop.processor = Processor(
        engine=shop.engine, log=shop.log, settings=shop.settings, stages=[ProtocolStage(), peek]
    )
    good, bad = await shop.send(GOOD_ORDER, BAD_ORDER)
    assert peek.seen[good] is not None
    assert peek.seen[good]["properties"] == {"order_id": "o1"}
    if mode == "block":
        assert peek.seen[bad] is None
    elif mode == "omit":
        assert peek.seen[bad] is not None
        assert peek.seen[bad]["properties"] == {"order_id": "o2"}
    else:
        assert peek.seen[bad] is not None
        assert _coupon_violation(peek.seen[bad]) == [("pattern_mismatch", "properties.coupon")]


async def test_a_batch_retried_after_a_failure_keeps_no_governed_form_of_its_first_attempt(
    shop: Shop,
) -> None:
    """The governed form commits before the later stages run; if one of them fails, the batch
    is rolled back and retried. Passing unchanged on the retry (its plan changed meanwhile),
    the entry is read as sent, as the later stages then saw it."""
    await shop.connect("omit")
    envelope = Envelope(received_at=datetime.now(UTC))
    event = normalise(
        {**BAD_ORDER, "userId": "u1", "messageId": "retried"},
        index=0,
        route_type=None,
        envelope=envelope,
    )
    assert isinstance(event, Event)
    await shop.log.append([LogRecord(workspace_id=1, source_id=shop.source_id, event=event)])
    entries = [
        e for p in range(shop.log.partitions) for e in await shop.log.read(p, after=0, limit=9)
    ]
    stage = ProtocolStage()

    async def governed() -> dict[str, Any]:
        async with shop.engine.connect() as connection:
            payload = await connection.scalar(
                text("SELECT payload FROM governed_events WHERE message_id = 'retried'")
            )
        assert isinstance(payload, dict)
        return payload

    async with shop.engine.connect() as connection:
        transaction = await connection.begin()
        await stage.process(entries, connection)
        await transaction.rollback()  # a later stage failed
    assert (await governed())["properties"] == {"order_id": "o2"}
    await shop.connect("allow")
    async with shop.engine.begin() as connection:
        await stage.process(entries, connection)
    assert (await governed())["properties"] == {"order_id": "o2", "coupon": "X"}
