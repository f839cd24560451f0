"""The SQL compilation (batch recompute, preview) and the in-memory evaluator (real time)
agree on random profiles, events, conditions and computed traits, on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from headwater.audiences.conditions import AudienceDefinition, parse_audience, walk
from headwater.audiences.evaluate import EventData, Subject, compute, evaluate
from headwater.audiences.sql import Refs, audience_query, trait_query
from headwater.audiences.traits import parse_trait
from headwater.audiences.values import decode, encode, same
from tests.audiences.data import insert_profiles

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

texts = st.sampled_from(
    [
        "",
        "pro",
        "Pro",
        "prof",
        "hats",
        "shoes",
        "é",
        "2026-02-27",
        "2026-03-01T10:00+02:00",
        "2026-03-05T23:59:59.999999Z",
        "2026-02-22T12:00:00",  # exactly 7 days before NOW: window edges
        "2026-02-28T14:00:00+02:00",  # exactly 1 day before NOW
        "2026-03-08T12:00Z",  # exactly 7 days after NOW
        "2026-02-30",
        "2026-03-01T10:00:00+0530",
        "yesterday",
        "5",
    ]
)
numbers = st.one_of(
    st.integers(-3, 3), st.sampled_from([Decimal("0.5"), Decimal("-1.25"), Decimal("2.0")])
)
scalars = st.one_of(st.booleans(), numbers, texts)
values = st.one_of(st.none(), scalars, st.lists(st.one_of(texts, numbers), max_size=3))

OPERATORS: dict[str, Any] = {
    "equals": scalars,
    "not_equals": scalars,
    "less_than": numbers,
    "greater_than": numbers,
    "at_most": numbers,
    "at_least": numbers,
    "equals_any": st.lists(scalars, min_size=1, max_size=3),
    "equals_none": st.lists(scalars, min_size=1, max_size=3),
    "contains": texts,
    "not_contains": texts,
    "starts_with": texts,
    "ends_with": texts,
    "exists": st.none(),
    "not_exists": st.none(),
    "before": st.sampled_from(["2026-02-27", "2026-03-01T10:00Z", "2026-03-01T12:00+02:00"]),
    "after": st.sampled_from(["2026-02-27", "2026-03-01T10:00Z", "2026-03-01T12:00+02:00"]),
    "within_last_days": st.sampled_from([1, 7, 10]),
    "within_next_days": st.sampled_from([1, 7, 10]),
}


@st.composite
def comparisons(draw: st.DrawFn) -> dict[str, Any]:
    operator = draw(st.sampled_from(sorted(OPERATORS)))
    value = draw(OPERATORS[operator])
    return {"operator": operator} | ({} if value is None else {"value": value})


windows = st.one_of(
    st.none(),
    st.builds(lambda n: {"within_days": n}, st.integers(1, 30)),
    st.builds(lambda n, m: {"between_days": [n, n + m]}, st.integers(0, 10), st.integers(1, 20)),
)


@st.composite
def event_specs(draw: st.DrawFn) -> dict[str, Any]:
    filters = draw(st.lists(comparisons(), max_size=2))
    where = [f | {"property": draw(st.sampled_from(["p", "q", "p.x"]))} for f in filters]
    return {"event": draw(st.sampled_from(["A", "B"])), "where": where}


@st.composite
def leaves(draw: st.DrawFn) -> dict[str, Any]:
    choice = draw(st.sampled_from(["trait", "event", "count", "not", "funnel", "consent"]))
    if choice == "consent":
        category = draw(st.sampled_from(["Marketing", "Analytics", "Ads"]))
        return {"type": "consent", "category": category, "granted": draw(st.booleans())}
    if choice == "trait":
        trait = draw(st.sampled_from(["plan", "n", "d", "tags", "nested.x"]))
        return {"type": "trait", "trait": trait} | draw(comparisons())
    window = draw(windows)
    spec = draw(event_specs()) | ({"window": window} if window else {})
    if choice == "event":
        return {"type": "event"} | spec
    if choice == "not":
        return {"type": "event", "performed": False} | spec
    if choice == "count":
        operator = draw(
            st.sampled_from(["equals", "not_equals", "less_than", "greater_than", "at_most"])
        )
        return {
            "type": "event",
            "count": {"operator": operator, "value": draw(st.integers(0, 3))},
        } | spec
    funnel = {
        "type": "funnel",
        "first": draw(event_specs()),
        "then": draw(event_specs()),
        "within_hours": draw(st.integers(1, 72)),
        "followed": draw(st.booleans()),
    }
    return funnel | ({"window": window} if window else {})


conditions = st.recursive(
    leaves(),
    lambda inner: st.builds(
        lambda kind, items: {"type": kind, "conditions": items},
        st.sampled_from(["and", "or"]),
        st.lists(inner, min_size=1, max_size=3),
    ),
    max_leaves=4,
)


@st.composite
def trait_definitions(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            [
                "counter",
                "sum",
                "average",
                "min",
                "max",
                "most_frequent",
                "first",
                "last",
                "unique_list",
                "unique_count",
            ]
        )
    )
    window = draw(windows)
    raw = {"version": 1, "kind": kind} | draw(event_specs())
    if kind != "counter":
        raw["property"] = draw(st.sampled_from(["p", "q"]))
    return raw | ({"window": window} if window else {})


@st.composite
def subjects(draw: st.DrawFn) -> dict[str, Subject]:
    found = {}
    for index in range(draw(st.integers(1, 4))):
        traits = {
            key: value
            for key in ("plan", "n", "d", "tags", "nested")
            if (
                value := draw(
                    values
                    if key != "nested"
                    else st.one_of(st.none(), st.fixed_dictionaries({"x": scalars}))
                )
            )
            is not None
        }
        events = []
        for number in range(draw(st.integers(0, 6))):
            # whole minutes, and some exactly on window boundaries (N days ago)
            age = draw(
                st.one_of(
                    st.integers(-60, 40 * 24 * 60), st.integers(-1, 31).map(lambda d: d * 24 * 60)
                )
            )
            properties = {
                key: value
                for key in ("p", "q")
                if (value := draw(st.one_of(values, st.just({"x": 1})))) is not None
            }
            events.append(
                EventData(
                    f"m{number}",
                    "track",
                    draw(st.sampled_from(["A", "B"])),
                    NOW - timedelta(minutes=age),
                    properties,
                )
            )
        consent = draw(
            st.dictionaries(st.sampled_from(["Marketing", "Analytics", "Other"]), st.booleans())
        )
        found[f"prf_{index}"] = Subject(traits=traits, events=events, consent=consent)
    return found


async def _connect(url: str) -> asyncpg.Connection:
    parsed = make_url(url)
    return await asyncpg.connect(
        host=parsed.query.get("host") or parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )


def _exact(value: Any) -> Any:
    """Round-trip through JSON with exact decimals, as the stage reads stored data."""
    return decode(encode(value))


async def _compare(
    url: str, people: dict[str, Subject], condition: dict[str, Any], trait: dict[str, Any]
) -> None:
    audience = parse_audience(_exact({"version": 1, "condition": condition}))
    definition = parse_trait(_exact(trait))
    nodes = [node for node in walk(audience.condition)]
    connection = await _connect(url)
    try:
        transaction = connection.transaction()
        await transaction.start()
        await insert_profiles(connection, 1, people, at=NOW)
        for node in nodes:  # the whole tree, and each of its parts
            part = AudienceDefinition(version=1, condition=node)
            query = audience_query(part, workspace_id=1, subject="user", refs=Refs(), now=NOW)
            in_sql = {row[0] for row in await connection.fetch(query.sql, *query.params)}
            in_memory = {
                pid
                for pid, subject in people.items()
                if evaluate(node, _exact_subject(subject), NOW)
            }
            assert in_sql == in_memory, (node, query.sql)
        query = trait_query(definition, workspace_id=1, now=NOW)
        rows = await connection.fetch(
            f"SELECT q.* , q.v::text FROM ({query.sql}) q(p, v)", *query.params
        )
        sql_values = {row[0]: decode(row[2]) for row in rows}
        for pid, subject in people.items():
            expected = compute(definition, _exact_subject(subject).events, NOW)
            got = sql_values.get(pid)
            assert (got is None and expected is None) or same(got, expected), (pid, got, expected)
        await transaction.rollback()
    finally:
        await connection.close()


def _exact_subject(subject: Subject) -> Subject:
    return Subject(
        traits=_exact(dict(subject.traits)),
        events=[
            EventData(e.message_id, e.type, e.name, e.timestamp, _exact(dict(e.properties)))
            for e in subject.events
        ],
        consent=subject.consent,
    )


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=subjects(), condition=conditions, trait=trait_definitions())
def test_sql_and_memory_agree(
    database_url: str, people: dict[str, Subject], condition: dict[str, Any], trait: dict[str, Any]
) -> None:
    note(json.dumps(condition, default=str))
    asyncio.run(_compare(database_url, people, condition, trait))


EDGE = "2026-02-22T12:00:00Z"  # exactly 7 days before NOW
EDGE_CASES: list[tuple[dict[str, Any], Any]] = [
    ({"operator": "within_last_days", "value": 7}, EDGE),
    ({"operator": "within_last_days", "value": 7}, "2026-02-22T11:59:59.999999Z"),
    ({"operator": "within_last_days", "value": 7}, "2026-02-22T13:00:00+01:00"),
    ({"operator": "within_next_days", "value": 7}, "2026-03-08T12:00:00Z"),
    ({"operator": "within_next_days", "value": 7}, "2026-03-08T12:00:00.000001Z"),
    ({"operator": "before", "value": EDGE}, EDGE),
    ({"operator": "after", "value": EDGE}, "2026-02-22T12:00:00.000001Z"),
    ({"operator": "after", "value": "2026-02-22"}, "2026-02-22T00:30:00+01:00"),
    ({"operator": "less_than", "value": 2}, 2),
    ({"operator": "at_most", "value": Decimal("2.0")}, 2),
    ({"operator": "starts_with", "value": "é"}, "été"),
    ({"operator": "contains", "value": "5"}, [5, "5"]),
]


@pytest.mark.parametrize(("comparison", "value"), EDGE_CASES)
def test_edges_agree(database_url: str, comparison: dict[str, Any], value: Any) -> None:
    events = [
        EventData("a", "track", "A", NOW - timedelta(days=7), {"p": value}),
        EventData("b", "track", "B", NOW - timedelta(days=7, microseconds=1), {"p": value}),
    ]
    people = {"prf_0": Subject(traits={"d": value}, events=events), "prf_1": Subject({}, [])}
    condition = {
        "type": "or",
        "conditions": [
            {"type": "trait", "trait": "d"} | comparison,
            {"type": "event", "event": "A", "window": {"within_days": 7}},
            {"type": "event", "event": "B", "window": {"between_days": [1, 7]}},
        ],
    }
    trait = {"version": 1, "kind": "counter", "event": "A", "window": {"within_days": 7}}
    asyncio.run(_compare(database_url, people, condition, trait))
