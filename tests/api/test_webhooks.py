"""Webhook sources through a running server: created from a preset, a request signed as the
sender signs it stored through the tracking API's path and visible in the debugger; a wrong
signature refused with 401 and recorded without its body; the test run; rotation; secrets
never shown; another workspace's source out of reach."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from tests.api.conftest import Api, unique
from tests.api.test_events import frames
from tests.hooks.senders import SENDERS, sendgrid, sendgrid_keys, twilio_json


def _create(api: Api, workspace: str, **body: Any) -> dict[str, Any]:
    path = f"/api/v1/workspaces/{workspace}/webhook-sources"
    return api.ok("POST", path, 201, json={"name": unique("hook"), **body})  # type: ignore[no-any-return]


def _send(api: Api, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{api.server.url}{path}", content=body, headers=headers, timeout=30)


def _requests(api: Api, workspace: str, source_id: int) -> list[dict[str, Any]]:
    path = f"/api/v1/workspaces/{workspace}/sources/{source_id}/hook/requests"
    return api.ok("GET", path)  # type: ignore[no-any-return]


def test_a_stripe_source_stores_a_signed_event_and_shows_it_in_the_debugger(api: Api) -> None:
    workspace = api.workspace()
    made = _create(api, workspace, preset="stripe", secret="whsec_abc123")
    hook = made["hook"]
    assert made["secret"] is None  # given, so not shown back
    assert hook["config"]["auth"]["secret"] == {"set": True}
    assert "whsec_abc123" not in json.dumps(made)
    assert hook["path"] == f"/v1/hooks/{hook['url_key']}"
    assert len(hook["url_key"]) >= 24

    signed = SENDERS["stripe"]("whsec_abc123", "", int(time.time()))
    response = _send(api, hook["path"], signed.body, signed.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "success": True,
        "messages": 1,
        "accepted": 1,
        "duplicates": 0,
        "rejected": 0,
    }
    # Stored by the tracking API's path: the event is in the log, normalised.
    event = api.ok("GET", f"/api/v1/workspaces/{workspace}/events/evt_1NG8Du2eZvKYlo2CUI79vXWy")
    assert event["payload"]["event"] == "invoice.paid"
    assert event["payload"]["userId"] == "cus_NffrFeUfNV2Hib"
    # The same event again (Stripe retries) is a duplicate, not a second event.
    again = _send(api, hook["path"], signed.body, signed.headers)
    assert again.json()["duplicates"] == 1

    seen = _requests(api, workspace, hook["source_id"])
    assert [r["outcome"] for r in seen] == ["stored", "stored"]
    assert seen[0]["messages"][0]["event"] == "invoice.paid"
    assert seen[0]["headers"]["stripe-signature"] == "[redacted]"
    assert seen[0]["body"] is not None
    assert "invoice.paid" in seen[0]["body"]


def test_a_wrong_signature_is_refused_and_recorded_without_its_body(api: Api) -> None:
    workspace = api.workspace()
    hook = _create(api, workspace, preset="stripe", secret="whsec_right")["hook"]
    signed = SENDERS["stripe"]("whsec_wrong", "", int(time.time()))
    response = _send(api, hook["path"], signed.body, signed.headers)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_signature"
    missing = _send(api, hook["path"], signed.body, {"Content-Type": "application/json"})
    assert missing.status_code == 401
    assert "Stripe-Signature header is missing" in missing.json()["message"]
    seen = _requests(api, workspace, hook["source_id"])
    assert [(r["outcome"], r["status"], r["body"]) for r in seen] == [
        ("refused", 401, None),
        ("refused", 401, None),
    ]
    assert "does not match" in seen[1]["reason"]
    api.error(
        "GET",
        f"/api/v1/workspaces/{workspace}/events/evt_1NG8Du2eZvKYlo2CUI79vXWy",
        404,
        "event_not_found",
    )


def test_an_unknown_key_is_a_404(api: Api) -> None:
    response = httpx.post(f"{api.server.url}/v1/hooks/not-a-key", content=b"{}")
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_hook"


def test_url_signed_senders_through_the_server(api: Api) -> None:
    """HubSpot and Twilio sign the URL they call: the server's own address here."""
    workspace = api.workspace()
    for name in ("hubspot", "twilio"):
        hook = _create(api, workspace, preset=name, secret="app-secret")["hook"]
        url = f"{api.server.url}{hook['path']}"
        signed = SENDERS[name]("app-secret", url, int(time.time()))
        response = _send(api, hook["path"], signed.body, signed.headers)
        assert response.status_code == 200, (name, response.text)
        assert response.json()["accepted"] >= 1


