"""The permission table, checked whole: every route has a row, every row is a route, and every
route answers every role as the role's permissions say (generated from ``ROUTES`` x
``ROLE_PERMISSIONS``, not hand-picked); no token of one workspace reaches another's paths or
things. Then API tokens themselves: created once, listed without their secret, narrowed to
their role, stopped at once by revocation, expiry, a disabled user or a removed membership.

Each role is a service account's token in a workspace of this module (``A``); ``B`` is
another workspace holding one of each thing. Allowed routes are called with ids that name
nothing in ``A`` (or minimal bodies), so that they answer 404/400/422 and change nothing."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from headwater.access import INSTANCE_PERMISSIONS, ROLE_PERMISSIONS, Permission, Role
from headwater.access.credentials import digest
from headwater.api.permissions import PREFIX, ROUTES, check_table
from headwater.storage.database import create_engine
from tests.api.conftest import Api, unique
from tests.api.test_timestamps import _workspace_with_one_of_each
from tests.server import ADMIN_TOKEN, RunningServer

_DUMMY: dict[str, str] = {
    "source_id": "2147483000",
    "destination_id": "2147483000",
    "token_id": "2147483000",
    "user_id": "2147483000",
    "message_id": "no-such-message",
    "profile_id": "prf_nope",
    "key": "no-such-key",
    "slug": "no-such-plan",
    "version": "2147483000",
    "export_id": "2147483000",
    "import_id": "2147483000",
    "rule_id": "2147483000",
    "regulate_id": "no-such-regulation",
    "model_id": "2147483000",
    "sync_id": "2147483000",
    "run_id": "2147483000",
}
"""Path parameters that name nothing: an allowed route answers 404 (or 400/422), never
changing anything."""

_PII = "analyst+pii"
_LABELS = [role.value for role in Role] + [_PII]

# Valid bodies for the routes that take one beside an id (the isolation test must reach the
# id's lookup, not stop at the body's validation).
_BODIES: dict[tuple[str, str], Any] = {
    ("PATCH", "/workspaces/{workspace}/sources/{source_id}"): {"name": "x"},
    ("PATCH", "/workspaces/{workspace}/destinations/{destination_id}"): {"name": "x"},
    ("POST", "/workspaces/{workspace}/destinations/{destination_id}/replay"): {
        "dead_letters": True
    },
    ("PUT", "/workspaces/{workspace}/tracking-plans/{slug}"): {
        "name": "Web",
        "events": [{"name": "Order Completed"}],
    },
    ("PUT", "/workspaces/{workspace}/sources/{source_id}/tracking-plan"): {"plan": "web"},
    ("PATCH", "/workspaces/{workspace}/audiences/{key}"): {"name": "x"},
    ("PATCH", "/workspaces/{workspace}/computed-traits/{key}"): {"name": "x"},
    ("POST", "/workspaces/{workspace}/audiences/{key}/members"): {"members": [{"user_id": "x"}]},
    ("POST", "/workspaces/{workspace}/audiences/{key}/members/remove"): {
        "members": [{"user_id": "x"}]
    },
    ("PATCH", "/workspaces/{workspace}/members/{user_id}"): {"role": "analyst"},
    ("PATCH", "/workspaces/{workspace}/journeys/{key}"): {"name": "x"},
    ("PATCH", "/workspaces/{workspace}/pii-rules/{rule_id}"): {"name": "x"},
    ("PATCH", "/workspaces/{workspace}/reverse-etl/models/{model_id}"): {"name": "x"},
    ("PATCH", "/workspaces/{workspace}/reverse-etl/syncs/{sync_id}"): {"name": "x"},
    ("POST", "/workspaces/{workspace}/journeys/{key}/start"): {"profile_ids": ["prf_x"]},
    ("POST", "/workspaces/{workspace}/journeys/{key}/test-run"): {
        "event": {"type": "track", "userId": "u", "event": "Signed Up"}
    },
    ("PUT", "/workspaces/{workspace}/journeys/{key}/draft"): {
        "revision": 1,
        "document": {"version": 1, "trigger": {"type": "manual"}, "start": "a", "nodes": {}},
    },
}


@dataclass
class Space:
    """A workspace, its service accounts' tokens by role label, and ids of its things."""

    slug: str
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)


