"""The management API and the CLI for tracking plans, against a running ``headwater serve``
(its processor enforcing the plans on events sent to ``/v1/batch``)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.cli.conftest import Cli, Finished, clean_env, cli_for
from tests.protocols.plans import VALID_ORDER, WEB, track
from tests.protocols.test_plan import SEGMENT_CSV
from tests.server import RunningServer

BASE = "/api/v1/workspaces/default"


def eventually(probe: Callable[[], Any], check: Callable[[Any], bool], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if check(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def send(server: RunningServer, *messages: dict[str, Any]) -> None:
    response = httpx.post(
        f"{server.url}/v1/batch", json={"batch": list(messages)}, auth=(server.write_key, "")
    )
    assert response.status_code == 200, response.text


_JSON = {"content-type": "application/json"}


def test_plans_lifecycle_and_errors(server: RunningServer) -> None:
    with server.admin() as api:
        created = api.post(f"{BASE}/tracking-plans", json=WEB)
        assert created.status_code == 201, created.text
        assert created.json()["slug"] == "web"
        assert created.json()["version"] == 1
        again = api.post(f"{BASE}/tracking-plans", json=WEB)
        assert (again.status_code, again.json()["code"]) == (409, "plan_exists")
        bad = api.post(f"{BASE}/tracking-plans", json={"name": "X", "events": [{"name": 1}]})
        assert (bad.status_code, bad.json()["code"]) == (400, "invalid_plan")
        not_json = api.post(f"{BASE}/tracking-plans", content=b"{", headers=_JSON)
        assert (not_json.status_code, not_json.json()["code"]) == (400, "invalid_json")
        bad_schema = {"name": "Y", "events": [{"name": "A", "schema": {"type": 3}}]}
        assert api.post(f"{BASE}/tracking-plans", json=bad_schema).status_code == 400

        changed = json.loads(json.dumps(WEB))
        changed["events"].append({"name": "Logged In"})
        updated = api.put(f"{BASE}/tracking-plans/web", json=changed, params={"note": "login"})
        assert updated.json()["version"] == 2
        same = api.put(f"{BASE}/tracking-plans/web", json=changed)
        assert same.json()["version"] == 2
        versions = api.get(f"{BASE}/tracking-plans/web/versions").json()
        assert [(v["version"], v["note"]) for v in versions] == [(2, "login"), (1, "")]
        diff = api.get(f"{BASE}/tracking-plans/web/diff", params={"from": 1}).json()
        assert diff["events"]["added"] == [{"type": "track", "name": "Logged In"}]
        assert api.get(f"{BASE}/tracking-plans/web/diff", params={"from": 9}).status_code == 404
        old = api.get(f"{BASE}/tracking-plans/web", params={"version": 1}).json()
        assert len(old["document"]["events"]) == 2

        exported = api.get(f"{BASE}/tracking-plans/web/export", params={"format": "yaml"})
        assert yaml.safe_load(exported.text)["events"][2]["name"] == "Logged In"
        csv = api.get(f"{BASE}/tracking-plans/web/export", params={"format": "csv"})
        assert csv.headers["content-type"].startswith("text/csv")
        assert "Track,Order Completed,order_id" in csv.text

        imported = api.post(
            f"{BASE}/tracking-plans/import",
            params={"format": "csv", "name": "Shop"},
            content=SEGMENT_CSV.encode(),
        )
        assert imported.status_code == 201, imported.text
        no_name = api.post(f"{BASE}/tracking-plans/import", params={"format": "csv"}, content=b"a")
        assert no_name.status_code == 400
        assert [p["slug"] for p in api.get(f"{BASE}/tracking-plans").json()] == ["shop", "web"]

        code = api.get(f"{BASE}/tracking-plans/web/codegen", params={"lang": "typescript"})
        assert "orderCompleted(identity: Identity" in code.text
        assert api.get(f"{BASE}/tracking-plans/nope").status_code == 404
        assert api.delete(f"{BASE}/tracking-plans/shop").status_code == 204
        assert api.get("/api/v1/workspaces/nope/tracking-plans").status_code == 404
    anonymous = httpx.get(f"{server.url}{BASE}/tracking-plans")
    assert anonymous.status_code == 401


def test_enforcement_violations_quarantine_and_observed_schema(server: RunningServer) -> None:
    with server.admin() as api:
        [source] = [
            s["id"]
            for s in api.get("/api/v1/workspaces/default/sources").json()
            if s["name"] == "tests"
        ]
        assert api.post(f"{BASE}/tracking-plans", json=WEB).status_code == 201
        connect = f"{BASE}/sources/{source}/tracking-plan"
        bad = api.put(connect, json={"plan": "web", "settings": {"violations": "shout"}})
        assert (bad.status_code, bad.json()["code"]) == (400, "invalid_settings")
        assert api.put(f"{BASE}/sources/999/tracking-plan", json={"plan": "web"}).status_code == 404
        ok = api.put(connect, json={"plan": "web", "settings": {"violations": "block"}})
        assert ok.json()["settings"]["violations"] == "block"

        invalid = track("Order Completed", {"order_id": "o9", "total": "a lot"}, messageId="bad-1")
        send(server, VALID_ORDER | {"messageId": "good-1"}, invalid)
        quarantine = eventually(
            lambda: api.get(f"{BASE}/quarantine").json(), lambda found: len(found) == 1
        )
        assert quarantine[0]["message_id"] == "bad-1"
        assert quarantine[0]["reason"] == "violations"
        violations = api.get(f"{BASE}/violations", params={"source_id": source}).json()
        assert [(v["type"], v["path"], v["count"]) for v in violations["violations"]] == [
            ("datatype_mismatch", "properties.total", 1)
        ]
        assert (
            api.get(
                f"{BASE}/violations",
                params={"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
            ).status_code
            == 400
        )

        fixed = json.loads(json.dumps(WEB))
        fixed["events"][0]["schema"]["properties"]["total"] = {}
        assert api.put(f"{BASE}/tracking-plans/web", json=fixed).json()["version"] == 2
        replayed = api.post(f"{BASE}/quarantine/replay", json={"ids": [quarantine[0]["id"]]})
        assert replayed.json()["replayed"] == 1
        released = eventually(
            lambda: api.get(f"{BASE}/quarantine", params={"status": "all"}).json(),
            lambda found: found[0]["status"] == "released",
        )
        assert released[0]["status"] == "released"
        assert api.post(f"{BASE}/quarantine/replay", json={}).status_code == 400
        assert api.post(f"{BASE}/quarantine/replay", json={"ids": [12345]}).status_code == 404

        observed = api.get(f"{BASE}/sources/{source}/observed-schema").json()
        [order] = [e for e in observed if e["name"] == "Order Completed"]
        assert order["count"] == 3  # two sent, one replayed
        total = {p["path"]: p for p in order["properties"]}["properties.total"]
        assert total["types"] == {"number": 1, "string": 2}
        draft = api.get(f"{BASE}/sources/{source}/observed-schema/plan").json()
        assert draft["events"][0]["schema"]["properties"]["total"]["type"] == ["number", "string"]
        assert api.delete(connect).status_code == 204
        assert api.get(connect).status_code == 404


def _cli(server: RunningServer, *args: str) -> Finished:
    return cli_for(server, server.data_dir / "cli").run("plans", *args)


def test_cli_plans(server: RunningServer, tmp_path: Path) -> None:
    plan_file = tmp_path / "web.yaml"
    plan_file.write_text(yaml.safe_dump(WEB))
    created = _cli(server, "create", str(plan_file), "--json")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["slug"] == "web"
    csv_file = tmp_path / "shop.csv"
    csv_file.write_text(SEGMENT_CSV)
    assert _cli(server, "import", str(csv_file), "--name", "Shop").returncode == 0
    broken = tmp_path / "broken.json"
    broken.write_text('{"name": "B", "events": [{"name": "A", "schema": {"type": 1}}]}')
    failed = _cli(server, "import", str(broken), "--json")
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["code"] == "invalid_plan"
    assert [p["slug"] for p in json.loads(_cli(server, "list", "--json").stdout)] == ["shop", "web"]
    assert json.loads(_cli(server, "show", "web", "--json").stdout)["document"]["name"] == "Web"
    exported = _cli(server, "export", "shop", "--format", "csv")
    assert exported.stdout.startswith("Event Type,Event Name")

    with server.admin() as api:
        [source] = [
            s["id"]
            for s in api.get("/api/v1/workspaces/default/sources").json()
            if s["name"] == "tests"
        ]
    connected = _cli(server, "connect", "web", str(source), "--violations", "flag", "--json")
    assert json.loads(connected.stdout)["settings"]["violations"] == "flag"
    assert _cli(server, "connect", "web", str(source), "--violations", "x").returncode == 1

    send(server, track("Signed Up", {"method": "email", "ref": 3}))
    draft = tmp_path / "draft.yaml"
    inferred = eventually(
        lambda: _cli(server, "infer", str(source), "--out", str(draft)),
        lambda done: done.returncode == 0,
    )
    assert inferred.returncode == 0, inferred.stdout + inferred.stderr
    drafted = yaml.safe_load(draft.read_text())
    assert drafted["events"][0]["schema"]["properties"] == {
        "method": {"type": "string"},
        "ref": {"type": "integer"},
    }
    module = tmp_path / "tracking.py"
    assert _cli(server, "codegen", "web", "--lang", "python", "--out", str(module)).returncode == 0
    assert "def order_completed(" in module.read_text()
    # From a local file, codegen needs no server at all.
    offline = Cli(clean_env(tmp_path / "config"), tmp_path)
    local = offline.run("plans", "codegen", "--file", str(plan_file), "--lang", "typescript")
    assert local.returncode == 0, local.stderr
    assert "orderCompleted" in local.stdout
    diff = json.loads(_cli(server, "diff", "web", "1", "--json").stdout)
    assert diff["breaking"] is False
