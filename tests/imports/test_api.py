"""File imports through the API of a real ``headwater serve``: upload, dry run, start, the
rows in the event log, idempotency, limits and the audit trail."""

from __future__ import annotations

import asyncio
import io
import time
import uuid

import httpx
import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from tests.imports.conftest import client, finished, log_counts, upload
from tests.server import RunningServer

_EVENTS = (
    "user_id,event,timestamp,price,paid,zip\n"
    "u1,Order Completed,2026-01-02T03:04:05Z,9.5,true,00123\n"
    ",Order Completed,2026-01-02T03:04:05Z,1,false,1\n"  # row 2: no user
    "u2,Order Completed,not a time,2,false,1\n"  # row 3: bad timestamp
    "u3,Order Completed,2026-01-03T00:00:00Z,3,false,1\n"
    "u4,,2026-01-03T00:00:00Z,4,false,1\n"  # row 5: no event
)


def _workspace(http: httpx.Client) -> tuple[str, int]:
    slug = f"imp-{uuid.uuid4().hex[:10]}"
    assert http.post("/workspaces", json={"slug": slug}).status_code in (200, 201)
    source = http.post(f"/workspaces/{slug}/sources", json={"name": "files"}).json()
    return slug, int(source["id"])


async def test_events_file_dry_run_then_import_then_again(
    imports_server: RunningServer, imports_database_url: str
) -> None:
    with client(imports_server) as http:
        slug, source_id = _workspace(http)
        response = upload(http, slug, source_id, "events", _EVENTS.encode())
        assert response.status_code == 201, response.text
        job = response.json()
        assert job["status"] == "uploaded"
        assert job["rows_total"] == 5
        assert job["columns"] == ["user_id", "event", "timestamp", "price", "paid", "zip"]
        assert job["mapping"]["user_id"] == "user_id"
        assert job["mapping"]["event"] == "event"
        assert job["mapping"]["fields"] == {"price": "price", "paid": "paid", "zip": "zip"}

        dry = http.post(f"/workspaces/{slug}/imports/{job['id']}/dry-run", json={}).json()
        assert (dry["rows"], dry["valid"], dry["rejected"]) == (5, 2, 3)
        assert [(e["row"], e["column"]) for e in dry["errors"]] == [
            (2, "user_id"),
            (3, "timestamp"),
            (5, "event"),
        ]
        assert await log_counts(imports_database_url, source_id) == (0, 0)  # nothing written

        started = http.post(f"/workspaces/{slug}/imports/{job['id']}/start", json={})
        assert started.status_code == 202, started.text
        done = finished(http, slug, job["id"])
        assert done["status"] == "done", done
        assert (done["checkpoint"], done["imported"], done["duplicates"], done["rejected"]) == (
            5,
            2,
            0,
            3,
        )
        assert [e["row"] for e in done["errors"]] == [2, 3, 5]
        assert done["sample"] == []  # personal data, forgotten once the import ended
        assert await log_counts(imports_database_url, source_id) == (2, 2)

        rejections = http.get(f"/workspaces/{slug}/rejections", params={"source_id": source_id})
        reasons = [r["reason"] for r in rejections.json()]
        assert sum(f"import {job['id']}, row" in reason for reason in reasons) == 3

        again = upload(http, slug, source_id, "events", _EVENTS.encode()).json()
        http.post(f"/workspaces/{slug}/imports/{again['id']}/start", json={})
        second = finished(http, slug, again["id"])
        assert (second["imported"], second["duplicates"], second["rejected"]) == (0, 2, 3)
        assert await log_counts(imports_database_url, source_id) == (2, 2)

        history = http.get(f"/workspaces/{slug}/imports").json()
        assert [j["id"] for j in history] == [again["id"], job["id"]]
        actions = [e["action"] for e in http.get(f"/workspaces/{slug}/audit").json()["data"]]
        assert actions.count("import.upload") == 2
        assert actions.count("import.start") == 2


