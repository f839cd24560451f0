"""Segment's regulations API under ``/v1`` and in the management API: the shapes of Segment's
documented answers, bad input, permissions and the audit trail."""

from __future__ import annotations

import re

import httpx

from tests.privacy.helpers import ended, public, regulate, service_token
from tests.server import ADMIN_TOKEN, RunningServer

_SEGMENT_ID = re.compile(r"^[A-Za-z0-9]{27}$")
_DIGEST = re.compile(r"^hmac-sha256:[0-9a-f]{64}$")


def _body(kind: str = "SUPPRESS_ONLY", ids: object = ("u-1",), subject: str = "USER_ID") -> dict:
    return {"regulationType": kind, "subjectType": subject, "subjectIds": list(ids)}  # type: ignore[call-overload]


def test_the_answers_have_segments_shapes(server: RunningServer) -> None:
    slug, _, source_id = server.new_workspace()
    with public(server, slug) as client:
        created = client.post("/regulations", json=_body(ids=["u-1", "u-2"]))
        assert created.status_code == 200, created.text
        regulate_id = created.json()["data"]["regulateId"]
        assert _SEGMENT_ID.match(regulate_id)
        by_source = client.post(f"/regulations/sources/{source_id}", json=_body(ids=["u-3"]))
        assert by_source.status_code == 200, by_source.text

        regulation = ended(server, slug, regulate_id)
        assert set(regulation) >= {
            "id",
            "workspaceId",
            "overallStatus",
            "createdAt",
            "streamStatus",
        }
        assert (regulation["id"], regulation["workspaceId"]) == (regulate_id, slug)
        assert regulation["overallStatus"] == "FINISHED"
        assert regulation["finishedAt"] >= regulation["createdAt"]
        [stream] = regulation["streamStatus"]
        assert stream["id"] == slug
        [headwater] = stream["destinationStatus"]
        assert set(headwater) == {"name", "id", "status", "errString", "finishedAt"}
        assert (headwater["id"], headwater["status"]) == ("headwater", "FINISHED")
        # A status per subject, the subject shown as its digest (the id is not kept).
        targets = regulation["targets"]
        assert [t["status"] for t in targets] == ["FINISHED", "FINISHED"]
        assert all(_DIGEST.match(t["subject"]) for t in targets)
        # ... or as the id, to the one who names it.
        named = client.get(f"/regulations/{regulate_id}", params={"subjectId": "u-2"}).json()
        subjects = [t["subject"] for t in named["data"]["regulation"]["targets"]]
        assert subjects[1] == "u-2"
        assert _DIGEST.match(subjects[0])

        listed = client.get("/regulations", params={"pagination.count": 1}).json()["data"]
        [entry] = listed["regulations"]
        assert set(entry) >= {
            "id",
            "subjectType",
            "subjects",
            "status",
            "createdAt",
            "regulationType",
        }
        assert entry["regulationType"] == "SUPPRESS_ONLY"
        assert listed["pagination"]["current"] == "MA=="
        assert listed["pagination"]["totalEntries"] == 2
        following = client.get(
            "/regulations",
            params={"pagination.count": 1, "pagination.cursor": listed["pagination"]["next"]},
        ).json()["data"]
        assert [r["id"] for r in following["regulations"]] != [entry["id"]]
        assert "next" not in following["pagination"]
        of_source = client.get(f"/regulations/sources/{source_id}").json()["data"]["regulations"]
        assert [r["id"] for r in of_source] == [by_source.json()["data"]["regulateId"]]
        by_subject = client.get("/regulations", params={"subjectId": "u-3"}).json()["data"]
        assert [r["subjects"] for r in by_subject["regulations"]] == [["u-3"]]

        suppressions = client.get("/suppressions").json()["data"]
        assert suppressions["pagination"]["totalEntries"] == 3
        [group] = suppressions["suppressed"]
        assert group["subjectType"] == "USER_ID"
        assert all(_DIGEST.match(i) for i in group["subjectIds"])
        asked = client.get("/suppressions", params={"subjectId": "u-1"}).json()["data"]
        assert asked["suppressed"] == [{"subjectType": "USER_ID", "subjectIds": ["u-1"]}]
        unknown = client.get("/suppressions", params={"subjectId": "nobody"}).json()["data"]
        assert unknown["suppressed"] == []

    # The management API answers the same.
    base = f"/api/v1/workspaces/{slug}"
    same = server.api("GET", f"{base}/regulations/{regulate_id}")
    assert same["data"]["regulation"]["id"] == regulate_id
    assert server.api("GET", f"{base}/suppressions")["data"]["pagination"]["totalEntries"] == 3