def _role_of(label: str) -> Role:
    return Role.ANALYST if label == _PII else Role(label)


def _service_token(api: Api, workspace: str, role: Role, *, pii_read: bool = False) -> str:
    created = api.ok(
        "POST",
        f"/api/v1/workspaces/{workspace}/tokens",
        201,
        json={
            "name": unique(f"sa-{role.value}"),
            "role": role.value,
            "pii_read": pii_read,
            "service_account": True,
        },
    )
    assert created["token"].startswith("hw_")
    return str(created["token"])


@pytest.fixture(scope="module")
def first_owner(api_server: RunningServer) -> Iterator[Api]:
    with httpx.Client(
        base_url=api_server.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
    ) as client:
        yield Api(api_server, client)


@pytest.fixture(scope="module")
def space_a(first_owner: Api) -> Space:
    space = Space(first_owner.workspace())
    for role in Role:
        space.tokens[role.value] = _service_token(first_owner, space.slug, role)
    space.tokens[_PII] = _service_token(first_owner, space.slug, Role.ANALYST, pii_read=True)
    return space


@pytest.fixture(scope="module")
def space_b(first_owner: Api) -> Space:
    ids = _workspace_with_one_of_each(first_owner)
    slug = ids.pop("workspace")
    first_owner.ok(
        "POST",
        f"/api/v1/workspaces/{slug}/computed-traits",
        201,
        json={
            "key": "orders",
            "name": "Orders",
            "definition": {"version": 1, "kind": "counter", "event": "Order Completed"},
        },
    )
    journey = {
        "version": 1,
        "trigger": {"type": "manual"},
        "start": "a",
        "nodes": {"a": {"type": "exit"}},
    }
    journeys = f"/api/v1/workspaces/{slug}/journeys"
    body = {"key": "welcome", "name": "Welcome", "document": journey}
    first_owner.ok("POST", journeys, 201, json=body)
    first_owner.ok("POST", f"{journeys}/welcome/publish", json={})
    ids.update(journey_key="welcome", version="1")
    subject = {"subject_type": "USER_ID", "subject_id": "someone"}
    export = first_owner.ok("POST", f"/api/v1/workspaces/{slug}/privacy/exports", 202, json=subject)
    ids["export_id"] = str(export["id"])
    regulation = {"regulationType": "SUPPRESS_ONLY", "subjectType": "USER_ID", "subjectIds": ["b"]}
    created = first_owner.ok("POST", f"/api/v1/workspaces/{slug}/regulations", json=regulation)
    ids["regulate_id"] = created["data"]["regulateId"]
    space = Space(slug, ids=ids)
    space.tokens[Role.OWNER.value] = _service_token(first_owner, slug, Role.OWNER)
    listed = first_owner.ok("GET", f"/api/v1/workspaces/{slug}/tokens")
    space.ids["token_id"] = str(listed[0]["id"])
    body = {"email": f"{unique('b')}@example.com", "role": "analyst"}
    joined = first_owner.ok("POST", f"/api/v1/workspaces/{slug}/members", 201, json=body)
    space.ids["user_id"] = str(joined["user_id"])
    rule = {"path": "properties.email", "action": "hash"}
    made = first_owner.ok("POST", f"/api/v1/workspaces/{slug}/pii-rules", 201, json=rule)
    space.ids["rule_id"] = str(made["id"])
    return space


