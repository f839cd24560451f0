"""Order independence: the graph of a set of events is the canonical-order result, whatever the
arrival order, whether resolved at once or event by event with the replay rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater.identity import (
    Graph,
    Identifier,
    IdentityEvent,
    IncrementalGraph,
    Limit,
    Rules,
    component_events,
    resolve,
)
from tests.identity.build import T0, anon, email, event, new_id, partition, profiles, uid

_settings = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# User ids and anonymous ids share some values, so an alias's previousId may read either way.
_POOL = (
    [Identifier("user_id", v) for v in ("x0", "x1", "x2")]
    + [Identifier("anonymous_id", v) for v in ("x1", "x2", "a3", "a4")]
    + [Identifier("email", v) for v in ("e0", "e1", "e2")]
    + [Identifier("ios.id", v) for v in ("d0", "d1")]
)
_PREVIOUS = ("x0", "x1", "x2", "a3", "a4", "x9")

RULES = {
    "default": Rules.default(),
    "windowed": Rules(
        limits={
            "user_id": Limit(1),
            "anonymous_id": Limit(2, timedelta(minutes=5)),
            "email": Limit(1, timedelta(minutes=8)),
        },
        default_limit=Limit(2),
    ),
    "capped": Rules(max_identifiers=4, max_merges=1),
    "email first": Rules(limits={"user_id": Limit(2), "email": Limit(1)}, priorities={"email": 1}),
}


@st.composite
def _events(draw: st.DrawFn) -> list[IdentityEvent]:
    count = draw(st.integers(min_value=1, max_value=12))
    events = []
    for n in range(count):
        minute = draw(st.integers(min_value=0, max_value=20))
        if draw(st.integers(min_value=0, max_value=7)) == 0:
            user = draw(st.sampled_from(_POOL[:3]))
            previous = draw(st.sampled_from(_PREVIOUS))
            events.append(event(f"m{n}", minute, user, previous=previous))
        else:
            chosen = draw(st.sets(st.sampled_from(_POOL), min_size=1, max_size=4))
            events.append(event(f"m{n}", minute, *sorted(chosen)))
    return events


def _by_event(graph: Graph, events: list[IdentityEvent]) -> dict[str, frozenset[Identifier]]:
    """Which identifiers each event's profile has."""
    found = {}
    for e in events:
        pid = graph.profile_of(e.message_id)
        found[e.message_id] = graph.profiles()[pid] if pid else frozenset()
    return found


def _same(a: Graph, b: Graph, events: list[IdentityEvent]) -> None:
    assert a.profiles() == b.profiles()
    assert a.redirects == b.redirects
    assert _by_event(a, events) == _by_event(b, events)


@_settings
@given(events=_events(), rules=st.sampled_from(sorted(RULES)), data=st.data())
def test_resolve_does_not_depend_on_arrival_order(
    events: list[IdentityEvent], rules: str, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(events))
    canonical = resolve(events, RULES[rules], new_id)
    _same(canonical, resolve(shuffled, RULES[rules], new_id), events)
    assert partition(canonical) == partition(resolve(reversed(events), RULES[rules], new_id))


@_settings
@given(events=_events(), rules=st.sampled_from(sorted(RULES)), data=st.data())
def test_incremental_arrival_with_replays_ends_as_resolve(
    events: list[IdentityEvent], rules: str, data: st.DataObject
) -> None:
    arrival = data.draw(st.permutations(events))
    duplicates = data.draw(st.lists(st.sampled_from(events), max_size=3))
    incremental = IncrementalGraph(RULES[rules], new_id)
    for e in [*arrival, *duplicates]:
        incremental.add(e)
    canonical = resolve(events, RULES[rules], new_id)
    _same(incremental.graph, canonical, events)
    for pid in {new_id(e) for e in events}:
        assert incremental.resolve_id(pid) == canonical.resolve_id(pid) or (
            canonical.resolve_id(pid) is None and pid in incremental.retired
        )


@_settings
@given(events=_events(), rules=st.sampled_from(sorted(RULES)))
def test_resolved_graphs_respect_the_rules(events: list[IdentityEvent], rules: str) -> None:
    r = RULES[rules]
    graph = resolve(events, r, new_id)
    owners: dict[Identifier, str] = {}
    for pid, identifiers in graph.profiles().items():
        state = graph.profile(pid)
        assert state is not None
        assert len(identifiers) <= r.max_identifiers
        assert state.merges <= r.max_merges
        for identifier in identifiers:
            assert identifier not in owners
            owners[identifier] = pid
            assert graph.owner(identifier) == pid
        for kind in {i.type for i in identifiers}:
            if r.limit(kind).window is None:
                assert sum(1 for i in identifiers if i.type == kind) <= r.limit(kind).max


