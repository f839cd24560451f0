"""The same messageId is stored once per workspace, and the duplicates are counted."""

from __future__ import annotations

from tests.collect.helpers import Source, api, assert_ok, new_source
from tests.server import RunningServer


def track(message_id: str, event: str = "Paid") -> dict[str, object]:
    return {"type": "track", "userId": "u1", "event": event, "messageId": message_id}


def test_a_retry_is_stored_once_and_counted(source: Source) -> None:
    message_id = f"retry-{source.id}"
    assert_ok(source.post("/v1/track", track(message_id)))
    assert_ok(source.post("/v1/track", track(message_id, event="Paid again")))
    assert_ok(source.post("/v1/batch", {"batch": [track(message_id)]}))
    [stored] = source.events()
    assert stored["event"] == "Paid"
    assert source.totals() == {"accepted": 1, "duplicates": 2, "rejected": 0}


def test_duplicates_inside_one_batch_are_stored_once(source: Source) -> None:
    one, two = f"in-batch-1-{source.id}", f"in-batch-2-{source.id}"
    batch = [track(one), track(two), track(one, event="Second"), track(one), track(two)]
    assert_ok(source.post("/v1/batch", {"batch": batch}))
    stored = source.events()
    assert [(event["messageId"], event["event"]) for event in stored] == [
        (one, "Paid"),
        (two, "Paid"),
    ]
    assert source.totals() == {"accepted": 2, "duplicates": 3, "rejected": 0}


def test_stats_by_event_name_the_duplicates(source: Source, shared: RunningServer) -> None:
    for _ in range(3):
        assert_ok(source.post("/v1/track", track(f"stats-{source.id}", event="Counted")))
    rows = api(
        shared,
        "GET",
        f"/api/v1/workspaces/{source.workspace}/stats",
        params={"source": source.id, "by": "event"},
    )
    assert [(row["type"], row["event"]) for row in rows] == [("track", "Counted")]
    assert sum(row["accepted"] for row in rows) == 1
    assert sum(row["duplicates"] for row in rows) == 2


def test_numeric_and_string_message_ids_are_the_same(source: Source) -> None:
    number = 900_000_000 + source.id
    assert_ok(source.post("/v1/track", {**track("x"), "messageId": number}))
    assert_ok(source.post("/v1/track", {**track("x"), "messageId": str(number)}))
    assert len(source.events()) == 1
    assert source.totals()["duplicates"] == 1


def test_the_same_message_id_in_two_workspaces_is_stored_in_both(
    source: Source, shared: RunningServer
) -> None:
    slug = f"second-{source.id}"
    api(shared, "POST", "/api/v1/workspaces", json={"slug": slug})
    other = new_source(shared, workspace=slug)
    message_id = f"cross-{source.id}"
    assert_ok(source.post("/v1/track", track(message_id, event="In default")))
    assert_ok(other.post("/v1/track", track(message_id, event="In second")))
    assert_ok(other.post("/v1/track", track(message_id, event="Retry in second")))

    assert [event["event"] for event in source.events()] == ["In default"]
    assert [event["event"] for event in other.events()] == ["In second"]
    default = api(shared, "GET", f"/api/v1/workspaces/default/events/{message_id}")
    second = api(shared, "GET", f"/api/v1/workspaces/{slug}/events/{message_id}")
    assert default["payload"]["event"] == "In default"
    assert second["payload"]["event"] == "In second"
    assert source.totals() == {"accepted": 1, "duplicates": 0, "rejected": 0}
    assert other.totals() == {"accepted": 1, "duplicates": 1, "rejected": 0}