def _client(server: RunningServer, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def _fill(path: str, workspace: str, ids: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match[1]
        if name == "workspace":
            return workspace
        if name == "key" and "/computed-traits/" in path:
            return ids.get("trait_key", ids["key"])
        return ids[name]

    return PREFIX + re.sub(r"\{(\w+)\}", value, path)


def _allowed(role: Role, permission: Permission) -> bool:
    """What the role table says, read independently of the code under test."""
    if permission in (Permission.AUTHENTICATED, Permission.PUBLIC):
        return True
    if permission in INSTANCE_PERMISSIONS:
        return False  # instance ownership: no service account holds it
    return permission in ROLE_PERMISSIONS[role]


def _ordered() -> list[tuple[str, str]]:
    """Every row, the ones that delete last."""
    return sorted(ROUTES, key=lambda route: (route[0] == "DELETE", route))


def test_every_operation_has_a_row_and_every_row_is_an_operation(
    api_server: RunningServer,
) -> None:
    document = httpx.get(f"{api_server.url}/api/openapi.json", timeout=10).json()
    operations = {
        (method.upper(), path.removeprefix(PREFIX))
        for path, methods in document["paths"].items()
        if path.startswith(PREFIX + "/")
        for method in methods
    }
    assert operations - ROUTES.keys() == set(), "routes without a permission row"
    assert ROUTES.keys() - operations == set(), "rows without a route"


def test_the_application_refuses_a_route_without_a_row() -> None:
    served = [(method, PREFIX + path) for method, path in ROUTES]
    check_table(served)
    with pytest.raises(RuntimeError, match="without a row"):
        check_table([*served, ("GET", PREFIX + "/unlisted")])
    with pytest.raises(RuntimeError, match="without a route"):
        check_table(served[1:])


@pytest.mark.parametrize("label", _LABELS)
def test_every_route_answers_each_role_as_its_permissions_say(
    api_server: RunningServer, space_a: Space, label: str
) -> None:
    role = _role_of(label)
    wrong: list[str] = []
    with _client(api_server, space_a.tokens[label]) as client:
        for method, path in _ordered():
            rule = ROUTES[(method, path)]
            url = _fill(path, space_a.slug, _DUMMY)
            body = {} if method in ("POST", "PUT", "PATCH") else None
            response = client.request(method, url, json=body)
            status = response.status_code
            if _allowed(role, rule.permission):
                if status in (401, 403) or status >= 500:
                    wrong.append(f"{method} {path}: allowed, answered {status} {response.text}")
            elif status != 403 or response.json().get("code") != "forbidden":
                wrong.append(f"{method} {path}: not allowed, answered {status} {response.text}")
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("label", _LABELS)
def test_a_token_of_one_workspace_finds_no_other_workspace(
    api_server: RunningServer, space_a: Space, space_b: Space, label: str
) -> None:
    wrong: list[str] = []
    with _client(api_server, space_a.tokens[label]) as client:
        for method, path in _ordered():
            if "{workspace}" not in path:
                continue
            body = _BODIES.get((method, path), {} if method in ("POST", "PUT", "PATCH") else None)
            response = client.request(method, _fill(path, space_b.slug, space_b.ids), json=body)
            if response.status_code != 404 or response.json()["code"] != "workspace_not_found":
                wrong.append(f"{method} {path}: {response.status_code} {response.text}")
    assert wrong == [], "\n".join(wrong)


def test_another_workspaces_ids_are_not_found_under_ones_own(
    api_server: RunningServer, space_a: Space, space_b: Space
) -> None:
    """A's owner (a service account that may do everything in A) names B's things under A's
    path: every route with an id answers 404."""
    wrong: list[str] = []
    ids = {**space_b.ids, "trait_key": "orders"}
    checked = 0
    with _client(api_server, space_a.tokens[Role.OWNER.value]) as client:
        for method, path in _ordered():
            names = set(re.findall(r"\{(\w+)\}", path)) - {"workspace"}
            if not names or ROUTES[(method, path)].permission is Permission.INSTANCE_OWNER:
                continue  # instance owners' routes (every person): A's owner may not call them
            checked += 1
            body = _BODIES.get((method, path))
            query = {"from": 1} if path.endswith("/diff") else None
            url = _fill(path, space_a.slug, ids)
            response = client.request(method, url, json=body, params=query)
            if response.status_code != 404:
                wrong.append(f"{method} {path}: {response.status_code} {response.text}")
    assert checked > 40
    assert wrong == [], "\n".join(wrong)
    # B's things are all still there.
    with _client(api_server, space_b.tokens[Role.OWNER.value]) as client:
        base = f"{PREFIX}/workspaces/{space_b.slug}"
        for path in (
            f"/destinations/{space_b.ids['destination_id']}",
            "/audiences/buyers",
            "/computed-traits/orders",
            "/tracking-plans/web",
            "/journeys/buyers",
        ):
            assert client.get(base + path).status_code == 200, path
        tokens = client.get(f"{base}/tokens").json()
        assert all(t["revoked_at"] is None for t in tokens)


# API tokens.


def _tokens_path(workspace: str) -> str:
    return f"{PREFIX}/workspaces/{workspace}/tokens"


def test_a_new_token_is_shown_once_and_listed_without_its_secret(first_owner: Api) -> None:
    workspace = first_owner.workspace()
    created = first_owner.ok(
        "POST",
        _tokens_path(workspace),
        201,
        json={"name": "ci", "role": "developer", "service_account": True},
    )
    secret = created.pop("token")
    assert created["kind"] == "service_account"
    assert created["role"] == "developer"
    assert created["workspace"] == workspace
    assert created["email"] is None
    assert created["expired"] is False
    assert created["revoked_at"] is None
    listed = first_owner.ok("GET", _tokens_path(workspace))
    assert created in listed
    everything = httpx.get(
        f"{first_owner.server.url}{_tokens_path(workspace)}",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ).text
    assert secret not in everything
    assert digest(secret) not in everything
    assert "token_sha256" not in everything


def test_revocation_stops_a_token_at_once(first_owner: Api) -> None:
    workspace = first_owner.workspace()
    created = first_owner.ok(
        "POST",
        _tokens_path(workspace),
        201,
        json={"name": "ci", "role": "analyst", "service_account": True},
    )
    with _client(first_owner.server, created["token"]) as client:
        assert client.get(f"{PREFIX}/workspaces/{workspace}/sources").status_code == 200
        revoked = first_owner.ok("DELETE", f"{_tokens_path(workspace)}/{created['id']}")
        assert revoked["revoked_at"] is not None
        response = client.get(f"{PREFIX}/workspaces/{workspace}/sources")
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_token"
    again = first_owner.ok("DELETE", f"{_tokens_path(workspace)}/{created['id']}")
    assert again["revoked_at"] == revoked["revoked_at"]


def test_an_expired_token_is_refused(first_owner: Api) -> None:
    workspace = first_owner.workspace()
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    created = first_owner.ok(
        "POST",
        _tokens_path(workspace),
        201,
        json={"name": "brief", "role": "analyst", "service_account": True, "expires_at": soon},
    )
    with _client(first_owner.server, created["token"]) as client:
        assert client.get(f"{PREFIX}/workspaces/{workspace}/sources").status_code == 200
        time.sleep(max(0.0, datetime.fromisoformat(soon).timestamp() - time.time()) + 0.2)
        response = client.get(f"{PREFIX}/workspaces/{workspace}/sources")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    (listed,) = [t for t in first_owner.ok("GET", _tokens_path(workspace)) if t["name"] == "brief"]
    assert listed["expired"] is True


@pytest.mark.parametrize(
    "expiry",
    [
        {"expires_at": "2020-01-01T00:00:00Z"},
        {"expires_at": "2099-01-01T00:00:00"},
        {"expires_at": "2099-01-01T00:00:00Z", "expires_in_days": 3},
    ],
)
def test_an_expiry_in_the_past_or_unclear_is_refused(
    first_owner: Api, expiry: dict[str, Any]
) -> None:
    body = {"name": "x", "role": "analyst", "service_account": True, **expiry}
    first_owner.error("POST", _tokens_path("default"), 400, "invalid_expiry", json=body)


def test_expires_in_days_sets_the_expiry(first_owner: Api) -> None:
    workspace = first_owner.workspace()
    created = first_owner.ok(
        "POST",
        _tokens_path(workspace),
        201,
        json={"name": "week", "role": "analyst", "service_account": True, "expires_in_days": 7},
    )
    expires = datetime.fromisoformat(created["expires_at"])
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)


def test_a_users_token_acts_as_the_user_narrowed_to_its_role(first_owner: Api) -> None:
    workspace = first_owner.workspace()
    created = first_owner.ok(
        "POST", _tokens_path(workspace), 201, json={"name": "mine", "role": "analyst"}
    )
    assert created["kind"] == "user"
    base = f"{PREFIX}/workspaces/{workspace}"
    with _client(first_owner.server, created["token"]) as client:
        assert client.get(f"{base}/sources").status_code == 200
        refused = client.post(f"{base}/sources", json={"name": "x"})
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "forbidden"
        # Not wider than itself, whatever its user may do; and only in its workspace.
        wider = client.post(f"{base}/tokens", json={"name": "w", "role": "developer"})
        assert wider.status_code == 403, wider.text
        pii = client.post(f"{base}/tokens", json={"name": "p", "role": "analyst", "pii_read": True})
        assert pii.status_code == 403, pii.text
        same = client.post(f"{base}/tokens", json={"name": "s", "role": "analyst"})
        assert same.status_code == 201, same.text
        elsewhere = client.get(f"{PREFIX}/workspaces/default/sources")
        assert elsewhere.status_code == 404
        assert elsewhere.json()["code"] == "workspace_not_found"
        mine = {t["id"] for t in client.get(f"{PREFIX}/me/tokens").json()}
        assert {created["id"], same.json()["id"]} <= mine


def test_service_accounts_tokens_need_people_write(
    api_server: RunningServer, space_a: Space
) -> None:
    path = _tokens_path(space_a.slug)
    body = {"name": "x", "role": "analyst", "service_account": True}
    with _client(api_server, space_a.tokens["admin"]) as client:
        response = client.post(path, json=body)
        assert response.status_code == 403, response.text
    with _client(api_server, space_a.tokens["developer"]) as client:
        # A service account has no user to act as.
        response = client.post(path, json={"name": "x", "role": "analyst"})
        assert response.status_code == 403, response.text
    with _client(api_server, space_a.tokens["owner"]) as client:
        response = client.post(path, json=body)
        assert response.status_code == 201, response.text
        client.delete(f"{path}/{response.json()['id']}").raise_for_status()


def test_who_sees_and_revokes_which_tokens(first_owner: Api) -> None:
    workspace = first_owner.workspace()
    path = _tokens_path(workspace)
    tokens = {
        role: _service_token(first_owner, workspace, Role(role))
        for role in ("owner", "admin", "developer")
    }
    target = first_owner.ok(
        "POST", path, 201, json={"name": "target", "role": "analyst", "service_account": True}
    )
    server = first_owner.server
    with _client(server, tokens["developer"]) as client:
        own = client.get(path).json()
        assert len(own) == 1  # itself only
        missing = client.delete(f"{path}/{target['id']}")
        assert missing.status_code == 404
        assert missing.json()["code"] == "token_not_found"
    with _client(server, tokens["admin"]) as client:
        assert target["id"] in {t["id"] for t in client.get(path).json()}  # people:read
        refused = client.delete(f"{path}/{target['id']}")
        assert refused.status_code == 403, refused.text
    with _client(server, tokens["owner"]) as client:
        revoked = client.delete(f"{path}/{target['id']}")
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["revoked_at"] is not None
        other = client.delete(f"{_tokens_path('default')}/{target['id']}")
        assert other.status_code == 404


async def test_a_disabled_user_or_a_removed_member_loses_their_tokens(
    first_owner: Api,
) -> None:
    workspace = first_owner.workspace()
    secret = f"hw_{unique('member')}"
    other = f"hw_{unique('member')}"
    engine = create_engine(first_owner.server.database_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            user_id = await connection.scalar(
                text("INSERT INTO users (email, created_at) VALUES (:email, now()) RETURNING id"),
                {"email": f"{unique('dev')}@example.com"},
            )
            await connection.execute(
                text(
                    "INSERT INTO memberships (user_id, workspace_id, role, created_at)"
                    " SELECT :user_id, id, 'developer', now() FROM workspaces WHERE slug = :slug"
                ),
                {"user_id": user_id, "slug": workspace},
            )
            for token in (secret, other):
                await connection.execute(
                    text(
                        "INSERT INTO api_tokens (token_sha256, name, user_id, workspace_id, role,"
                        " created_at) SELECT :sha, 'dev', :user_id, id, 'developer', now()"
                        " FROM workspaces WHERE slug = :slug"
                    ),
                    {"sha": digest(token), "user_id": user_id, "slug": workspace},
                )
        base = f"{PREFIX}/workspaces/{workspace}"
        with _client(first_owner.server, secret) as client:
            assert client.get(f"{base}/sources").status_code == 200
            wider = client.post(f"{base}/tokens", json={"name": "w", "role": "admin"})
            assert wider.status_code == 403, wider.text
            async with engine.begin() as connection:
                await connection.execute(
                    text("DELETE FROM memberships WHERE user_id = :user_id"), {"user_id": user_id}
                )
            removed = client.get(f"{base}/sources")
            assert removed.status_code == 404
            assert removed.json()["code"] == "workspace_not_found"
        with _client(first_owner.server, other) as client:
            async with engine.begin() as connection:
                await connection.execute(
                    text("UPDATE users SET disabled_at = now() WHERE id = :user_id"),
                    {"user_id": user_id},
                )
            disabled = client.get(f"{PREFIX}/me/tokens")
            assert disabled.status_code == 401
            assert disabled.json()["code"] == "invalid_token"
    finally:
        await engine.dispose()


async def test_me_lists_the_callers_tokens_across_workspaces_and_instance_level(
    first_owner: Api,
) -> None:
    secret = f"hw_{unique('instance')}"
    engine = create_engine(first_owner.server.database_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO api_tokens (token_sha256, name, user_id, role, pii_read,"
                    " created_at) SELECT :sha, 'instance', id, 'owner', true, now() FROM users"
                    " WHERE instance_owner ORDER BY id LIMIT 1"
                ),
                {"sha": digest(secret)},
            )
    finally:
        await engine.dispose()
    one, two = first_owner.workspace(), first_owner.workspace()
    made = [
        first_owner.ok("POST", _tokens_path(w), 201, json={"name": "m", "role": "analyst"})
        for w in (one, two)
    ]
    with _client(first_owner.server, secret) as client:
        mine = client.get(f"{PREFIX}/me/tokens").json()
        by_id = {t["id"]: t for t in mine}
        assert {t["id"] for t in made} <= by_id.keys()
        (instance,) = [t for t in mine if t["name"] == "instance"]
        assert instance["workspace"] is None
        assert instance["kind"] == "user"
        revoked = client.delete(f"{PREFIX}/me/tokens/{made[0]['id']}")
        assert revoked.status_code == 200, revoked.text
        unknown = client.delete(f"{PREFIX}/me/tokens/2147483000")
        assert unknown.status_code == 404
        assert unknown.json()["code"] == "token_not_found"


def test_me_does_not_revoke_anothers_token(api_server: RunningServer, space_a: Space) -> None:
    with _client(api_server, space_a.tokens["owner"]) as client:
        others = client.get(_tokens_path(space_a.slug)).json()
        analyst = next(t for t in others if t["role"] == "analyst")
        response = client.delete(f"{PREFIX}/me/tokens/{analyst['id']}")
    assert response.status_code == 404
    assert response.json()["code"] == "token_not_found"


# The Profile API opens for an API token with profiles:read and pii:read in the space.


def _profile_status(server: RunningServer, space: str, token: str) -> int:
    response = httpx.get(
        f"{server.url}/v1/spaces/{space}/collections/users/profiles/user_id:nobody/traits",
        auth=(token, ""),
        timeout=10,
    )
    return response.status_code


def test_the_profile_api_opens_for_a_token_with_pii_read(
    api_server: RunningServer, space_a: Space, space_b: Space
) -> None:
    assert _profile_status(api_server, space_a.slug, space_a.tokens[_PII]) == 404
    assert _profile_status(api_server, space_a.slug, space_a.tokens["owner"]) == 401
    for label in ("admin", "developer", "marketer", "analyst", "privacy_admin"):
        assert _profile_status(api_server, space_a.slug, space_a.tokens[label]) == 401, label
    assert _profile_status(api_server, space_b.slug, space_a.tokens[_PII]) == 401


def test_the_profile_api_stops_a_revoked_token_within_ten_seconds(first_owner: Api) -> None:
    workspace = first_owner.workspace()
    created = first_owner.ok(
        "POST",
        _tokens_path(workspace),
        201,
        json={"name": "reader", "role": "analyst", "pii_read": True, "service_account": True},
    )
    server = first_owner.server
    assert _profile_status(server, workspace, created["token"]) == 404  # opens; no such person
    first_owner.ok("DELETE", f"{_tokens_path(workspace)}/{created['id']}")
    revoked = time.monotonic()
    while _profile_status(server, workspace, created["token"]) != 401:
        assert time.monotonic() - revoked < 12, "still open 12 s after revocation"
        time.sleep(0.5)