async def test_types_are_kept_from_csv_and_parquet(
    imports_server: RunningServer, imports_database_url: str
) -> None:
    with client(imports_server) as http:
        slug, source_id = _workspace(http)
        job = upload(http, slug, source_id, "events", _EVENTS.encode()).json()
        http.post(f"/workspaces/{slug}/imports/{job['id']}/start", json={})
        finished(http, slug, job["id"])
        page = http.get(f"/workspaces/{slug}/sources/{source_id}/events").json()
        [first] = [e for e in page if e["payload"]["userId"] == "u1"]
        properties = first["payload"]["properties"]
        assert properties == {"price": 9.5, "paid": True, "zip": "00123"}
        assert first["payload"]["timestamp"] == "2026-01-02T03:04:05.000Z"

        buffer = io.BytesIO()
        table = pa.table({"email": ["a@x.io", "b@x.io"], "age": [31, 42], "vip": [True, False]})
        pq.write_table(table, buffer)
        response = upload(
            http,
            slug,
            source_id,
            "profiles",
            buffer.getvalue(),
            content_type="application/vnd.apache.parquet",
            file_name="people.parquet",
        )
        assert response.status_code == 201, response.text
        job = response.json()
        assert job["format"] == "parquet"
        assert (job["rows_total"], job["columns"]) == (2, ["email", "age", "vip"])
        assert job["sample"][1] == {"email": "b@x.io", "age": 42, "vip": False}
        http.post(f"/workspaces/{slug}/imports/{job['id']}/start", json={})
        assert finished(http, slug, job["id"])["imported"] == 2
        page = http.get(f"/workspaces/{slug}/sources/{source_id}/events").json()
        identify = [e["payload"] for e in page if e["payload"]["type"] == "identify"]
        assert {m["userId"]: m["traits"] for m in identify} == {
            "a@x.io": {"email": "a@x.io", "age": 31, "vip": True},
            "b@x.io": {"email": "b@x.io", "age": 42, "vip": False},
        }
        # the processor treats imported rows as any event: a profile with the traits
        deadline = time.monotonic() + 30
        while not (
            found := http.get(f"/workspaces/{slug}/profiles", params={"value": "b@x.io"}).json()
        ):
            assert time.monotonic() < deadline, "no profile was built from the import"
            await asyncio.sleep(0.1)
        profile = http.get(f"/workspaces/{slug}/profiles/{found[0]['id']}").json()
        assert profile["traits"]["age"]["value"] == 42


def test_jsonl_accounts_with_a_chosen_mapping(imports_server: RunningServer) -> None:
    rows = [
        {"member": "u1", "company": "c1", "name": "Acme", "seats": 12},
        {"member": "u2", "company": None, "name": "Nope", "seats": 1},
        "not an object",
    ]
    body = b"\n".join(msgspec.json.encode(r) for r in rows) + b"\n"
    with client(imports_server) as http:
        slug, source_id = _workspace(http)
        job = upload(
            http, slug, source_id, "accounts", body, content_type="application/x-ndjson"
        ).json()
        mapping = {"user_id": "member", "group_id": "company", "fields": {"name": "name"}}
        dry = http.post(
            f"/workspaces/{slug}/imports/{job['id']}/dry-run", json={"mapping": mapping}
        ).json()
        assert [(e["row"], e["column"]) for e in dry["errors"]] == [(2, "company"), (3, None)]
        http.post(f"/workspaces/{slug}/imports/{job['id']}/start", json={"mapping": mapping})
        done = finished(http, slug, job["id"])
        assert (done["imported"], done["rejected"]) == (1, 2)
        assert done["mapping"] == mapping
        page = http.get(f"/workspaces/{slug}/sources/{source_id}/events").json()
        [group] = [e["payload"] for e in page]
        assert (group["type"], group["groupId"], group["traits"]) == (
            "group",
            "c1",
            {"name": "Acme"},
        )


def test_bad_uploads_and_mappings_answer_json_errors(imports_server: RunningServer) -> None:
    with client(imports_server) as http:
        slug, source_id = _workspace(http)
        other, other_source = _workspace(http)
        too_many = "id\n" + "".join(f"{i}\n" for i in range(5001))
        response = upload(http, slug, source_id, "profiles", too_many.encode())
        assert (response.status_code, response.json()["code"]) == (413, "too_many_rows")
        too_big = b"id\n" + b"x" * 2_000_001
        response = upload(http, slug, source_id, "profiles", too_big)
        assert (response.status_code, response.json()["code"]) == (413, "file_too_large")
        response = upload(
            http,
            slug,
            source_id,
            "profiles",
            b"id\n1\n",
            content_type="application/vnd.apache.parquet",
        )
        assert (response.status_code, response.json()["code"]) == (422, "unreadable_file")
        response = upload(
            http,
            slug,
            source_id,
            "profiles",
            b"id\n1\n",
            content_type="application/octet-stream",
            file_name="blob",
        )
        assert (response.status_code, response.json()["code"]) == (415, "unknown_file_format")
        response = upload(http, slug, other_source, "profiles", b"id\n1\n")
        assert (response.status_code, response.json()["code"]) == (404, "source_not_found")

        job = upload(http, slug, source_id, "events", b"who,what\nu,E\n").json()
        response = http.post(f"/workspaces/{slug}/imports/{job['id']}/start", json={})
        assert (response.status_code, response.json()["code"]) == (422, "invalid_mapping")
        assert http.get(f"/workspaces/{other}/imports/{job['id']}").status_code == 404
        mapping = {"user_id": "who", "event": "what"}
        ok = http.post(f"/workspaces/{slug}/imports/{job['id']}/start", json={"mapping": mapping})
        assert ok.status_code == 202
        response = http.post(f"/workspaces/{slug}/imports/{job['id']}/start", json={})
        assert (response.status_code, response.json()["code"]) == (409, "import_started")
        assert finished(http, slug, job["id"])["imported"] == 1