def test_bad_input_is_a_400_that_says_what(server: RunningServer) -> None:
    slug, _, _ = server.new_workspace()
    cases = [
        (_body(kind="FORGET_ME"), "invalid_regulation_type"),
        (_body(subject="OBJECT_ID"), "invalid_subject_type"),
        (_body(ids=[]), "invalid_subject_ids"),
        (_body(ids=[f"u-{i}" for i in range(5001)]), "too_many_subject_ids"),
    ]
    with public(server, slug) as client:
        for body, code in cases:
            answer = client.post("/regulations", json=body)
            assert answer.status_code == 400, answer.text
            assert (answer.json()["success"], answer.json()["code"]) == (False, code)
            assert answer.json()["message"]
        not_json = client.post(
            "/regulations", content=b"{", headers={"Content-Type": "application/json"}
        )
        assert (not_json.status_code, not_json.json()["code"]) == (400, "invalid_json")
        unknown_source = client.post("/regulations/sources/999999", json=_body())
        assert (unknown_source.status_code, unknown_source.json()["code"]) == (
            404,
            "source_not_found",
        )
        unknown = client.get("/regulations/nope")
        assert (unknown.status_code, unknown.json()["code"]) == (404, "regulation_not_found")
        bad_cursor = client.get("/regulations", params={"pagination.cursor": "%%%"})
        assert (bad_cursor.status_code, bad_cursor.json()["code"]) == (400, "invalid_pagination")
        assert client.get("/regulations").json()["data"]["regulations"] == []
    management = httpx.post(
        f"{server.url}/api/v1/workspaces/{slug}/regulations",
        json=_body(ids=[]),
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert (management.status_code, management.json()["code"]) == (400, "invalid_subject_ids")


def test_who_may_regulate_under_v1(server: RunningServer) -> None:
    slug, _, _ = server.new_workspace()
    other, _, _ = server.new_workspace()
    privacy_admin = service_token(server, slug, "privacy_admin")
    admin = service_token(server, slug, "admin")  # privacy:read, not privacy:write
    analyst = service_token(server, slug, "analyst")  # neither
    with httpx.Client(base_url=f"{server.url}/v1", timeout=30) as anonymous:
        refused = anonymous.post("/regulations", json=_body())
        assert (refused.status_code, refused.json()["code"]) == (401, "missing_token")
        assert anonymous.get("/suppressions").status_code == 401
    # A token belongs to one workspace: no header needed.
    with httpx.Client(
        base_url=f"{server.url}/v1",
        headers={"Authorization": f"Bearer {privacy_admin}"},
        timeout=30,
    ) as client:
        assert client.post("/regulations", json=_body()).status_code == 200
        assert client.get("/regulations").status_code == 200
        # ... and reaches no other.
        elsewhere = client.get("/regulations", headers={"X-Headwater-Workspace": other})
        assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, "workspace_not_found")
    for token, may_read in ((admin, True), (analyst, False)):
        with httpx.Client(
            base_url=f"{server.url}/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as client:
            write = client.post("/regulations", json=_body())
            assert (write.status_code, write.json()["code"]) == (403, "forbidden")
            assert client.get("/suppressions").status_code == (200 if may_read else 403)
    # The admin token reaches every workspace: it must name one.
    with httpx.Client(
        base_url=f"{server.url}/v1",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=30,
    ) as client:
        unnamed = client.get("/regulations")
        assert (unnamed.status_code, unnamed.json()["code"]) == (400, "workspace_required")
        assert client.get("/regulations", params={"workspace": slug}).status_code == 200


def test_a_regulation_is_deleted_only_before_it_starts_and_both_are_audited(
    server: RunningServer,
) -> None:
    slug, _, _ = server.new_workspace()
    with public(server, slug) as client:
        first = regulate(server, slug, "SUPPRESS_ONLY", ["u-1"])
        deleted = client.delete(f"/regulations/{first}")
        assert deleted.status_code == 200, deleted.text
        assert deleted.json() == {"data": {"status": "SUCCESS"}}
        assert client.get(f"/regulations/{first}").status_code == 404
        # Its suppression went with it.
        assert client.get("/suppressions").json()["data"]["suppressed"] == []
        second = regulate(server, slug, "SUPPRESS_ONLY", ["u-2"])
        ended(server, slug, second)
        late = client.delete(f"/regulations/{second}")
        assert (late.status_code, late.json()["code"]) == (409, "regulation_started")
    trail = server.api("GET", f"/api/v1/workspaces/{slug}/audit", params={"limit": 100})["data"]
    actions = [(entry["action"], entry["resource"]) for entry in trail]
    assert ("regulation.create", f"regulation:{first}") in actions
    assert ("regulation.delete", f"regulation:{first}") in actions
    assert ("regulation.create", f"regulation:{second}") in actions
    assert ("regulation.delete", f"regulation:{second}") not in actions
    # The trail keeps no id of a subject.
    assert "u-1" not in str(trail)
    assert "u-2" not in str(trail)
