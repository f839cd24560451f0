"""Profiles started by hand with properties the steps read as the triggering event's, and a
profile's journeys naming each step's node by its label and type as well as its id."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.destinations.sink import Sink
from tests.server import RunningServer

BASE = "/api/v1/workspaces/default"


def _until(probe: Any, what: str, within: float = 30) -> Any:
    deadline = time.monotonic() + within
    while not (found := probe()):
        assert time.monotonic() < deadline, what
        time.sleep(0.2)
    return found


def test_a_start_with_properties_fills_templates_and_steps_are_named_by_label(
    server: RunningServer,
) -> None:
    with Sink() as sink:
        hook = server.api(
            "POST",
            f"{BASE}/destinations",
            json={"name": "mailer", "kind": "webhook", "config": {"url": sink.url}},
        )["id"]
        document = {
            "version": 1,
            "trigger": {"type": "manual"},
            "start": "mail",
            "nodes": {
                "mail": {
                    "type": "send",
                    "label": "Send the coupon",
                    "config": {
                        "destination": hook,
                        "event": "Coupon",
                        "properties": {"code": "{{ event.coupon }}", "off": "{{ event.off }}"},
                    },
                    "next": {"out": "done"},
                },
                "done": {"type": "exit"},
            },
        }
        journeys = f"{BASE}/journeys"
        server.api("POST", journeys, json={"key": "coupon", "name": "C", "document": document})
        server.api("POST", f"{journeys}/coupon/publish")
        response = httpx.post(
            f"{server.url}/v1/identify", json={"userId": "ada"}, auth=(server.write_key, "")
        )
        assert response.status_code == 200, response.text
        [ada] = _until(
            lambda: server.api("GET", f"{BASE}/profiles", params={"identifier": "user_id:ada"}),
            "ada's profile",
        )

        body = {"profile_ids": [ada["id"]], "properties": {"coupon": "SPRING", "off": 12.5}}
        started = server.api("POST", f"{journeys}/coupon/start", json=body)
        assert started == {"entered": 1, "skipped": []}

        def coupons() -> list[Any]:
            return [r.json() for r in sink.requests if r.json().get("event") == "Coupon"]

        [sent] = _until(coupons, "the coupon sent")
        assert sent["properties"] == {"code": "SPRING", "off": "12.5"}

        with server.admin() as client:
            refused = client.post(
                f"{journeys}/coupon/start", json={**body, "properties": ["not", "an object"]}
            )
        assert refused.status_code == 400
        assert refused.json()["code"] == "invalid_request"

        ways = _until(
            lambda: [
                w
                for w in server.api("GET", f"{BASE}/profiles/{ada['id']}/journeys")
                if w["state"] == "completed"
            ],
            "ada's journey completed",
        )
        [way] = ways
        assert way["node_label"] is None  # the exit has no label
        assert [(s["node"], s["label"], s["type"], s["port"]) for s in way["steps"]] == [
            ("mail", "Send the coupon", "send", "out"),
            ("done", None, "exit", None),
        ]
