"""The audiences and computed-traits management API on a running ``headwater serve``: CRUD,
bad input answered 4xx with the problem named, preview, members (pages and CSV), recompute, a
profile's memberships and history."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.server import RunningServer

BASE = "/api/v1/workspaces/default"
BUYERS = {
    "version": 1,
    "condition": {
        "type": "event",
        "event": "Order Completed",
        "where": [{"property": "total", "operator": "greater_than", "value": 0.1}],
    },
}


def send(server: RunningServer, *messages: dict[str, Any]) -> None:
    response = httpx.post(
        f"{server.url}/v1/batch", json={"batch": list(messages)}, auth=(server.write_key, "")
    )
    assert response.status_code == 200, response.text


_JSON = {"content-type": "application/json"}


def call(server: RunningServer, method: str, path: str, **kwargs: Any) -> httpx.Response:
    with server.admin() as client:
        return client.request(method, BASE + path, **kwargs)


def eventually(probe: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def orders(server: RunningServer) -> None:
    send(
        server,
        *[
            {
                "type": "track",
                "userId": f"u{i}",
                "event": "Order Completed",
                "properties": {"total": total},
                "context": {"traits": {"email": f"u{i}@x.io"}},
            }
            for i, total in enumerate([0.1, 0.11, 5, 50])
        ],
    )


def test_bad_input_is_a_4xx_naming_the_problem(server: RunningServer) -> None:
    cases: list[tuple[str, str, Any, int, str]] = [
        ("POST", "/audiences", {"key": "x", "name": "X"}, 400, "definition"),
        (
            "POST",
            "/audiences",
            {"key": "Not Snake", "name": "X", "definition": BUYERS},
            400,
            "invalid_key",
        ),
        (
            "POST",
            "/audiences",
            {"key": "x", "name": "X", "definition": {"version": 9}},
            400,
            "unsupported version 9",
        ),
        (
            "POST",
            "/audiences",
            {
                "key": "x",
                "name": "X",
                "definition": {
                    "version": 1,
                    "condition": {
                        "type": "event",
                        "event": "A",
                        "count": {"operator": "at_least", "value": -1},
                    },
                },
            },
            400,
            "condition.event.count.value",
        ),
        (
            "POST",
            "/audiences",
            {
                "key": "x",
                "name": "X",
                "definition": {"version": 1, "condition": {"type": "audience", "audience": "nope"}},
            },
            400,
            "no audience with key",
        ),
        (
            "POST",
            "/audiences",
            {"key": "x", "name": "X", "definition": BUYERS, "colour": 1},
            400,
            "colour",
        ),
        (
            "POST",
            "/computed-traits",
            {"key": "x", "name": "X", "definition": {"version": 1, "kind": "sum", "event": "A"}},
            400,
            "needs the property",
        ),
        ("POST", "/audiences/preview", {"definition": {"version": 1}}, 400, "condition"),
        ("GET", "/audiences/nope", None, 404, "audience_not_found"),
        ("GET", "/computed-traits/nope/members", None, 404, "trait_not_found"),
        ("GET", "/audiences/nope/members?limit=0", None, 422, "limit"),
        ("GET", "/profiles/prf_nope/audiences", None, 404, "profile_not_found"),
    ]
    for method, path, body, status, needle in cases:
        response = call(server, method, path, json=body)
        assert response.status_code == status, (path, body, response.text)
        assert response.json()["success"] is False
        assert needle in response.text, (needle, response.text)
    response = call(server, "POST", "/audiences", content=b"{not json", headers=_JSON)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"
    with server.admin() as client:
        response = client.get("/api/v1/workspaces/nowhere/audiences")
    assert response.status_code == 404


def test_audience_lifecycle(server: RunningServer) -> None:
    orders(server)
    preview = eventually(
        lambda: (
            (
                body := call(
                    server, "POST", "/audiences/preview", json={"definition": BUYERS}
                ).json()
            )["size"]
            == 3
            and body
        )
    )
    assert preview["size"] == 3  # 0.1 is not greater than 0.1: exact decimals
    assert len(preview["sample"]) == 3
    made = call(
        server, "POST", "/audiences", json={"key": "buyers", "name": "Buyers", "definition": BUYERS}
    )
    assert made.status_code == 201, made.text
    taken = call(
        server,
        "POST",
        "/computed-traits",
        json={
            "key": "buyers",
            "name": "B",
            "definition": {"version": 1, "kind": "counter", "event": "A"},
        },
    )
    assert taken.status_code == 409
    trait = call(
        server,
        "POST",
        "/computed-traits",
        json={
            "key": "spend",
            "name": "Spend",
            "definition": {
                "version": 1,
                "kind": "sum",
                "event": "Order Completed",
                "property": "total",
            },
        },
    )
    assert trait.status_code == 201, trait.text
    counts = call(server, "POST", "/audiences/buyers/recompute").json()
    assert counts["entered"] + counts["exited"] in (0, 3)  # the scheduler may have run first
    assert call(server, "GET", "/audiences/buyers").json()["size"] == 3

    first = call(server, "GET", "/audiences/buyers/members?limit=2").json()
    rest = call(server, "GET", f"/audiences/buyers/members?limit=2&cursor={first['next_cursor']}")
    members = first["data"] + rest.json()["data"]
    assert rest.json()["next_cursor"] is None
    assert sorted(m["user_id"] for m in members) == ["u1", "u2", "u3"]
    exported = call(server, "GET", "/audiences/buyers/members?format=csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(r["email"] for r in rows) == ["u1@x.io", "u2@x.io", "u3@x.io"]

    call(server, "POST", "/computed-traits/spend/recompute")
    u3 = next(m["profile_id"] for m in members if m["user_id"] == "u3")
    profile = call(server, "GET", f"/profiles/{u3}/audiences").json()
    assert [a["key"] for a in profile["audiences"]] == ["buyers"]
    assert profile["traits"] == {"spend": 50}
    assert {(h["key"], h["change"]) for h in profile["history"]} == {
        ("buyers", "entered"),
        ("spend", "entered"),
    }

    stricter = {
        **BUYERS,
        "condition": {
            **BUYERS["condition"],
            "where": [{"property": "total", "operator": "at_least", "value": 10}],
        },
    }
    changed = call(server, "PATCH", "/audiences/buyers", json={"definition": stricter})
    assert changed.json()["revision"] == 2
    assert call(server, "POST", "/audiences/buyers/recompute").json()["exited"] in (0, 2)
    assert [
        m["user_id"] for m in call(server, "GET", "/audiences/buyers/members").json()["data"]
    ] == ["u3"]
    history = call(server, "GET", "/audiences/buyers/changes").json()["data"]
    assert sorted(h["change"] for h in history) == ["entered"] * 3 + ["exited"] * 2

    lovers = call(
        server,
        "POST",
        "/audiences",
        json={
            "key": "big_buyers",
            "name": "Big",
            "definition": {
                "version": 1,
                "condition": {
                    "type": "and",
                    "conditions": [
                        {"type": "audience", "audience": "buyers"},
                        {"type": "trait", "trait": "spend", "operator": "at_least", "value": 20},
                    ],
                },
            },
        },
    )
    assert lovers.status_code == 201, lovers.text
    assert call(server, "DELETE", "/audiences/buyers").status_code == 409
    assert call(server, "DELETE", "/audiences/big_buyers").status_code == 200
    gone = call(server, "DELETE", "/audiences/buyers").json()
    assert gone == {"key": "buyers", "deleted": True, "exited": 1}
    assert call(server, "GET", "/audiences").json() == []


def test_real_time_membership_through_the_server(server: RunningServer) -> None:
    made = call(
        server, "POST", "/audiences", json={"key": "buyers", "name": "Buyers", "definition": BUYERS}
    )
    assert made.status_code == 201
    # the scheduler's first recompute (due at creation) finds nobody
    assert eventually(
        lambda: call(server, "GET", "/audiences/buyers").json()["computed_at"] is not None
    )
    orders(server)
    members = eventually(
        lambda: len(call(server, "GET", "/audiences/buyers/members").json()["data"]) == 3
    )
    assert members
    history = call(server, "GET", "/audiences/buyers/changes").json()["data"]
    assert {h["cause"] for h in history} == {"event"}
