"""The scenarios of Segment's identity resolution documentation, each with its expected profiles."""

from __future__ import annotations

from datetime import timedelta

import pytest

from headwater.identity import (
    Dropped,
    Graph,
    Identifier,
    Limit,
    Rules,
    resolve,
)
from tests.identity.build import (
    T0,
    anon,
    email,
    event,
    extract,
    identity_event,
    new_id,
    partition,
    profiles,
    uid,
)

DEFAULT = Rules.default()


def test_anonymous_to_known_across_devices() -> None:
    """Web: anonymous a1, then identify u1 on it. Mobile: anonymous a2, then identify u1."""
    graph = Graph()
    web = graph.apply(event("web-page", 0, anon("a1")), DEFAULT, new_id)
    assert web.created
    login = graph.apply(event("web-identify", 1, uid("u1"), anon("a1")), DEFAULT, new_id)
    assert (login.profile_id, login.added) == ("p-web-page", (uid("u1"),))
    mobile = graph.apply(event("app-screen", 2, anon("a2")), DEFAULT, new_id)
    assert mobile.profile_id == "p-app-screen"

    merge = graph.apply(event("app-identify", 3, uid("u1"), anon("a2")), DEFAULT, new_id)

    assert partition(graph) == profiles([uid("u1"), anon("a1"), anon("a2")])
    assert merge.merged == (("p-web-page", "p-app-screen"),)
    assert merge.profile_id == "p-web-page"
    assert graph.redirects == {"p-app-screen": "p-web-page"}
    assert graph.profile_of("app-screen") == "p-web-page"
    assert [(m.survivor, m.merged, m.message_id) for m in graph.history] == [
        ("p-web-page", "p-app-screen", "app-identify")
    ]


def test_new_user_id_with_a_known_email_makes_a_new_profile() -> None:
    """Profile abc123 + jane@; a new user_id abc456 arrives with the same email."""
    graph = Graph()
    graph.apply(event("m1", 0, uid("abc123"), email("jane@example1.com")), DEFAULT, new_id)

    outcome = graph.apply(
        event("m2", 1, uid("abc456"), email("jane@example1.com")), DEFAULT, new_id
    )

    assert outcome.created
    assert outcome.dropped == (Dropped(email("jane@example1.com"), "limit user_id 1"),)
    assert partition(graph) == profiles(
        [uid("abc123"), email("jane@example1.com")], [uid("abc456")]
    )


def test_shared_device_used_by_two_known_users() -> None:
    graph = Graph()
    graph.apply(event("m1", 0, uid("u1"), anon("a1")), DEFAULT, new_id)

    second = graph.apply(event("m2", 1, uid("u2"), anon("a1")), DEFAULT, new_id)
    anonymous = graph.apply(event("m3", 2, anon("a1")), DEFAULT, new_id)

    assert second.dropped == (Dropped(anon("a1"), "limit user_id 1"),)
    assert partition(graph) == profiles([uid("u1"), anon("a1")], [uid("u2")])
    assert graph.owner(anon("a1")) == "p-m1"
    assert anonymous.profile_id == "p-m1"


def test_shared_ios_device_by_device_id() -> None:
    device = Identifier("ios.id", "D-1")
    graph = resolve(
        [event("m1", 0, uid("u1"), device), event("m2", 1, uid("u2"), device)], DEFAULT, new_id
    )
    assert partition(graph) == profiles([uid("u1"), device], [uid("u2")])


@pytest.mark.parametrize(
    "value", ["null", "NULL", "anonymous", "Anonymous", "0000", "-1", "", "0-0"]
)
def test_blocked_values_are_not_identifiers(value: str) -> None:
    payloads = [
        {"type": "track", "userId": value, "anonymousId": "a1"},
        {"type": "track", "userId": value, "anonymousId": "a2"},
        {"type": "track", "userId": "u3", "anonymousId": value},
    ]
    events = [
        identity_event(p, message_id=f"m{i}", timestamp=T0, rules=DEFAULT)
        for i, p in enumerate(payloads)
    ]
    graph = resolve(events, DEFAULT, new_id)
    assert partition(graph) == profiles([anon("a1")], [anon("a2")], [uid("u3")])


def test_values_like_blocked_ones_are_kept() -> None:
    payload = {"userId": "0001", "anonymousId": "nullable", "traits": {"email": "-1@x.io"}}
    assert extract(payload, DEFAULT) == (uid("0001"), email("-1@x.io"), anon("nullable"))


def test_an_event_with_only_blocked_ids_has_no_profile() -> None:
    e = identity_event({"userId": "null"}, message_id="m1", timestamp=T0, rules=DEFAULT)
    assert Graph().apply(e, DEFAULT, new_id).profile_id is None


