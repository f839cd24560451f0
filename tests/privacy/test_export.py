"""Subject access on a running ``headwater serve``: a person's events (an identify with traits,
consent, a merge, an audience, a computed trait, a journey, a webhook that received their
events), then an export of them: every section holds what was sent and nothing of another
person, the JSON document and the CSV files agree; an unknown subject's export is empty but
valid; bad input, permissions, the audit entry and the CLI."""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import Api, unique
from tests.cli.conftest import cli_for
from tests.conftest import scratch_database
from tests.destinations.sink import Sink
from tests.server import ADMIN_TOKEN, RunningServer, start_server

_JOURNEY = {
    "version": 1,
    "trigger": {"type": "manual"},
    "start": "a",
    "nodes": {"a": {"type": "exit"}},
}


@pytest.fixture(scope="module")
async def database_url(postgres_url: str) -> Any:
    async with scratch_database(postgres_url, "hw_privacy_export") as url:
        yield url


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(database_url, tmp_path_factory.mktemp("privacy-export"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def api(server: RunningServer) -> Iterator[Api]:
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
    ) as client:
        yield Api(server, client)


def _eventually(check: Any, what: str, timeout: float = 60.0) -> Any:
    """``check()``'s first truthy answer (polled), or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _base(workspace: str) -> str:
    return f"/api/v1/workspaces/{workspace}"


def _finished(api: Api, workspace: str, export_id: int) -> dict[str, Any]:
    def done() -> Any:
        job = api.ok("GET", f"{_base(workspace)}/privacy/exports/{export_id}")
        return job if job["status"] in ("done", "failed") else None

    job: dict[str, Any] = _eventually(done, f"export {export_id}")
    assert job["status"] == "done", job
    return job


def _export(api: Api, workspace: str, subject_type: str, subject_id: str) -> dict[str, Any]:
    """A finished export's job, JSON document and CSV tables (by name, as lists of dicts)."""
    created = api.ok(
        "POST",
        f"{_base(workspace)}/privacy/exports",
        202,
        json={"subject_type": subject_type, "subject_id": subject_id},
    )
    assert created["status"] == "queued"
    job = _finished(api, workspace, created["id"])
    path = f"{_base(workspace)}/privacy/exports/{job['id']}/download"
    as_json = api.client.get(path, params={"format": "json"})
    assert as_json.status_code == 200, as_json.text
    assert as_json.headers["content-type"].startswith("application/json")
    assert len(as_json.content) == job["files"]["json"]
    as_csv = api.client.get(path, params={"format": "csv"})
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"] == "application/zip"
    assert "attachment" in as_csv.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(as_csv.content)) as archive:
        tables = {
            name.removesuffix(".csv"): list(
                csv.DictReader(io.StringIO(archive.read(name).decode()))
            )
            for name in archive.namelist()
        }
    return {"job": job, "document": as_json.json(), "tables": tables}


def _send(api: Api, write_key: str, kind: str, **body: Any) -> str:
    message_id = unique("m")
    api.track(write_key, f"/v1/{kind}", messageId=message_id, **body)
    return message_id


