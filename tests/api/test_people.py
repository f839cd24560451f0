"""People and members through the API: who may manage them, what a member sees of other
workspaces, and what a disabled person keeps (nothing)."""

from __future__ import annotations

import httpx

from tests.api.conftest import Api, unique
from tests.api.people import PASSWORD, login, member, person, session


def test_a_member_sees_only_their_workspace_and_their_role(api: Api) -> None:
    mine, other = api.workspace(), api.workspace()
    source = api.source(workspace=mine)
    analyst = member(api, mine, "analyst")
    with session(api.server.url, analyst["email"]) as client:
        elsewhere = client.get(f"/api/v1/workspaces/{other}/sources")
        assert elsewhere.status_code == 404
        assert elsewhere.json()["code"] == "workspace_not_found"
        assert client.get(f"/api/v1/workspaces/{mine}/sources").status_code == 200
        patch = client.patch(
            f"/api/v1/workspaces/{mine}/sources/{source['id']}", json={"name": "renamed"}
        )
        assert patch.status_code == 403, patch.text
        assert patch.json()["code"] == "forbidden"
        for method, path in (
            ("GET", f"/api/v1/workspaces/{mine}/members"),
            ("POST", f"/api/v1/workspaces/{mine}/members"),
            ("GET", "/api/v1/users"),
            ("POST", "/api/v1/users"),
        ):
            refused = client.request(method, path, json={"email": "x@example.com"})
            assert refused.status_code == 403, f"{method} {path}: {refused.text}"
        me = client.get("/api/v1/me").json()
        (held,) = me["workspaces"]
        assert (held["workspace"], held["role"], held["pii_read"]) == (mine, "analyst", False)
        # what the role allows there, for the web app to offer: reads, no changes
        assert "profiles:read" in held["permissions"]
        assert "audiences:write" not in held["permissions"]
        assert "people:write" not in held["permissions"]


def test_an_owner_manages_the_workspace_members(api: Api) -> None:
    workspace, other = api.workspace(), api.workspace()
    owner = member(api, workspace, "owner")
    stranger = member(api, other, "developer")
    path = f"/api/v1/workspaces/{workspace}/members"
    with session(api.server.url, owner["email"]) as client:
        invited = client.post(path, json={"email": f"{unique('new')}@example.com", "role": "admin"})
        assert invited.status_code == 201, invited.text
        added = invited.json()
        assert added["role"] == "admin"
        assert added["pii_read"] is False
        assert "/setup#hwl_" in added["invite_link"]
        again = client.post(path, json={"email": added["email"].upper(), "role": "analyst"})
        assert again.status_code == 409
        assert again.json()["code"] == "already_member"

        changed = client.patch(
            f"{path}/{added['user_id']}", json={"role": "marketer", "pii_read": True}
        )
        assert changed.status_code == 200, changed.text
        assert (changed.json()["role"], changed.json()["pii_read"]) == ("marketer", True)
        bad_role = client.patch(f"{path}/{added['user_id']}", json={"role": "emperor"})
        assert bad_role.status_code == 422

        for method in ("PATCH", "DELETE"):
            foreign = client.request(
                method, f"{path}/{stranger['user_id']}", json={"role": "owner"}
            )
            assert foreign.status_code == 404, foreign.text
            assert foreign.json()["code"] == "member_not_found"
        not_mine = client.get(f"/api/v1/workspaces/{other}/members")
        assert not_mine.status_code == 404

        listed = {m["user_id"]: m["role"] for m in client.get(path).json()}
        assert listed == {owner["user_id"]: "owner", added["user_id"]: "marketer"}
        assert client.delete(f"{path}/{added['user_id']}").status_code == 204
        assert added["user_id"] not in {m["user_id"] for m in client.get(path).json()}
        # With an instance owner on the server, the workspace's last owner may leave.
        assert client.delete(f"{path}/{owner['user_id']}").status_code == 204
        assert client.get(path).status_code == 404


def test_an_instance_owner_creates_lists_and_disables_people(api: Api) -> None:
    workspace = api.workspace()
    worker = member(api, workspace, "developer")
    created = person(api)
    assert "invite_link" not in created
    assert created["disabled"] is False
    listed = {u["id"]: u for u in api.ok("GET", "/api/v1/users")}
    assert listed[worker["user_id"]]["workspaces"] == [
        {"workspace": workspace, "role": "developer", "pii_read": False}
    ]
    assert listed[created["id"]]["email"] == created["email"]
    api.error("POST", "/api/v1/users", 409, "email_taken", json={"email": created["email"]})
    api.error("POST", "/api/v1/users", 400, "invalid_email", json={"email": "not an email"})
    api.error(
        "POST",
        "/api/v1/users",
        400,
        "weak_password",
        json={"email": f"{unique('w')}@example.com", "password": "short"},
    )

    with session(api.server.url, worker["email"]) as client:
        assert client.get("/api/v1/me").status_code == 200
        disabled = api.ok("DELETE", f"/api/v1/users/{worker['user_id']}")
        assert disabled["disabled"] is True
        ended = client.get("/api/v1/me")
        assert ended.status_code == 401
    refused = login(api.server.url, worker["email"])
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_credentials"
    api.error("DELETE", "/api/v1/users/2147483000", 404, "user_not_found")

    enabled = api.ok("POST", f"/api/v1/users/{worker['user_id']}/enable", json={})
    assert enabled["disabled"] is False
    with session(api.server.url, worker["email"]) as client:
        assert client.get("/api/v1/me").status_code == 200
    api.error("POST", "/api/v1/users/2147483000/enable", 404, "user_not_found", json={})


def test_the_admin_token_says_who_it_is(api: Api) -> None:
    me = api.ok("GET", "/api/v1/me")
    assert me["kind"] == "user"
    assert me["instance_owner"] is True
    assert me["via"] == "token"
    held = {m["workspace"]: m for m in me["workspaces"]}["default"]
    assert (held["role"], held["pii_read"]) == ("owner", True)
    assert {"people:write", "audiences:write", "audit:read"} <= set(held["permissions"])
    signed_out = httpx.post(
        f"{api.server.url}/api/v1/auth/logout",
        headers={"Authorization": "Bearer test-admin-token"},
        timeout=30,
    )
    assert signed_out.status_code == 204
    assert api.ok("GET", "/api/v1/me")["via"] == "token"


def test_a_session_member_changes_data_only_with_their_role(api: Api) -> None:
    workspace = api.workspace()
    developer = member(api, workspace, "developer")
    with session(api.server.url, developer["email"]) as client:
        created = client.post(
            f"/api/v1/workspaces/{workspace}/sources", json={"name": unique("src")}
        )
        assert created.status_code == 201, created.text
    assert PASSWORD not in created.text
