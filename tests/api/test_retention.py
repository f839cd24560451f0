"""The retention routes: windows set and read back, bad windows refused with 400, a dry run
that drops nothing, and who may do what."""

from __future__ import annotations

from tests.api.conftest import Api


def test_windows_are_set_read_back_and_replaced(api: Api) -> None:
    workspace = api.workspace()
    source = api.source(workspace=workspace)
    base = f"/api/v1/workspaces/{workspace}/retention"
    assert api.ok("GET", base)["windows"] == []

    windows = [
        {"store": "events", "days": 30},
        {"store": "events", "source_id": source["id"], "days": 7},
        {"store": "journey_history", "days": 90},
    ]
    shown = api.ok("PUT", base, json={"windows": windows})

    assert [(w["store"], w["source_id"], w["days"]) for w in shown["windows"]] == [
        ("events", None, 30),
        ("events", source["id"], 7),
        ("journey_history", None, 90),
    ]
    assert api.ok("GET", base)["windows"] == shown["windows"]
    assert api.ok("PUT", base, json={"windows": []})["windows"] == []


def test_bad_windows_are_refused_with_400(api: Api) -> None:
    workspace = api.workspace()
    base = f"/api/v1/workspaces/{workspace}/retention"
    api.error(
        "PUT", base, 400, "invalid_window", json={"windows": [{"store": "events", "days": -1}]}
    )
    api.error(
        "PUT", base, 400, "invalid_window", json={"windows": [{"store": "events", "days": 0}]}
    )
    api.error(
        "PUT",
        base,
        400,
        "source_window_not_supported",
        json={"windows": [{"store": "delivery_logs", "source_id": 1, "days": 3}]},
    )
    other = api.workspace()
    foreign = api.source(workspace=other)
    api.error(
        "PUT",
        base,
        400,
        "unknown_source",
        json={"windows": [{"store": "events", "source_id": foreign["id"], "days": 3}]},
    )
    twice = [{"store": "events", "days": 3}, {"store": "events", "days": 4}]
    api.error("PUT", base, 400, "duplicate_window", json={"windows": twice})
    assert api.ok("GET", base)["windows"] == []


def test_a_dry_run_answers_a_plan_and_drops_nothing(api: Api) -> None:
    workspace = api.workspace()
    source = api.source(workspace=workspace)
    api.track(source["write_key"], event="Bought", userId="u-1")  # today: inside any window
    base = f"/api/v1/workspaces/{workspace}/retention"
    api.ok("PUT", base, json={"windows": [{"store": "events", "days": 1}]})

    plan = api.ok("POST", f"{base}/dry-run")

    assert plan["dry_run"] is True
    assert plan["workspace"] == workspace
    assert plan["items"] == []
    assert plan["rows"] == 0