@pytest.fixture(scope="module")
def person(api: Api) -> dict[str, Any]:
    """A workspace where Ann (u-1, anonymous a-1 and a-2, merged) and Bob (u-2) did things."""
    workspace = api.workspace()
    source = api.source(workspace=workspace)
    key = source["write_key"]
    base = _base(workspace)
    audience = {"version": 1, "condition": {"type": "event", "event": "Order Completed"}}
    api.ok(
        "POST",
        f"{base}/audiences",
        201,
        json={"key": "buyers", "name": "Buyers", "definition": audience},
    )
    trait = {"version": 1, "kind": "counter", "event": "Order Completed"}
    api.ok(
        "POST",
        f"{base}/computed-traits",
        201,
        json={"key": "orders", "name": "Orders", "definition": trait},
    )
    with Sink() as sink:
        hook = unique("hook")
        destination = api.ok(
            "POST",
            f"{base}/destinations",
            201,
            json={"name": hook, "kind": "webhook", "config": {"url": sink.url}},
        )
        time.sleep(2.5)  # the router reloads destinations every 2 s
        ann = [
            _send(
                api,
                key,
                "track",
                anonymousId="a-1",
                event="Viewed",
                context={"consent": {"categoryPreferences": {"Analytics": True}}},
            ),
            _send(
                api,
                key,
                "identify",
                userId="u-1",
                anonymousId="a-1",
                traits={"email": "ann@example.com", "plan": "pro"},
            ),
            _send(api, key, "track", userId="u-1", event="Order Completed"),
            _send(
                api,
                key,
                "track",
                userId="u-1",
                event="Segment Consent Preference Updated",
                context={"consent": {"categoryPreferences": {"Analytics": True, "Ads": False}}},
            ),
            _send(api, key, "track", anonymousId="a-2", event="Viewed"),
            _send(api, key, "identify", userId="u-1", anonymousId="a-2"),
        ]
        bob = [
            _send(api, key, "identify", userId="u-2", traits={"email": "bob@example.com"}),
            _send(api, key, "track", userId="u-2", event="Order Completed"),
        ]
        stats = f"{base}/destinations/{destination['id']}/stats"

        def delivered() -> bool:
            totals = api.ok("GET", stats)["totals"]
            return bool(totals["delivered"] >= len(ann) + len(bob))

        _eventually(delivered, "the webhook's deliveries")
        received = {request.json()["messageId"] for request in sink.requests}
    assert set(ann) | set(bob) <= received

    def merged() -> Any:
        found = api.ok("GET", f"{base}/profiles", params={"identifier": "anonymous_id:a-2"})
        if len(found) != 1:
            return None
        profile = api.ok("GET", f"{base}/profiles/{found[0]['id']}")
        ids = {(i["type"], i["value"]) for i in profile["identifiers"]}
        return profile if ("user_id", "u-1") in ids and len(profile["events"]) == len(ann) else None

    profile = _eventually(merged, "Ann's profiles merged")

    def member() -> Any:
        found = api.ok("GET", f"{base}/profiles/{profile['id']}/audiences")
        return found if [a["key"] for a in found["audiences"]] == ["buyers"] else None

    _eventually(member, "Ann in the audience")
    journeys = f"{base}/journeys"
    api.ok("POST", journeys, 201, json={"key": "welcome", "name": "Welcome", "document": _JOURNEY})
    api.ok("POST", f"{journeys}/welcome/publish", json={})
    api.ok("POST", f"{journeys}/welcome/start", json={"profile_ids": [profile["id"]]})
    _eventually(lambda: api.ok("GET", f"{base}/profiles/{profile['id']}/journeys"), "Ann's journey")
    return {"workspace": workspace, "ann": ann, "bob": bob, "hook": hook, "profile": profile}


def test_an_export_holds_everything_about_the_person_and_nothing_else(
    api: Api, person: dict[str, Any]
) -> None:
    found = _export(api, person["workspace"], "USER_ID", "u-1")
    document, tables, job = found["document"], found["tables"], found["job"]
    ann, bob = person["ann"], person["bob"]

    assert document["export"]["subject_id"] == "u-1"
    assert len(document["export"]["profile_ids"]) == 2
    # Profile and identifiers: the traits sent, every identifier of both merged profiles.
    assert document["profile"]["id"] == person["profile"]["id"]
    assert document["profile"]["traits"]["email"]["value"] == "ann@example.com"
    assert document["profile"]["traits"]["plan"]["value"] == "pro"
    assert len(document["profile"]["merges"]) == 1
    identifiers = {(i["type"], i["value"]) for i in document["identifiers"]}
    assert identifiers == {
        ("user_id", "u-1"),
        ("anonymous_id", "a-1"),
        ("anonymous_id", "a-2"),
        ("email", "ann@example.com"),
    }
    # Consent now, and its history: both events that carried preferences, oldest first.
    consent = document["consent"]
    assert consent["categories"] == {"Analytics": True, "Ads": False}
    assert consent["message_id"] == ann[3]
    assert [h["message_id"] for h in consent["history"]] == [ann[0], ann[3]]
    assert consent["history"][1]["event"] == "Segment Consent Preference Updated"
    # Memberships, journeys, destinations.
    memberships = document["memberships"]
    assert [a["key"] for a in memberships["audiences"]] == ["buyers"]
    assert memberships["computed_traits"] == {"orders": 1}
    assert {(c["key"], c["change"]) for c in memberships["history"]} >= {("buyers", "entered")}
    assert [j["journey"] for j in document["journeys"]] == ["welcome"]
    assert document["journeys"][0]["steps"][0]["node"] == "a"
    (destination,) = document["destinations"]
    assert (destination["name"], destination["kind"]) == (person["hook"], "webhook")
    assert destination["events"] == len(ann)
    assert destination["first_delivered_at"] <= destination["last_delivered_at"]
    # Every event of the person, in full, and none of Bob's.
    events = document["events"]
    assert [e["messageId"] for e in events] == sorted(ann, key=ann.index)
    assert events[1]["traits"] == {"email": "ann@example.com", "plan": "pro"}
    text = json.dumps(document)
    assert "bob@example.com" not in text
    assert "u-2" not in text
    assert not set(bob) & {e["messageId"] for e in events}
    assert job["counts"]["events"] == len(ann)

    # The CSV files say the same.
    assert [row["message_id"] for row in tables["events"]] == [e["messageId"] for e in events]
    assert json.loads(tables["events"][1]["message"]) == events[1]
    assert {(r["type"], r["value"]) for r in tables["identifiers"]} == identifiers
    traits = {r["trait"]: r["value"] for r in tables["profile_traits"]}
    assert traits == {"email": "ann@example.com", "plan": "pro"}
    assert [r["message_id"] for r in tables["consent_history"]] == [ann[0], ann[3]]
    assert {r["category"]: r["consented"] for r in tables["consent"]} == {
        "Analytics": "true",
        "Ads": "false",
    }
    assert [r["key"] for r in tables["audiences"]] == ["buyers"]
    assert {r["key"]: r["value"] for r in tables["computed_traits"]} == {"orders": "1"}
    assert [r["journey"] for r in tables["journeys"]] == ["welcome"]
    assert [r["node"] for r in tables["journey_steps"]] == ["a"]
    assert [(r["name"], r["events"]) for r in tables["destinations"]] == [
        (person["hook"], str(len(ann)))
    ]