@_settings
@given(events=_events(), rules=st.sampled_from(sorted(RULES)))
def test_a_component_resolves_as_in_the_whole_graph(
    events: list[IdentityEvent], rules: str
) -> None:
    whole = resolve(events, RULES[rules], new_id)
    component = component_events(events, set(events[0].mentions))
    assert events[0] in component
    part = resolve(component, RULES[rules], new_id)
    for pid, identifiers in part.profiles().items():
        assert whole.profiles()[pid] == identifiers
    for old, survivor in part.redirects.items():
        assert whole.redirects[old] == survivor


def test_a_late_event_is_replayed_into_place() -> None:
    """u2 arrives first with a1; the older u1 + a1 arrives later and takes a1 back."""
    graph = IncrementalGraph(Rules.default(), new_id)
    graph.add(event("late", 10, uid("u2"), anon("a1")))
    outcome = graph.add(event("early", 0, uid("u1"), anon("a1")))
    assert outcome.replayed
    assert graph.replays == 1
    assert partition(graph.graph) == profiles([uid("u1"), anon("a1")], [uid("u2")])
    assert graph.graph.owner(anon("a1")) == "p-early"


def test_a_replay_retires_profile_ids_that_no_longer_exist() -> None:
    graph = IncrementalGraph(Rules.default(), new_id)
    graph.add(event("anon", 10, anon("a1")))
    graph.add(event("login", 5, uid("u1"), anon("a1")))  # older: a1 was u1's first
    assert graph.graph.profiles() == {"p-login": frozenset({uid("u1"), anon("a1")})}
    assert graph.retired == {"p-anon": "p-login"}
    assert graph.resolve_id("p-anon") == "p-login"


def test_newer_events_apply_without_replay() -> None:
    graph = IncrementalGraph(Rules.default(), new_id)
    for n, identifiers in enumerate([(anon("a1"),), (uid("u1"), anon("a1")), (anon("a2"),)]):
        assert not graph.add(event(f"m{n}", n, *identifiers)).replayed
    assert graph.replays == 0


def test_an_older_event_elsewhere_in_the_graph_needs_no_replay() -> None:
    graph = IncrementalGraph(Rules.default(), new_id)
    graph.add(event("m1", 10, uid("u1"), anon("a1")))
    assert not graph.add(event("m2", 0, uid("u2"), anon("a2"))).replayed


def test_component_follows_dropped_identifiers_and_alias_readings() -> None:
    events = [
        event("m1", 0, uid("u1"), anon("a1")),
        event("m2", 1, uid("u2"), anon("a1")),  # a1 dropped here, still a link
        event("m3", 2, uid("u3"), previous="u2"),  # could read user_id u2
        event("m4", 3, anon("other")),
    ]
    assert [e.message_id for e in component_events(events, {uid("u1")})] == ["m1", "m2", "m3"]
    assert component_events(events, {anon("nowhere")}) == []


def test_apply_twice_changes_nothing() -> None:
    graph = Graph()
    e = event("m1", 0, uid("u1"), anon("a1"))
    first = graph.apply(e, Rules.default(), new_id)
    again = graph.apply(e, Rules.default(), new_id)
    assert again.profile_id == first.profile_id
    assert (again.created, again.added) == (False, ())
    assert len(graph.profiles()) == 1


def test_new_id_must_not_reuse_an_id() -> None:
    graph = Graph()
    graph.apply(event("m1", 0, anon("a1")), Rules.default(), lambda e: "same")
    with pytest.raises(ValueError, match="already in use"):
        graph.apply(event("m2", 1, anon("a2")), Rules.default(), lambda e: "same")


def test_loaded_profiles_take_part_like_resolved_ones() -> None:
    source = resolve([event("m1", 0, uid("u1"), anon("a1"))], Rules.default(), new_id)
    state = source.profile("p-m1")
    assert state is not None
    graph = Graph()
    graph.load(state)
    outcome = graph.apply(event("m2", 1, uid("u2"), anon("a1")), Rules.default(), new_id)
    assert outcome.created
    assert graph.newest_key([anon("a1")]) == (T0 + timedelta(minutes=1), "m2")


def test_a_stored_mention_of_a_dropped_identifier_forces_a_replay() -> None:
    """The store loads owners and profiles, and the newest mention of each identifier."""
    rules = Rules.default()
    graph = Graph()
    graph.apply(event("m1", 0, uid("u1"), anon("a1")), rules, new_id)
    graph.apply(event("m2", 10, uid("u2"), anon("a1"), email("e1")), rules, new_id)
    stored = graph.profile("p-m2")
    assert stored is not None
    assert graph.owner(email("e1")) == "p-m2"

    fresh = Graph()  # a store loading p-m2 for an older event that mentions a1
    fresh.load(stored)
    assert fresh.newest_key([anon("a1")]) is None
    fresh.mark_seen({anon("a1"): (T0 + timedelta(minutes=10), "m2")})
    assert fresh.newest_key([anon("a1")]) == (T0 + timedelta(minutes=10), "m2")
