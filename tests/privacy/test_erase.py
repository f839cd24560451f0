"""Erasing a person against a running ``headwater serve``: two people go through the real
pipeline (a merge, an audience and a computed trait, a journey waiting, a destination with a
delivery and a dead letter, a tracking-plan violation and quarantine, a rejected message, a
duplicate); one is erased; then every table of the database is read whole, each row as text,
and none holds any of the erased person's values or profile ids, while every row of the
other person is still there."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.log import PostgresLog
from headwater.privacy import STORES, erase_person, person_of
from headwater.storage import Transaction, create_engine
from tests.conftest import scratch_database
from tests.destinations.conftest import FAST
from tests.destinations.sink import Recorded, Reply, Sink
from tests.privacy.helpers import holding
from tests.profiles.conftest import Space
from tests.protocols.plans import SHOP
from tests.server import RunningServer, start_server


@pytest.fixture(scope="module")
async def module_database_url(postgres_url: str) -> AsyncIterator[str]:
    async with scratch_database(postgres_url, "hw_erase") as url:
        yield url


@pytest.fixture(scope="module")
def shared_server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    running = start_server(module_database_url, tmp_path_factory.mktemp("erase"), FAST)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
async def module_engine(module_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(module_database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Someone:
    """A person with values found nowhere else: ids, email, name, phone."""

    user_id: str
    anonymous_ids: tuple[str, str]
    email: str
    name: str
    phone: str

    @classmethod
    def new(cls, first: str) -> Someone:
        tag = uuid.uuid4().hex[:8]
        return cls(
            user_id=f"user-{first}-{tag}",
            anonymous_ids=(f"anon-{first}-{tag}-1", f"anon-{first}-{tag}-2"),
            email=f"{first}.{tag}@example.com",
            name=f"{first.title()} Zyx{tag}",
            phone=f"+44 7700 9{int(tag, 16) % 100000:05d}",
        )

    def values(self) -> set[str]:
        return {self.user_id, *self.anonymous_ids, self.email, self.name, self.phone}

    def messages(self) -> list[dict[str, Any]]:
        """Two anonymous visits, an identify (the first visit's profile gets the user id), a
        track tying the second visit to the user (a merge), then the events each store keeps."""
        first, second = self.anonymous_ids
        user = {"userId": self.user_id}
        return [
            {"type": "page", "anonymousId": first, "name": "Home", "messageId": f"{first}-p"},
            {"type": "page", "anonymousId": second, "name": "Home", "messageId": f"{second}-p"},
            {
                "type": "identify",
                **user,
                "anonymousId": first,
                "messageId": f"{self.user_id}-identify",
                "traits": {"email": self.email, "name": self.name, "phone": self.phone},
            },
            {
                "type": "track",
                **user,
                "anonymousId": second,
                "event": "Signed Up",
                "messageId": f"{self.user_id}-signup",
                "properties": {"contact": self.email},
            },
            {
                "type": "track",
                **user,
                "event": "Order Completed",
                "messageId": f"{self.user_id}-order",
                "properties": {"order_id": f"o-{self.user_id}", "coupon": "ABCD"},
            },
            {
                "type": "track",
                **user,
                "event": "Refund Requested",
                "messageId": f"{self.user_id}-refund",
                "properties": {"phone": self.phone},
            },
            {
                # A coupon against the plan's pattern: blocked, quarantined, sampled.
                "type": "track",
                **user,
                "event": "Order Completed",
                "messageId": f"{self.user_id}-bad-order",
                # The violation's message quotes the coupon: the person's name.
                "properties": {"order_id": self.email, "coupon": self.name},
            },
            # No event name: rejected at collection, kept as a rejection.
            {"type": "track", **user, "properties": {"name": self.name}},
        ]


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


def _refuse_refunds(request: Recorded) -> Reply:
    body = request.json()
    if body.get("event") == "Refund Requested":
        return Reply(422, {"error": f"cannot refund {body.get('userId')}"})
    return Reply(200)


def _set_up(space: Space, hook_url: str) -> None:
    _ok(space.admin("POST", "/tracking-plans", json=SHOP))
    _ok(
        space.admin(
            "PUT",
            f"/sources/{space.source_id}/tracking-plan",
            json={"plan": "shop", "settings": {"violations": "block"}},
        )
    )
    hook = _ok(
        space.admin(
            "POST",
            "/destinations",
            json={"name": "hook", "kind": "webhook", "config": {"url": hook_url}},
        )
    )["id"]
    buyers = {"version": 1, "condition": {"type": "event", "event": "Order Completed"}}
    body = {"key": "buyers", "name": "Buyers", "definition": buyers, "destinations": [hook]}
    _ok(space.admin("POST", "/audiences", json=body))
    orders = {"version": 1, "kind": "counter", "event": "Order Completed"}
    _ok(
        space.admin(
            "POST", "/computed-traits", json={"key": "orders", "name": "O", "definition": orders}
        )
    )
    journey = {
        "version": 1,
        "trigger": {"type": "event", "event": "Signed Up"},
        "start": "wait",
        "nodes": {
            "wait": {
                "type": "wait_event",
                "config": {
                    "events": [{"port": "back", "event": "Came Back"}],
                    "timeout": {"days": 7},
                },
                "next": {"back": "done", "timeout": "done"},
            },
            "done": {"type": "exit"},
        },
    }
    _ok(space.admin("POST", "/journeys", json={"key": "welcome", "name": "W", "document": journey}))
    _ok(space.admin("POST", "/journeys/welcome/publish"))
    # The routing stage rereads destinations 0.2 s after its last read (FAST).
    time.sleep(0.5)


async def _until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"waited in vain for {what}")


async def _count(engine: AsyncEngine, sql: str, *args: object) -> int:
    async with engine.connect() as connection:
        tx = await Transaction.of(connection)
        return int(await tx.driver.fetchval(sql, *args))


async def _settled(engine: AsyncEngine, workspace_id: int, people: list[Someone]) -> None:
    """Wait until the processor and the delivery engine have done all they will."""
    for someone in people:
        await _until(partial(_quiet, engine, someone), f"all of {someone.user_id}'s records")

    async def delivered() -> bool:
        return not await _count(
            engine,
            "SELECT count(*) FROM deliveries d JOIN destinations s ON s.id = d.destination_id"
            " WHERE s.workspace_id = $1",
            workspace_id,
        )

    await _until(delivered, "an empty delivery queue")


async def _visits(engine: AsyncEngine, person: Someone) -> bool:
    return (
        await _count(
            engine,
            "SELECT count(DISTINCT profile_id) FROM identifiers WHERE value = ANY($1)",
            list(person.anonymous_ids),
        )
        == 2
    )


async def _quiet(engine: AsyncEngine, person: Someone) -> bool:
    """Whether the journey instance, dead letter, quarantined message, rejection, relayed
    audience entry and duplicate of ``person`` are all there."""
    refund = f"{person.user_id}-refund"
    counts = [
        await _count(
            engine,
            "SELECT count(*) FROM journey_instances j JOIN identifiers i"
            " ON i.profile_id = j.profile_id WHERE i.value = $1 AND j.state = 'waiting'",
            person.user_id,
        ),
        await _count(engine, "SELECT count(*) FROM dead_letters WHERE message_id = $1", refund),
        await _count(
            engine,
            "SELECT count(*) FROM quarantine WHERE message_id = $1",
            f"{person.user_id}-bad-order",
        ),
        await _count(
            engine, "SELECT count(*) FROM rejections WHERE payload->>'userId' = $1", person.user_id
        ),
        await _count(
            engine,
            "SELECT count(*) FROM audience_changes c JOIN identifiers i"
            " ON i.profile_id = c.profile_id WHERE i.value = $1 AND c.delivered",
            person.user_id,
        ),
        await _count(
            engine, "SELECT count(*) FROM duplicates WHERE payload->>'userId' = $1", person.user_id
        ),
    ]
    return all(counts)


async def _person(engine: AsyncEngine, workspace_id: int, someone: Someone) -> set[str]:
    """The profile ids the identity graph holds for ``someone``."""
    async with engine.connect() as connection:
        tx = await Transaction.of(connection)
        found = await person_of(
            tx, workspace_id=workspace_id, subject_type="USER_ID", subject_id=someone.user_id
        )
    return set(found.profile_ids)


# The tables the person's values reach in this set-up: the scan below must find them there
# before the erase (else it proves nothing), and nowhere after.
REACHED = {
    "events",
    "profiles",
    "identifiers",
    "profile_events",
    "profile_merges",
    "computed_values",
    "audience_changes",
    "journey_instances",
    "dead_letters",
    "delivery_errors",
    "quarantine",
    "violation_samples",
    "rejections",
    "duplicates",
}


async def test_an_erased_person_is_in_no_table_and_everyone_else_is_untouched(
    shared_server: RunningServer, module_engine: AsyncEngine
) -> None:
    engine = module_engine
    space = Space.create(shared_server)
    ann, bob = Someone.new("ann"), Someone.new("bob")
    with Sink(_refuse_refunds) as sink:
        _set_up(space, sink.url)
        # Ann last: the newest message of the violation both share quotes her name.
        for someone in (bob, ann):
            messages = someone.messages()
            space.send(*messages[:2])  # two visits, two profiles: merged by what follows
            await _until(partial(_visits, engine, someone), f"{someone.user_id}'s two visits")
            space.send(*messages[2:])
            space.send(messages[4])  # the order again: a duplicate
        workspace_id = await _count(engine, "SELECT id FROM workspaces WHERE slug = $1", space.slug)
        await _settled(engine, workspace_id, [ann, bob])
        ann_values = ann.values() | await _person(engine, workspace_id, ann)
        bob_values = bob.values() | await _person(engine, workspace_id, bob)
        assert len(ann_values) == len(ann.values()) + 2, "two profiles merged"
        ann_before = await holding(engine, ann_values)
        bob_before = await holding(engine, bob_values)
        assert set(ann_before) >= REACHED, f"not reached: {REACHED - set(ann_before)}"
        assert set(bob_before) >= REACHED
        quoted = "SELECT count(*) FROM violation_samples WHERE strpos(message, $1) > 0"
        assert await _count(engine, quoted, ann.name) == 1

        log = PostgresLog(engine, 4)
        try:
            removed = await erase_person(
                engine,
                log,
                workspace_id=workspace_id,
                subject_type="USER_ID",
                subject_id=ann.user_id,
            )
            again = await erase_person(
                engine,
                log,
                workspace_id=workspace_id,
                subject_type="USER_ID",
                subject_id=ann.user_id,
            )
        finally:
            await log.close()

        assert await holding(engine, ann_values) == {}
        assert await holding(engine, bob_values) == bob_before
    assert list(removed) == list(STORES)
    assert removed["profiles"] == 2
    assert removed["events"] == 7  # the rejected one never reached the log
    assert removed["quarantine"] == removed["dead_letters"] == removed["journey_instances"] == 1
    assert removed["profile_merges"] == 1
    assert removed["computed_values"] == 2  # the audience and the computed trait
    assert removed["violation_samples"] >= 2  # the bad order's samples, and others of hers
    assert again == dict.fromkeys(STORES, 0)


async def test_erasing_someone_unknown_removes_nothing(
    shared_server: RunningServer, module_engine: AsyncEngine
) -> None:
    space = Space.create(shared_server)
    workspace_id = await _count(
        module_engine, "SELECT id FROM workspaces WHERE slug = $1", space.slug
    )
    log = PostgresLog(module_engine, 4)
    try:
        removed = await erase_person(
            module_engine,
            log,
            workspace_id=workspace_id,
            subject_type="ANONYMOUS_ID",
            subject_id="never-seen",
        )
    finally:
        await log.close()
    assert removed == dict.fromkeys(STORES, 0)
