"""Arrival orders that hypothesis found breaking order independence (test_order.py), kept as
fixed cases. All at one timestamp unless said: canonical order is then by messageId."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.profiles.test_order import CountingStage, expected_profiles, run_stage

T = "2026-01-01T00:00:00Z"


def ev(i: int, **kw: Any) -> dict[str, Any]:
    return {"messageId": f"m{i:03d}", "timestamp": T, "receivedAt": T, **kw}


def test_late_user_id_before_an_alias_that_read_its_previous_id_as_anonymous(
    database_url: str,
) -> None:
    """m007 (alias u0 <- u0) arrives first and reads previousId as an anonymous_id; m006
    (userId u0) is older: in canonical order it makes u0 a known user_id, so the alias adds
    no anonymous_id. The late m006 owns nothing new, yet needs its component rebuilt."""
    payloads = [ev(i, type="identify", traits={}, anonymousId="a0") for i in range(6)]
    payloads.append(ev(6, type="identify", traits={}, userId="u0"))
    payloads += [ev(i, type="alias", previousId="u0", userId="u0") for i in range(7, 11)]
    payloads.append(ev(11, type="identify", traits={}, anonymousId="a0"))
    batches = [[7], [1, 2, 3, 4, 5, 6, 0, 8, 9, 10, 11]]
    stored, _ = asyncio.run(run_stage(database_url, 100, payloads, batches, CountingStage()))
    expected, _links = expected_profiles(100, payloads)
    assert stored == expected


def _u0_read_both_ways() -> list[dict[str, Any]]:
    """Aliases u1 <- u0 at T and T1, and identifies of user_id u0 at T and T1, among
    identifies of anonymous a0."""
    t1 = "2026-01-01T00:01:00Z"
    payloads = [ev(i, type="identify", traits={}, anonymousId="a0") for i in range(5)]
    payloads.append(ev(5, type="identify", traits={}, userId="u0"))
    payloads.append({**ev(6, type="identify", traits={}, userId="u0"), "timestamp": t1})
    payloads.append({**ev(7, type="alias", previousId="u0", userId="u1"), "timestamp": t1})
    payloads += [ev(i, type="alias", previousId="u0", userId="u1") for i in (8, 9)]
    payloads += [ev(i, type="identify", traits={}, anonymousId="a0") for i in (10, 11)]
    return payloads


def test_late_event_reaches_aliases_that_mention_an_identifier_owned_elsewhere(
    database_url: str,
) -> None:
    """m008 (alias u1 <- u0) arrives early and reads u0 as an anonymous_id; later m006 makes
    user_id u0 another profile's. The late m005 (userId u0) is replayed with u0's owner, but
    the component must include m008 and m009, which mention user_id u0 without owning it
    (found through stray_mentions)."""
    payloads = _u0_read_both_ways()
    batches = [[0], [8], [2, 3, 4, 5, 6, 7, 1, 9, 10, 11]]
    stored, _ = asyncio.run(run_stage(database_url, 101, payloads, batches, CountingStage()))
    expected, _links = expected_profiles(101, payloads)
    assert stored == expected


def test_late_user_id_whose_anonymous_reading_a_profile_outside_the_batch_owns(
    database_url: str,
) -> None:
    """The aliases m008 and m009 read u0 as an anonymous_id, which their profile owns (so no
    mention row records it); m006 then makes user_id u0 a profile's. m005 (userId u0) comes
    last, alone in its batch: the profile owning anonymous_id u0 is not in its graph, yet the
    late m005 must be replayed, or the alias keeps reading u0 as anonymous."""
    payloads = _u0_read_both_ways()
    batches = [[0], [8], [2, 3, 4, 6, 7, 1, 9, 10, 11], [5]]
    stored, _ = asyncio.run(run_stage(database_url, 102, payloads, batches, CountingStage()))
    expected, _links = expected_profiles(102, payloads)
    assert stored == expected


def test_a_replay_does_not_merge_traits_stored_by_the_graph_it_corrects(database_url: str) -> None:
    """In batch 3, m005 (userId u0, email "free" at t2) first merges a0's profile in memory,
    because the alias m007 that gives that profile u1 is late and waits for its replay. The
    replay separates them again: m005's email trait must not come back with the vanished
    profile's stored traits."""
    t1, t2 = "2026-01-01T00:01:00Z", "2026-01-01T00:02:00Z"
    payloads = [
        {
            **ev(0, type="identify", traits={}, anonymousId="a0"),
            "timestamp": t1,
            "context": {"traits": {"plan": "free", "name": "free", "email": "free"}},
        },
        *[ev(i, type="identify", traits={}, anonymousId="a0") for i in range(1, 5)],
        {
            **ev(5, type="identify", traits={}, userId="u0"),
            "timestamp": t2,
            "context": {"traits": {"email": "free"}},
        },
        ev(6, type="alias", previousId="u0", userId="u0"),
        ev(7, type="alias", previousId="a0", userId="u1"),
        *[ev(i, type="identify", traits={}, anonymousId="a0") for i in range(8, 11)],
        {
            **ev(11, type="identify", traits={"plan": "free", "email": "pro"}, anonymousId="a0"),
            "timestamp": t1,
        },
    ]
    batches = [[0], [1], [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]]
    stored, _ = asyncio.run(run_stage(database_url, 102, payloads, batches, CountingStage()))
    expected, _links = expected_profiles(102, payloads)
    assert stored == expected
