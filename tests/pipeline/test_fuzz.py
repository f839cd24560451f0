"""A fuzzed corpus through the real processor: odd but accepted events (huge, unicode and
NUL-adjacent keys, deep nesting, long strings, odd numbers, long names and ids) beside plain
events of two workspaces in one partition. Every event either went through every stage (its
delivery is queued: routing is the last stage) or is a recorded processing failure, and none
fails for an index row too large; the plain events always get their profiles; the partition
never stalls (the committed offset reaches the end of the log).

``FUZZ_EXAMPLES`` sets the number of examples (default 25); ``--hypothesis-show-statistics``
shows how many examples had failures."""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import random
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from headwater import workspaces
from headwater.settings import Settings
from headwater.storage import create_engine
from tests.pipeline.conftest import Harness, Space

_messages = itertools.count()

_CHARS = st.characters(codec="utf-8")  # NUL included: the edge replaces it, as a body's \u0000
_ODD = st.sampled_from(
    ["\x00", "\x01", "\x1f", "\u2028", "\ufeff", "\ufffd", "𝕏", "é", ".", "[", "~"]
)
_SHORT = st.text(_CHARS, min_size=1, max_size=12)
_HUGE = st.builds(
    lambda seed, length, unit: "".join(random.Random(seed).choices(unit, k=length)),
    st.integers(0, 10**6),
    st.integers(700, 4000),
    st.sampled_from(["abcdefghijklmnopqrstuvwxyz0123456789", "é𝕏漢字\u2028ü", "\x01\x02a.b[c~"]),
)
"""Long text PostgreSQL cannot compress much (a repeated letter it would)."""
_KEYS = st.one_of(_SHORT, _HUGE, _ODD, st.lists(_ODD, min_size=1, max_size=5).map("".join))
_NUMBERS = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, -0.0, 5e-324, 1.7976931348623157e308, 2**53 + 1, -(2**63)]),
)
_LEAVES = st.one_of(st.none(), st.booleans(), _NUMBERS, _SHORT, _HUGE)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3),
    max_leaves=8,
)
_DEEP = st.integers(1, 90).map(  # a body nests at most 100 levels (spec/body.py)
    lambda depth: functools.reduce(lambda inner, level: {f"l{level}": inner}, range(depth), 1)
)
_OBJECTS = st.dictionaries(_KEYS, st.one_of(_VALUES, _DEEP), max_size=4)
_IDS = st.one_of(_SHORT, _HUGE, st.text(_CHARS, min_size=1, max_size=600))
_NAMES = st.one_of(_SHORT, _HUGE)


@st.composite
def _message(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["track", "identify", "page", "screen", "group", "alias"]))
    message: dict[str, Any] = {"type": kind, "userId": draw(_IDS)}
    if draw(st.booleans()):
        message["anonymousId"] = draw(_IDS)
    if kind == "track":
        message.update(event=draw(_NAMES), properties=draw(_OBJECTS))
    elif kind in ("page", "screen"):
        message.update(name=draw(_NAMES), properties=draw(_OBJECTS))
    elif kind in ("identify", "group"):
        message["traits"] = draw(_OBJECTS)
        if kind == "group":
            message["groupId"] = draw(_IDS)
    else:
        message["previousId"] = draw(_IDS)
    if draw(st.booleans()):
        message["context"] = {"traits": draw(_OBJECTS)}
    if draw(st.booleans()):
        external = {"id": draw(_IDS), "type": draw(_KEYS).lower(), "collection": "users"}
        message.setdefault("context", {})["externalIds"] = [external]
    return message


_CORPUS = st.lists(st.tuples(st.booleans(), _message()), min_size=1, max_size=8)


async def _run(
    database_url: str, data_dir: Path, corpus: list[tuple[bool, dict[str, Any]]]
) -> None:
    settings = Settings(database_url=database_url, data_dir=data_dir, log_partitions=1)
    engine = create_engine(database_url, pool_size=4)
    harness = Harness(engine, settings)
    try:
        spaces = await _spaces(harness)
        records, plain = [], []
        for number, (first, message) in enumerate(corpus):
            space = spaces[0] if first else spaces[1]
            record = harness.accepted(
                space, {**message, "messageId": f"f{next(_messages)}"}, clean_nul=True
            )
            if record is not None and len(msgspec.json.encode(record.event.payload)) <= 32 * 1024:
                records.append(record)
            control = harness.record(
                spaces[number % 2], {"type": "identify", "userId": f"plain-{next(_messages)}"}
            )
            plain.append(control)
            records.append(control)
        ids = await harness.append(records)
        await harness.drain()
        queued, failed = await harness.queued(ids), await harness.failed(ids)
        plain_ids = [r.event.message_id for r in plain]
        event(f"processing failures in the example: {len(failed)}")
        assert queued | failed == set(ids), "an event neither went through nor was recorded"
        assert not queued & failed
        for slug in ("fuzz-a", "fuzz-b"):
            for failure in await harness.processor_failures(slug):
                # No index overflows: long text is indexed by design (hashed, or left out).
                assert "(54000)" not in failure["reason"], failure
        assert await harness.profiled(plain_ids) == set(plain_ids)
        assert await harness.caught_up()
    finally:
        consumer = harness.processor.consumer
        await harness.log.release(consumer.name, consumer.owner)
        await harness.log.close()
        await engine.dispose()


async def _spaces(harness: Harness) -> list[Space]:
    known = {w.slug: w.id for w in await workspaces.list_workspaces(harness.engine)}
    if "fuzz-a" not in known:
        await workspaces.bootstrap(harness.engine)
        return [await harness.space("fuzz-a"), await harness.space("fuzz-b")]
    sources = {s.workspace: s.id for s in await workspaces.list_sources(harness.engine)}
    return [Space(slug, known[slug], sources[slug]) for slug in ("fuzz-a", "fuzz-b")]


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(corpus=_CORPUS)
def test_every_fuzzed_event_is_processed_or_a_recorded_failure(
    database_url: str, tmp_path: Path, corpus: list[tuple[bool, dict[str, Any]]]
) -> None:
    asyncio.run(_run(database_url, tmp_path, corpus))