def test_limit_per_type_without_window() -> None:
    rules = Rules(limits={"user_id": Limit(1), "anonymous_id": Limit(2)})
    graph = Graph()
    graph.apply(event("m1", 0, uid("u1"), anon("a1"), anon("a2")), rules, new_id)

    third = graph.apply(event("m2", 1, uid("u1"), anon("a3")), rules, new_id)
    alone = graph.apply(event("m3", 2, anon("a3")), rules, new_id)

    assert third.profile_id == "p-m1"
    assert third.dropped == (Dropped(anon("a3"), "limit anonymous_id 2"),)
    assert alone.created
    assert partition(graph) == profiles([uid("u1"), anon("a1"), anon("a2")], [anon("a3")])


def test_limit_per_type_with_a_sliding_window() -> None:
    week = timedelta(days=7)
    rules = Rules(limits={"user_id": Limit(1), "anonymous_id": Limit(2, week)})
    day = 24 * 60
    graph = Graph()
    graph.apply(event("m1", 0, uid("u1"), anon("a1")), rules, new_id)
    graph.apply(event("m2", 1 * day, uid("u1"), anon("a2")), rules, new_id)

    too_many = graph.apply(event("m3", 3 * day, uid("u1"), anon("a3")), rules, new_id)
    assert too_many.dropped == (Dropped(anon("a3"), "limit anonymous_id 2"),)

    # Ten days in, a1 and a2 were added more than a week ago: they no longer count.
    later = graph.apply(event("m4", 10 * day, uid("u1"), anon("a3")), rules, new_id)
    assert (later.added, later.dropped) == ((anon("a3"),), ())
    assert partition(graph) == profiles([uid("u1"), anon("a1"), anon("a2"), anon("a3")])


def test_an_event_cannot_carry_more_of_a_type_than_its_limit() -> None:
    rules = Rules(limits={"email": Limit(2)})
    emails = [email(f"{n}@x.io") for n in "abc"]
    outcome = Graph().apply(event("m1", 0, *emails), rules, new_id)
    assert outcome.added == (emails[0], emails[1])
    assert outcome.dropped == (Dropped(emails[2], "limit email 2"),)


@pytest.mark.parametrize(
    ("priorities", "expected"),
    [
        # user_id outranks email: the new email is dropped, the event stays with u1.
        ({"user_id": 1, "email": 2}, profiles([uid("u1"), email("e1")])),
        # email outranks user_id: u1 is dropped, and e2 starts a profile of its own.
        ({"email": 1, "user_id": 2}, profiles([uid("u1"), email("e1")], [email("e2")])),
    ],
)
def test_priorities_decide_which_identifier_drops(
    priorities: dict[str, int], expected: set[frozenset[Identifier]]
) -> None:
    rules = Rules(limits={"user_id": Limit(2), "email": Limit(1)}, priorities=priorities)
    graph = Graph()
    graph.apply(event("m1", 0, uid("u1"), email("e1")), rules, new_id)
    outcome = graph.apply(event("m2", 1, uid("u1"), email("e2")), rules, new_id)
    assert partition(graph) == expected
    assert [d.reason for d in outcome.dropped] == ["limit email 1"]


def test_unlisted_types_come_after_listed_ones_by_name() -> None:
    rules = Rules(priorities={"user_id": 1, "phone": 2, "email": 3})
    found = [Identifier(t, "x") for t in ("zz", "email", "anonymous_id", "phone", "android.id")]
    assert [i.type for i in rules.order(found)] == [
        "phone",
        "email",
        "android.id",
        "anonymous_id",
        "zz",
    ]


def test_max_merges_stops_a_merge() -> None:
    rules = Rules(max_merges=1)
    graph = resolve(
        [event("m1", 0, anon("a1")), event("m2", 1, anon("a2")), event("m3", 2, anon("a3"))],
        rules,
        new_id,
    )
    assert graph.apply(event("m4", 3, anon("a1"), anon("a2")), rules, new_id).merged

    capped = graph.apply(event("m5", 4, anon("a1"), anon("a3")), rules, new_id)

    assert capped.profile_id == "p-m1"
    assert capped.dropped == (Dropped(anon("a3"), "max_merges"),)
    assert partition(graph) == profiles([anon("a1"), anon("a2")], [anon("a3")])


def test_max_identifiers_stops_growth_but_the_event_still_resolves() -> None:
    rules = Rules(max_identifiers=3)
    graph = Graph()
    graph.apply(event("m1", 0, uid("u1"), anon("a1"), anon("a2")), rules, new_id)

    full = graph.apply(event("m2", 1, anon("a1"), email("e1"), anon("a3")), rules, new_id)

    assert full.profile_id == "p-m1"
    assert full.dropped == (
        Dropped(email("e1"), "max_identifiers"),
        Dropped(anon("a3"), "max_identifiers"),
    )
    assert partition(graph) == profiles([uid("u1"), anon("a1"), anon("a2")])


def test_max_identifiers_stops_a_merge() -> None:
    rules = Rules(max_identifiers=3)
    graph = resolve(
        [event("m1", 0, uid("u1"), anon("a1")), event("m2", 1, anon("a2"), anon("a3"))],
        rules,
        new_id,
    )
    outcome = graph.apply(event("m3", 2, anon("a1"), anon("a2")), rules, new_id)
    assert outcome.profile_id == "p-m1"
    assert outcome.dropped == (Dropped(anon("a2"), "max_identifiers"),)
    assert partition(graph) == profiles([uid("u1"), anon("a1")], [anon("a2"), anon("a3")])