def test_an_anonymous_id_exports_the_same_person(api: Api, person: dict[str, Any]) -> None:
    found = _export(api, person["workspace"], "ANONYMOUS_ID", "a-1")
    document = found["document"]
    assert document["profile"]["id"] == person["profile"]["id"]
    assert {e["messageId"] for e in document["events"]} == set(person["ann"])


def test_a_subject_the_graph_does_not_know_gives_an_empty_export(
    api: Api, person: dict[str, Any]
) -> None:
    found = _export(api, person["workspace"], "USER_ID", "nobody")
    document, tables = found["document"], found["tables"]
    assert document["profile"] is None
    assert document["identifiers"] == [
        {
            "type": "user_id",
            "value": "nobody",
            "added_at": None,
            "message_id": None,
            "source_id": None,
        }
    ]
    assert document["events"] == []
    assert document["destinations"] == []
    assert document["journeys"] == []
    assert document["consent"]["history"] == []
    assert document["memberships"] == {"audiences": [], "computed_traits": {}, "history": []}
    assert tables["events"] == []
    assert [r["value"] for r in tables["identifiers"]] == ["nobody"]


def test_bad_input_is_refused(api: Api, person: dict[str, Any]) -> None:
    path = f"{_base(person['workspace'])}/privacy/exports"
    for body in (
        {"subject_type": "EMAIL", "subject_id": "x"},
        {"subject_type": "USER_ID", "subject_id": ""},
        {"subject_type": "USER_ID"},
        {"subject_type": "USER_ID", "subject_id": "x", "extra": 1},
        {"subject_type": "USER_ID", "subject_id": 5},
    ):
        api.error("POST", path, 400, "invalid_request", json=body)
    api.error(
        "POST",
        path,
        400,
        "invalid_json",
        content=b"{",
        headers={"content-type": "application/json"},
    )
    api.error(
        "POST", path, 400, "invalid_subject", json={"subject_type": "USER_ID", "subject_id": "  "}
    )
    api.error("GET", f"{path}/999999", 404, "export_not_found")
    api.error("GET", f"{path}/999999/download", 404, "export_not_found")
    api.error("GET", f"{_base('no-such-workspace')}/privacy/exports", 404, "workspace_not_found")
    done = _export(api, person["workspace"], "USER_ID", "u-2")["job"]
    response = api.client.get(f"{path}/{done['id']}/download", params={"format": "xml"})
    assert 400 <= response.status_code < 500
    assert response.json()["success"] is False


def _token(api: Api, workspace: str, role: str, *, pii_read: bool = False) -> httpx.Client:
    created = api.ok(
        "POST",
        f"{_base(workspace)}/tokens",
        201,
        json={"name": unique(role), "role": role, "pii_read": pii_read, "service_account": True},
    )
    return httpx.Client(
        base_url=api.server.url,
        headers={"Authorization": f"Bearer {created['token']}"},
        timeout=30,
    )


