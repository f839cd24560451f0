"""One time format in every answer of the management API (and ``/ready``): UTC, milliseconds, ``Z``
(``spec.format_timestamp``'s), walked over every read of a workspace that holds one of each
thing."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.conftest import Api, unique

_LOOKS_LIKE_A_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_THE_ONE_FORM = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
# Text answers (not JSON) and the endless live feed.
_NOT_JSON = ("/live", "/export", "/codegen")
# The reads that need a query parameter, by their path's last part.
_QUERIES: dict[str, dict[str, Any]] = {"diff": {"from": 1}, "profiles": {"value": "u1"}}


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _workspace_with_one_of_each(api: Api) -> dict[str, str]:
    """A workspace with a source, events, a rejection, a profile, a destination, a tracking
    plan connected to the source, an audience and a computed trait, a published journey, a PII
    rule, a regulation, a finished subject access export, a reverse ETL model and sync with a
    (failed) run, and an uploaded import; the path parameters that name them."""
    workspace = api.workspace()
    base = f"/api/v1/workspaces/{workspace}"
    source = api.source(workspace=workspace)
    message_id = unique("m")
    api.track(source["write_key"], userId="u1", event="Order Completed", messageId=message_id)
    api.track(source["write_key"], userId="u1", messageId=unique("m"))  # rejected: no event
    api.track(source["write_key"], "/v1/identify", userId="u1", traits={"email": "a@b.c"})
    destination = api.ok(
        "POST",
        f"{base}/destinations",
        201,
        json={"name": "hook", "kind": "webhook", "config": {"url": "http://127.0.0.1:9/"}},
    )
    plan = {"name": "Web", "events": [{"name": "Order Completed"}]}
    api.ok("POST", f"{base}/tracking-plans", 201, json=plan)
    api.ok("PUT", f"{base}/sources/{source['id']}/tracking-plan", json={"plan": "web"})
    condition = {"type": "event", "event": "Order Completed"}
    api.ok(
        "POST",
        f"{base}/audiences",
        201,
        json={
            "key": "buyers",
            "name": "Buyers",
            "definition": {"version": 1, "condition": condition},
        },
    )
    api.ok("POST", f"{base}/audiences/buyers/recompute")
    deadline = time.monotonic() + 30
    while not (found := api.ok("GET", f"{base}/profiles", params={"value": "u1"})):
        assert time.monotonic() < deadline, "the profile was not built"
        time.sleep(0.2)
    api.ok("POST", f"{base}/audiences/buyers/recompute")
    journey = {
        "version": 1,
        "trigger": {"type": "manual"},
        "start": "a",
        "nodes": {"a": {"type": "exit"}},
    }
    api.ok(
        "POST",
        f"{base}/journeys",
        201,
        json={"key": "buyers", "name": "Buyers", "document": journey},
    )
    api.ok("POST", f"{base}/journeys/buyers/publish")
    rule = {"name": "Emails", "path": "traits.email", "action": "hash"}
    rule_id = api.ok("POST", f"{base}/pii-rules", 201, json=rule)["id"]
    suppress = {"regulationType": "SUPPRESS_ONLY", "subjectType": "USER_ID", "subjectIds": ["u9"]}
    regulate_id = api.ok("POST", f"{base}/regulations", json=suppress)["data"]["regulateId"]
    asked = {"subject_type": "USER_ID", "subject_id": "u1"}
    export_id = api.ok("POST", f"{base}/privacy/exports", 202, json=asked)["id"]
    upload = {"source_id": source["id"], "kind": "profiles", "file_name": "a.csv"}
    csv = {"content": b"email\na@example.com\n", "headers": {"Content-Type": "text/csv"}}
    import_id = api.ok("POST", f"{base}/imports", 201, params=upload, **csv)["id"]
    hook = {"name": "Stripe", "preset": "stripe", "secret": "whsec_times"}
    hook_source = api.ok("POST", f"{base}/webhook-sources", 201, json=hook)["id"]
    deadline = time.monotonic() + 60
    while api.ok("GET", f"{base}/privacy/exports/{export_id}")["status"] != "done":
        assert time.monotonic() < deadline, "the export was not built"
        time.sleep(0.2)
    model = {
        "name": "Buyers",
        "connection": "postgresql://reader:pw@127.0.0.1:1/shop",  # nothing listens: runs fail
        "query": "SELECT 1 AS id",
        "primary_key": "id",
    }
    model_id = api.ok("POST", f"{base}/reverse-etl/models", 201, json=model)["id"]
    sync = {
        "name": "Buyers",
        "model_id": model_id,
        "target": "profiles",
        "message_type": "identify",
        "mapping": {"user_id": "id"},
    }
    sync_id = api.ok("POST", f"{base}/reverse-etl/syncs", 201, json=sync)["id"]
    api.ok("POST", f"{base}/reverse-etl/syncs/{sync_id}/run")
    deadline = time.monotonic() + 60
    while (
        not (runs := api.ok("GET", f"{base}/reverse-etl/syncs/{sync_id}/runs"))
        or runs[0]["status"] == "running"
    ):
        assert time.monotonic() < deadline, "the sync did not run"
        time.sleep(0.2)
    return {
        "workspace": workspace,
        "model_id": str(model_id),
        "sync_id": str(sync_id),
        "run_id": str(runs[0]["id"]),
        "source_id": str(source["id"]),
        "destination_id": str(destination["id"]),
        "slug": "web",
        "key": "buyers",
        "version": "1",
        "message_id": message_id,
        "profile_id": found[0]["id"],
        "rule_id": str(rule_id),
        "regulate_id": str(regulate_id),
        "export_id": str(export_id),
        "import_id": str(import_id),
        "hook_source_id": str(hook_source),
    }


def test_every_answer_writes_its_times_in_one_form(api: Api) -> None:
    document = httpx.get(f"{api.server.url}/api/openapi.json", timeout=10).json()
    parameters = _workspace_with_one_of_each(api)
    times = 0
    for path, operations in document["paths"].items():
        if "get" not in operations or not path.startswith(("/api/v1/", "/ready")):
            continue
        if path.endswith(_NOT_JSON) or "/computed-traits/" in path:
            continue
        named = parameters
        if "/sources/{source_id}/hook" in path:  # a webhook source's
            named = {**parameters, "source_id": parameters["hook_source_id"]}
        filled = re.sub(r"\{(\w+)\}", lambda m, named=named: named[m[1]], path)
        query = _QUERIES.get(path.rsplit("/", 1)[-1], {})
        response = api.client.get(filled, params=query)
        assert response.status_code == 200, f"{path}: {response.text}"
        for where, text in _strings(response.json()):
            if _LOOKS_LIKE_A_TIME.match(text):
                times += 1
                assert _THE_ONE_FORM.match(text), f"{path}{where}: {text}"
    assert times > 50


@pytest.mark.parametrize(
    "value",
    ["2026-11-23T09:00:00.123Z", "2026-11-23T09:00:00.000Z", "0001-01-03T00:00:00.000Z"],
)
def test_the_one_form_is_format_timestamps(value: str) -> None:
    from headwater.spec import format_timestamp, parse_timestamp

    assert format_timestamp(parse_timestamp(value)) == value
    assert _THE_ONE_FORM.match(value)