def test_three_profiles_merge_at_once_into_the_oldest() -> None:
    names = {"m1": "p-z", "m2": "p-a", "m3": "p-m"}  # the survivor is the oldest, not the least id
    graph = resolve(
        [event("m1", 0, anon("a1")), event("m2", 1, anon("a2")), event("m3", 2, anon("a3"))],
        DEFAULT,
        lambda e: names[e.message_id],
    )

    outcome = graph.apply(
        event("m4", 3, uid("u1"), anon("a1"), anon("a2"), anon("a3")), DEFAULT, new_id
    )

    assert outcome.merged == (("p-z", "p-a"), ("p-z", "p-m"))
    assert graph.profiles() == {"p-z": frozenset({uid("u1"), anon("a1"), anon("a2"), anon("a3")})}
    state = graph.profile("p-m")
    assert state is not None
    assert (state.id, state.merges) == ("p-z", 2)


def test_redirects_resolve_through_chains() -> None:
    graph = resolve(
        [
            event("m0", 0, anon("a0")),
            event("m1", 1, anon("a1")),
            event("m2", 2, anon("a2")),
            event("m3", 3, anon("a1"), anon("a2")),  # p-m2 -> p-m1
            event("m4", 4, anon("a0"), anon("a1")),  # p-m1 -> p-m0
        ],
        DEFAULT,
        new_id,
    )
    assert graph.redirects == {"p-m2": "p-m1", "p-m1": "p-m0"}
    assert graph.resolve_id("p-m2") == "p-m0"
    assert graph.resolve_id("p-m0") == "p-m0"
    assert graph.resolve_id("p-unknown") is None
    assert {graph.profile_of(m) for m in ("m0", "m1", "m2", "m3", "m4")} == {"p-m0"}


def test_alias_links_an_anonymous_id_and_a_user_id() -> None:
    graph = Graph()
    graph.apply(event("page", 0, anon("a1")), DEFAULT, new_id)

    alias = graph.apply(event("alias", 1, uid("u1"), previous="a1"), DEFAULT, new_id)
    later = graph.apply(event("identify", 2, uid("u1")), DEFAULT, new_id)

    assert alias.profile_id == later.profile_id == "p-page"
    assert partition(graph) == profiles([uid("u1"), anon("a1")])


def test_alias_with_an_unknown_previous_id_takes_it_as_an_anonymous_id() -> None:
    graph = Graph()
    alias = graph.apply(event("alias", 0, uid("u1"), previous="x"), DEFAULT, new_id)
    page = graph.apply(event("page", 1, anon("x")), DEFAULT, new_id)
    assert alias.created
    assert page.profile_id == alias.profile_id
    assert partition(graph) == profiles([uid("u1"), anon("x")])


def test_alias_prefers_a_known_user_id() -> None:
    rules = Rules(limits={"user_id": Limit(2)})
    graph = Graph()
    graph.apply(event("old", 0, uid("old-id")), rules, new_id)
    graph.apply(event("other", 1, anon("old-id")), rules, new_id)

    alias = graph.apply(event("alias", 2, uid("new-id"), previous="old-id"), rules, new_id)

    assert alias.profile_id == "p-old"
    assert partition(graph) == profiles([uid("old-id"), uid("new-id")], [anon("old-id")])


def test_alias_of_two_user_ids_under_limit_one_keeps_the_events_own_user_id() -> None:
    graph = Graph()
    graph.apply(event("old", 0, uid("b-old")), DEFAULT, new_id)
    alias = graph.apply(event("alias", 1, uid("a-new"), previous="b-old"), DEFAULT, new_id)
    assert alias.created
    assert alias.dropped == (Dropped(uid("b-old"), "limit user_id 1"),)
    assert partition(graph) == profiles([uid("b-old")], [uid("a-new")])


def test_alias_previous_id_blocked_is_ignored() -> None:
    e = identity_event(
        {"type": "alias", "userId": "u1", "previousId": "anonymous"},
        message_id="m1",
        timestamp=T0,
        rules=DEFAULT,
    )
    assert e.alias_previous_id is None
    assert Graph().apply(event("m1", 0, uid("u1"), previous="null"), DEFAULT, new_id).added == (
        uid("u1"),
    )


def test_an_alias_of_another_users_anonymous_id_is_not_merged() -> None:
    graph = Graph()
    graph.apply(event("m1", 0, uid("u1"), anon("a1")), DEFAULT, new_id)
    alias = graph.apply(event("m2", 1, uid("u2"), previous="a1"), DEFAULT, new_id)
    assert alias.dropped == (Dropped(anon("a1"), "limit user_id 1"),)
    assert partition(graph) == profiles([uid("u1"), anon("a1")], [uid("u2")])