def test_hubspot_with_encoded_query_and_twilio_json_through_the_server(api: Api) -> None:
    """The URL as the server receives it: HubSpot's signature over it with its listed escapes
    decoded; Twilio's JSON body against the ``bodySHA256`` of the URL it signed."""
    workspace = api.workspace()
    hubspot = _create(api, workspace, preset="hubspot", secret="app-secret")["hook"]
    path = hubspot["path"] + "?portal=62515&back=https%3A%2F%2Fa.example%2Fx%3Fy%3D1&n=O%27B%20c"
    signed = SENDERS["hubspot"]("app-secret", f"{api.server.url}{path}", int(time.time()))
    response = _send(api, path, signed.body, signed.headers)
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 2
    stale = SENDERS["hubspot"]("app-secret", f"{api.server.url}{path}", int(time.time()) - 400)
    refused = _send(api, path, stale.body, stale.headers)
    assert refused.status_code == 401
    assert "seconds away from now" in refused.json()["message"]

    twilio = _create(api, workspace, preset="twilio", secret="auth-token")["hook"]
    called, sent = twilio_json("auth-token", f"{api.server.url}{twilio['path']}?site=1", 0)
    response = httpx.post(called, content=sent.body, headers=sent.headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1
    tampered = sent.body.replace(b"delivered", b"failed")
    refused = httpx.post(called, content=tampered, headers=sent.headers, timeout=30)
    assert refused.status_code == 401
    assert "bodySHA256" in refused.json()["message"]
    form = SENDERS["twilio"]("auth-token", f"{api.server.url}{twilio['path']}", 0)
    assert _send(api, twilio["path"], form.body, form.headers).status_code == 200
    forged = form.body.replace(b"Hello", b"Hullo")
    assert _send(api, twilio["path"], forged, form.headers).status_code == 401
    outcomes = [r["outcome"] for r in _requests(api, workspace, twilio["source_id"])]
    assert outcomes == ["refused", "stored", "refused", "stored"]


def test_sendgrid_with_its_public_key(api: Api) -> None:
    workspace = api.workspace()
    private, public = sendgrid_keys()
    made = _create(api, workspace, preset="sendgrid", secret=public)
    signed = sendgrid(private, "", int(time.time()))
    response = _send(api, made["hook"]["path"], signed.body, signed.headers)
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 2
    api.error(
        "POST",
        f"/api/v1/workspaces/{workspace}/webhook-sources",
        400,
        "invalid_hook_config",
        json={"name": unique("sg"), "preset": "sendgrid"},
    )


def test_rules_that_make_no_message_or_fail_are_recorded_never_silent(api: Api) -> None:
    workspace = api.workspace()
    config = {
        "auth": {"type": "bearer"},
        "rules": [
            {
                "when": {"path": "body.kind", "value": "signup"},
                "type": "identify",
                "set": {"userId": "body.user", "traits.plan": "body.plan"},
                "timestamp": {"path": "body.at", "format": "unix_seconds"},
            }
        ],
    }
    made = _create(api, workspace, config=config)
    token = made["secret"]
    assert token
    assert made["hook"]["config"]["auth"]["token"] == {"set": True}
    path = made["hook"]["path"]
    auth = {"Authorization": f"Bearer {token}"}
    ok = httpx.post(
        f"{api.server.url}{path}",
        json={"kind": "signup", "user": "u1", "plan": "pro", "at": 1_700_000_000},
        headers=auth,
    )
    assert ok.json()["accepted"] == 1
    none = httpx.post(f"{api.server.url}{path}", json={"kind": "other"}, headers=auth)
    assert none.status_code == 200
    assert none.json()["messages"] == 0
    bad = httpx.post(
        f"{api.server.url}{path}", json={"kind": "signup", "user": "u2", "at": "x"}, headers=auth
    )
    assert bad.status_code == 200
    assert bad.json()["rejected"] == 1
    seen = _requests(api, workspace, made["hook"]["source_id"])
    assert [r["outcome"] for r in seen] == ["failed", "none", "stored"]
    assert "is not unix_seconds" in seen[0]["errors"][0]
    assert seen[1]["reason"] == "no rule held"
    assert seen[0]["headers"]["authorization"] == "[redacted]"
    rejections = api.ok("GET", f"/api/v1/workspaces/{workspace}/rejections")
    assert any(
        r["sourceId"] == made["hook"]["source_id"] and "is not unix_seconds" in r["reason"]
        for r in rejections
    ), rejections


def test_the_test_run_maps_without_storing_and_explains_errors(api: Api) -> None:
    workspace = api.workspace()
    hook = _create(api, workspace, preset="typeform", secret="tf")["hook"]
    base = f"/api/v1/workspaces/{workspace}/sources/{hook['source_id']}/hook"
    signed = SENDERS["typeform"]("ignored", "", 0)
    result = api.ok("POST", f"{base}/test", json={"request": {"json": json.loads(signed.body)}})
    assert result["errors"] == []
    assert result["messages"][0]["event"] == "Form Submitted"
    # Nothing stored, nothing in the debugger.
    assert _requests(api, workspace, hook["source_id"]) == []
    api.error(
        "GET", f"/api/v1/workspaces/{workspace}/events/01HXYZAB12CDEF", 404, "event_not_found"
    )
    broken = {"rules": [], "transform": "messages[0].x / 0"}
    out = api.ok("POST", f"{base}/test", json={"config": broken, "request": {"json": {}}})
    assert out["messages"] == []
    assert out["errors"][0].startswith("transformation:")
    body = api.error(
        "POST",
        f"{base}/test",
        400,
        "invalid_hook_config",
        json={"config": {"rules": [{"type": "buy"}]}, "request": {"json": {}}},
    )
    assert body["errors"][0]["field"] == "rules.0.type"
    # An expression that does not parse is named by its field, for the form to show it there.
    rules = [
        {"type": "track", "set": {"event": "body.e"}},
        {"type": "track", "set": {"properties.plan": {"expr": "upper(body.plan"}}},
    ]
    for config in ({"rules": rules}, {"auth": {"type": "none"}, "rules": rules}):
        body = api.error(
            "POST",
            f"{base}/test",
            400,
            "invalid_hook_config",
            json={"config": config, "request": {"json": {}}},
        )
        assert [e["field"] for e in body["errors"]] == ["rules.1.set.properties.plan"]
        assert body["errors"][0]["message"].startswith("the expression is invalid")


def test_rotation_and_configuration_keep_secrets_hidden(api: Api) -> None:
    workspace = api.workspace()
    made = _create(api, workspace, preset="shopify", secret="old-secret")
    hook = made["hook"]
    base = f"/api/v1/workspaces/{workspace}/sources/{hook['source_id']}/hook"
    rotated = api.ok("POST", f"{base}/rotate", json={"new_url": True})
    assert rotated["secret"]
    assert rotated["hook"]["url_key"] != hook["url_key"]
    old_url = _send(api, hook["path"], b"{}", {})
    assert old_url.status_code == 404
    signed = SENDERS["shopify"](rotated["secret"], "", 0)
    assert _send(api, rotated["hook"]["path"], signed.body, signed.headers).status_code == 200
    # A new configuration without a secret keeps the stored one.
    config = {**api.ok("GET", base)["config"], "rules": []}
    changed = api.ok("PUT", base, json={"config": config})
    assert changed["config"]["auth"]["secret"] == {"set": True}
    response = _send(api, rotated["hook"]["path"], signed.body, signed.headers)
    assert response.status_code == 200
    assert response.json()["messages"] == 0
    # A new URL alone keeps the secret; a given secret is not shown back.
    moved = api.ok("POST", f"{base}/rotate", json={"new_url": True, "new_secret": False})
    assert moved["secret"] is None
    assert _send(api, moved["hook"]["path"], signed.body, signed.headers).status_code == 200
    given = api.ok("POST", f"{base}/rotate", json={"secret": "from-shopify"})
    assert given["secret"] is None
    signed = SENDERS["shopify"]("from-shopify", "", 0)
    assert _send(api, moved["hook"]["path"], signed.body, signed.headers).status_code == 200
    trail = api.ok("GET", f"/api/v1/workspaces/{workspace}/audit")
    assert "old-secret" not in json.dumps(trail)
    assert rotated["secret"] not in json.dumps(trail)
    assert "from-shopify" not in json.dumps(trail)
    actions = [entry["action"] for entry in trail["data"]]
    assert actions.count("source.hook.rotate") == 3, actions
    assert "source.hook.update" in actions
    assert "source.create" in actions


def test_another_workspace_cannot_see_a_webhook_source(api: Api) -> None:
    mine = api.workspace()
    other = api.workspace()
    hook = _create(api, mine, preset="calendly", secret="k")["hook"]
    api.error(
        "GET",
        f"/api/v1/workspaces/{other}/sources/{hook['source_id']}/hook",
        404,
        "source_not_found",
    )


def test_presets_are_listed(api: Api) -> None:
    names = {p["name"] for p in api.ok("GET", "/api/v1/workspaces/default/hook-presets")}
    assert names == {"stripe", "shopify", "hubspot", "typeform", "calendly", "twilio", "sendgrid"}


def test_a_verification_challenge_is_echoed_before_authentication(api: Api) -> None:
    workspace = api.workspace()
    config = {
        "auth": {"type": "bearer"},
        "rules": [{"type": "track", "set": {"event": {"const": "E"}, "anonymousId": "body.id"}}],
        "reply": {"when": {"path": "query.challenge", "op": "exists"}, "echo": "query.challenge"},
    }
    hook = _create(api, workspace, config=config)["hook"]
    answer = httpx.get(f"{api.server.url}{hook['path']}", params={"challenge": "c-123"})
    assert answer.status_code == 200
    assert answer.text == "c-123"
    plain_get = httpx.get(f"{api.server.url}{hook['path']}")
    assert plain_get.status_code == 405
    assert plain_get.json()["code"] == "method_not_allowed"
    seen = _requests(api, workspace, hook["source_id"])
    assert [(r["outcome"], r["status"]) for r in seen] == [("refused", 405), ("replied", 200)]
    # The test run takes a configuration as shown by GET (its secret masked) as it is.
    shown = api.ok("GET", f"/api/v1/workspaces/{workspace}/sources/{hook['source_id']}/hook")
    result = api.ok(
        "POST",
        f"/api/v1/workspaces/{workspace}/sources/{hook['source_id']}/hook/test",
        json={"config": shown["config"], "request": {"json": {"id": "a1"}}},
    )
    assert result["messages"][0]["anonymousId"] == "a1"


def test_webhook_sources_are_made_only_as_such(api: Api) -> None:
    workspace = api.workspace()
    api.error(
        "POST",
        f"/api/v1/workspaces/{workspace}/sources",
        422,
        "invalid_request",
        json={"name": unique("s"), "kind": "webhook"},
    )
    hook = _create(api, workspace, preset="twilio", secret="tok")["hook"]
    api.error(
        "PATCH",
        f"/api/v1/workspaces/{workspace}/sources/{hook['source_id']}",
        400,
        "invalid_kind",
        json={"kind": "server"},
    )
    listed = api.ok("GET", f"/api/v1/workspaces/{workspace}/sources")
    assert [s["kind"] for s in listed if s["id"] == hook["source_id"]] == ["webhook"]


def test_a_body_over_the_limit_is_refused_and_recorded(api: Api) -> None:
    workspace = api.workspace()
    hook = _create(api, workspace, config={"auth": {"type": "none"}, "rules": []})["hook"]
    big = b'{"pad": "' + b"x" * 2_000_000 + b'"}'
    response = _send(api, hook["path"], big, {"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["code"] == "request_too_large"
    seen = _requests(api, workspace, hook["source_id"])
    assert [(r["outcome"], r["status"], r["body"]) for r in seen] == [("refused", 400, None)]


def test_the_debugger_streams_each_request_as_it_is_recorded(api: Api) -> None:
    workspace = api.workspace()
    hook = _create(api, workspace, preset="stripe", secret="whsec_live")["hook"]
    before = SENDERS["stripe"]("whsec_live", "", int(time.time()))
    assert _send(api, hook["path"], before.body, before.headers).status_code == 200
    live = f"/api/v1/workspaces/{workspace}/sources/{hook['source_id']}/hook/requests/live"

    with api.client.stream("GET", live, timeout=httpx.Timeout(15)) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = frames(response)
        assert next(stream) == {"comment": "connected"}
        forged = SENDERS["stripe"]("whsec_guess", "", int(time.time()))
        assert _send(api, hook["path"], forged.body, forged.headers).status_code == 401
        assert _send(api, hook["path"], before.body, before.headers).status_code == 200
        first, second = next(stream), next(stream)

    assert (first["event"], second["event"]) == ("request", "request")
    seen = [json.loads(first["data"]), json.loads(second["data"])]
    assert [(s["outcome"], s["status"]) for s in seen] == [("refused", 401), ("stored", 200)]
    assert [int(first["id"]), int(second["id"])] == [s["id"] for s in seen]
    assert seen[0]["body"] is None
    assert seen[0]["headers"]["stripe-signature"] == "[redacted]"
    # A reconnecting client resumes after the last request it saw.
    with api.client.stream(
        "GET", live, headers={"Last-Event-ID": first["id"]}, timeout=httpx.Timeout(15)
    ) as response:
        stream = frames(response)
        assert next(stream) == {"comment": "connected"}
        assert json.loads(next(stream)["data"])["id"] == seen[1]["id"]
    other = api.workspace()
    api.error(
        "GET",
        f"/api/v1/workspaces/{other}/sources/{hook['source_id']}/hook/requests/live",
        404,
        "source_not_found",
    )