def test_who_may_create_read_and_download(api: Api, person: dict[str, Any]) -> None:
    workspace = person["workspace"]
    path = f"{_base(workspace)}/privacy/exports"
    subject = {"subject_type": "USER_ID", "subject_id": "u-1"}
    with _token(api, workspace, "analyst", pii_read=True) as analyst:
        refused = analyst.post(path, json=subject)
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
        assert analyst.get(path).status_code == 403
    with _token(api, workspace, "privacy_admin") as privacy_admin:
        created = privacy_admin.post(path, json=subject)
        assert created.status_code == 202, created.text
        job = _finished(api, workspace, created.json()["id"])
        assert (
            privacy_admin.get(f"{path}/{job['id']}")
            .json()["requested_by"]
            .startswith("privacy_admin")
        )
        listed = privacy_admin.get(path).json()
        assert job["id"] in {j["id"] for j in listed}
        withheld = privacy_admin.get(f"{path}/{job['id']}/download")
        assert (withheld.status_code, withheld.json()["code"]) == (403, "pii_read_required")
    with _token(api, workspace, "privacy_admin", pii_read=True) as trusted:
        download = trusted.get(f"{path}/{job['id']}/download", params={"format": "json"})
        assert download.status_code == 200
        assert download.json()["export"]["subject_id"] == "u-1"
    counted = api.ok("GET", f"{path}/{job['id']}")
    assert counted["downloads"] == 1
    assert counted["last_downloaded_at"] is not None
    # Another workspace sees none of it.
    other = api.workspace()
    api.error("GET", f"{_base(other)}/privacy/exports/{job['id']}", 404, "export_not_found")


def test_creating_an_export_is_in_the_audit_trail(api: Api, person: dict[str, Any]) -> None:
    workspace = person["workspace"]
    created = api.ok(
        "POST",
        f"{_base(workspace)}/privacy/exports",
        202,
        json={"subject_type": "ANONYMOUS_ID", "subject_id": "a-2"},
    )
    entries = api.ok(
        "GET", f"{_base(workspace)}/audit", params={"action": "subject_export.create"}
    )["data"]
    (entry,) = [e for e in entries if e["resource"] == f"subject_export:{created['id']}"]
    assert entry["after"]["subject_id"] == "a-2"
    assert entry["actor"]["label"] == "first owner"
    # Each download too: who took the person's data away, and in which form.
    _finished(api, workspace, created["id"])
    path = f"{_base(workspace)}/privacy/exports/{created['id']}/download"
    for file_format in ("json", "csv"):
        assert api.client.get(path, params={"format": file_format}).status_code == 200
    downloads = api.ok(
        "GET", f"{_base(workspace)}/audit", params={"action": "subject_export.download"}
    )["data"]
    taken = [e for e in downloads if e["resource"] == f"subject_export:{created['id']}"]
    assert sorted(e["after"]["format"] for e in taken) == ["csv", "json"]
    assert {e["actor"]["label"] for e in taken} == {"first owner"}


def test_the_cli_exports_and_waits(
    api: Api, server: RunningServer, person: dict[str, Any], tmp_path: Path
) -> None:
    cli = cli_for(server, tmp_path)
    out = tmp_path / "u-1.json"
    done = cli.run(
        "privacy",
        "export",
        "--user-id",
        "u-1",
        "--workspace",
        person["workspace"],
        "--wait",
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr + done.stdout
    document = json.loads(out.read_text())
    assert {e["messageId"] for e in document["events"]} == set(person["ann"])
    archive = tmp_path / "a-1.zip"
    done = cli.run(
        "privacy",
        "export",
        "--anonymous-id",
        "a-1",
        "--workspace",
        person["workspace"],
        "--wait",
        "--format",
        "csv",
        "-o",
        str(archive),
    )
    assert done.returncode == 0, done.stderr + done.stdout
    with zipfile.ZipFile(archive) as files:
        assert "events.csv" in files.namelist()
    queued = cli.run(
        "privacy", "export", "--user-id", "u-1", "--workspace", person["workspace"], "--json"
    )
    assert queued.json()["status"] in ("queued", "running", "done")
    both = cli.run("privacy", "export", "--user-id", "u-1", "--anonymous-id", "a-1")
    assert both.returncode == 2
