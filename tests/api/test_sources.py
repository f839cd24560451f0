"""Workspaces and sources through the management API, checked through the tracking API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.conftest import Api, unique

# --- workspaces ------------------------------------------------------------------------------


def test_workspaces_are_listed_and_created(api: Api) -> None:
    slug = unique("shop")
    created = api.ok("POST", "/api/v1/workspaces", 201, json={"slug": slug, "name": "My Shop"})
    assert created["slug"] == slug
    assert created["name"] == "My Shop"
    assert isinstance(created["id"], int)
    created_at = datetime.fromisoformat(created["created_at"].replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - created_at) < timedelta(minutes=5)

    listed = {w["slug"]: w for w in api.ok("GET", "/api/v1/workspaces")}
    assert listed[slug] == created
    assert listed["default"]["name"] == "Default"
    # The name defaults to the slug.
    other = unique("plain")
    assert api.ok("POST", "/api/v1/workspaces", 201, json={"slug": other})["name"] == other


@pytest.mark.parametrize(
    "slug", ["Has Space", "UPPER", "-leading-dash", "", "a" * 64, "é", "trailing-newline\n"]
)
def test_an_invalid_workspace_slug_is_refused(api: Api, slug: str) -> None:
    api.error("POST", "/api/v1/workspaces", 400, "invalid_slug", json={"slug": slug})
    assert slug not in {w["slug"] for w in api.ok("GET", "/api/v1/workspaces")}


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Shop\n", "invalid_name"),
        ("  ", "invalid_name"),
        ("Sh\x00op", "invalid_character"),  # refused at the edge, before any route
        ("Shop\u2028", "invalid_name"),
        ("n" * 201, "invalid_name"),
    ],
)
def test_an_invalid_workspace_name_is_refused(api: Api, name: str, code: str) -> None:
    slug = unique("named")
    body = {"slug": slug, "name": name}
    api.error("POST", "/api/v1/workspaces", 400, code, json=body)
    assert slug not in {w["slug"] for w in api.ok("GET", "/api/v1/workspaces")}


def test_a_workspace_without_slug_is_refused(api: Api) -> None:
    body = api.error("POST", "/api/v1/workspaces", 422, "invalid_request", json={"name": "x"})
    assert any(e["field"].endswith("slug") for e in body["errors"])


def test_a_duplicate_workspace_is_a_conflict(api: Api) -> None:
    slug = api.workspace()
    api.error("POST", "/api/v1/workspaces", 409, "workspace_exists", json={"slug": slug})
    assert [w["slug"] for w in api.ok("GET", "/api/v1/workspaces")].count(slug) == 1


# --- creating sources ------------------------------------------------------------------------


def test_a_source_gets_a_generated_write_key_that_works(api: Api) -> None:
    name = unique("web")
    source = api.ok("POST", "/api/v1/workspaces/default/sources", 201, json={"name": name})
    assert source["name"] == name
    assert source["workspace"] == "default"
    assert source["kind"] == "server"
    assert source["strict"] is False
    assert source["enabled"] is True
    assert len(source["write_key"]) >= 20
    assert source != api.source(), "two sources must not share a write key"

    api.track(source["write_key"], userId="u1", event="Signed Up", messageId=unique("m"))
    stored = api.ok(
        "GET", f"/api/v1/workspaces/{source['workspace']}/sources/{source['id']}/events"
    )
    assert [e["payload"]["event"] for e in stored] == ["Signed Up"]
    assert stored[0]["sourceId"] == source["id"]


def test_a_source_can_be_given_its_write_key(api: Api) -> None:
    key = unique("my-own-key")
    workspace = api.workspace()
    source = api.source(write_key=key, workspace=workspace, kind="client", strict=True)
    assert source["write_key"] == key
    assert source["workspace"] == workspace
    assert (source["kind"], source["strict"]) == ("client", True)
    api.track(key, userId="u1", event="Given Key")
    assert (
        len(
            api.ok("GET", f"/api/v1/workspaces/{source['workspace']}/sources/{source['id']}/events")
        )
        == 1
    )


def test_source_names_are_unique_per_workspace(api: Api) -> None:
    name = unique("app")
    first = api.source(name=name)
    api.error(
        "POST", "/api/v1/workspaces/default/sources", 409, "source_exists", json={"name": name}
    )
    elsewhere = api.source(name=name, workspace=api.workspace())
    assert elsewhere["id"] != first["id"]
    api.error(
        "POST",
        "/api/v1/workspaces/default/sources",
        409,
        "source_exists",
        json={"name": unique("other"), "write_key": first["write_key"]},
    )


def test_a_source_in_an_unknown_workspace_is_not_found(api: Api) -> None:
    api.error(
        "POST",
        "/api/v1/workspaces/no-such-workspace/sources",
        404,
        "workspace_not_found",
        json={"name": "x"},
    )


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "  "}, 400, "invalid_name"),
        ({"name": "pasted\n"}, 400, "invalid_name"),
        ({"name": unique("short-key"), "write_key": "short"}, 400, "invalid_write_key"),
        ({"name": unique("kind"), "kind": "mobile"}, 422, "invalid_request"),
        ({}, 422, "invalid_request"),
    ],
)
def test_an_invalid_source_is_refused(
    api: Api, body: dict[str, str], status: int, code: str
) -> None:
    before = len(api.ok("GET", "/api/v1/workspaces/default/sources"))
    api.error("POST", "/api/v1/workspaces/default/sources", status, code, json=body)
    assert len(api.ok("GET", "/api/v1/workspaces/default/sources")) == before


# --- listing, getting, changing --------------------------------------------------------------


def test_sources_are_listed_by_workspace(api: Api) -> None:
    workspace = api.workspace()
    mine = [api.source(workspace=workspace), api.source(workspace=workspace)]
    other = api.source()

    listed = api.ok("GET", f"/api/v1/workspaces/{workspace}/sources")
    assert listed == mine
    in_default = {s["id"] for s in api.ok("GET", "/api/v1/workspaces/default/sources")}
    assert other["id"] in in_default
    assert not {mine[0]["id"], mine[1]["id"]} & in_default
    api.error("GET", "/api/v1/workspaces/no-such-workspace/sources", 404, "workspace_not_found")


def test_a_source_is_got_by_id(api: Api) -> None:
    source = api.source()
    assert (
        api.ok("GET", f"/api/v1/workspaces/{source['workspace']}/sources/{source['id']}") == source
    )
    api.error("GET", "/api/v1/workspaces/default/sources/999999", 404, "source_not_found")


def test_disabling_a_source_drops_its_events_and_records_each_drop(api: Api) -> None:
    source = api.source()
    key, path = (
        source["write_key"],
        f"/api/v1/workspaces/{source['workspace']}/sources/{source['id']}",
    )
    patched = api.ok("PATCH", path, json={"enabled": False})
    assert patched == {**source, "enabled": False}

    api.track(key, userId="u1", event="While Disabled")  # answered 200, as Segment does
    [drop] = api.ok("GET", "/api/v1/workspaces/default/rejections", params={"source": source["id"]})
    assert drop["reason"].startswith("source disabled")
    assert api.ok("PATCH", path, json={"enabled": True})["enabled"] is True
    api.track(key, userId="u1", event="Enabled Again")
    stored = api.ok("GET", f"{path}/events")
    assert [e["payload"]["event"] for e in stored] == ["Enabled Again"]


def test_a_strict_source_refuses_invalid_batches_whole(api: Api) -> None:
    source = api.source()
    path = f"/api/v1/workspaces/{source['workspace']}/sources/{source['id']}"
    assert api.ok("PATCH", path, json={"strict": True})["strict"] is True
    batch = [
        {"type": "track", "userId": "u1", "event": "Fine"},
        {"type": "track", "userId": "u1"},
    ]
    refused = api.track(source["write_key"], "/v1/batch", status=400, batch=batch)
    assert refused.json()["errors"][0]["index"] == 1
    assert api.ok("GET", f"{path}/events") == []

    api.ok("PATCH", path, json={"strict": False})
    api.track(source["write_key"], "/v1/batch", batch=batch)
    assert [e["payload"]["event"] for e in api.ok("GET", f"{path}/events")] == ["Fine"]


def test_a_client_source_records_the_callers_ip(api: Api) -> None:
    source = api.source()
    path = f"/api/v1/workspaces/{source['workspace']}/sources/{source['id']}"
    api.track(source["write_key"], userId="u1", event="Server Side", messageId=unique("m"))
    assert api.ok("PATCH", path, json={"kind": "client"})["kind"] == "client"
    api.track(source["write_key"], userId="u1", event="Client Side", messageId=unique("m"))

    contexts = {
        e["payload"]["event"]: e["payload"]["context"] for e in api.ok("GET", f"{path}/events")
    }
    assert "ip" not in contexts["Server Side"]
    assert contexts["Client Side"]["ip"] == "127.0.0.1"


def test_a_source_is_renamed(api: Api) -> None:
    source = api.source()
    name = unique("renamed")
    assert (
        api.ok(
            "PATCH",
            f"/api/v1/workspaces/{source['workspace']}/sources/{source['id']}",
            json={"name": name},
        )["name"]
        == name
    )
    assert (
        api.ok("GET", f"/api/v1/workspaces/{source['workspace']}/sources/{source['id']}")["name"]
        == name
    )
    # An empty patch changes nothing.
    assert api.ok(
        "PATCH", f"/api/v1/workspaces/{source['workspace']}/sources/{source['id']}", json={}
    ) == {**source, "name": name}


def test_renaming_onto_another_sources_name_is_a_conflict(api: Api) -> None:
    first, second = api.source(), api.source()
    api.error(
        "PATCH",
        f"/api/v1/workspaces/{second['workspace']}/sources/{second['id']}",
        409,
        "source_exists",
        json={"name": first["name"]},
    )
    assert (
        api.ok("GET", f"/api/v1/workspaces/{second['workspace']}/sources/{second['id']}") == second
    )


def test_a_patch_cannot_change_other_fields(api: Api) -> None:
    source = api.source()
    path = f"/api/v1/workspaces/{source['workspace']}/sources/{source['id']}"
    response = api.client.patch(
        path, json={"write_key": "changed-write-key", "id": 5, "workspace": "other"}
    )
    assert response.status_code in (200, 422), response.text
    assert api.ok("GET", path) == source
    api.error("PATCH", path, 422, "invalid_request", json={"kind": "mobile"})
    api.error("PATCH", path, 422, "invalid_request", json={"enabled": "sometimes"})
    assert api.ok("GET", path) == source


def test_patching_an_unknown_source_is_not_found(api: Api) -> None:
    api.error(
        "PATCH",
        "/api/v1/workspaces/default/sources/999999",
        404,
        "source_not_found",
        json={"strict": True},
    )


def test_a_source_of_another_workspace_is_not_found(api: Api) -> None:
    workspace = api.workspace()
    source = api.source()
    for suffix in ("", "/events", "/tracking-plan", "/observed-schema"):
        path = f"/api/v1/workspaces/{workspace}/sources/{source['id']}{suffix}"
        body = api.error("GET", path, 404, "source_not_found")
        assert body["message"] == f"no source {source['id']} in workspace {workspace!r}"
