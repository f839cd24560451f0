"""Health, readiness, Prometheus metrics and the OpenAPI document."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from headwater.access import Permission
from headwater.api.permissions import rule_of
from tests.api.conftest import Api, unique
from tests.server import RunningServer


def test_health_and_readiness(api_server: RunningServer) -> None:
    health = httpx.get(f"{api_server.url}/health", timeout=10)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = httpx.get(f"{api_server.url}/ready", timeout=10)
    assert ready.status_code == 200
    body = ready.json()
    assert (body["ready"], body["database"], body["collector"]) == (True, "up", "up")
    tasks = body["tasks"]
    assert set(tasks) == {
        "processor",
        "audience-scheduler",
        "audience-relay",
        "journey-runner",
        "journey-calls",
        "delivery",
        "privacy-exports",
        "dedup-purge",
        "suppressions",
        "pii-rules",
        "regulations",
        "retention",
        "reverse-etl",
        "imports",
    }
    assert {task["state"] for task in tasks.values()} == {"up"}
    root = httpx.get(f"{api_server.url}/", timeout=10).json()
    assert (root["name"], root["tracking"], root["api"]) == ("Headwater", "/v1/batch", "/api/v1")


def _samples(server: RunningServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{server.url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_metrics_count_events_and_requests(api: Api) -> None:
    source = api.source()
    before = _samples(api.server)
    repeated = unique("m")
    api.track(
        source["write_key"],
        "/v1/batch",
        batch=[
            {"type": "track", "userId": "u1", "event": "A", "messageId": repeated},
            {"type": "track", "userId": "u1", "event": "A", "messageId": repeated},
            {"type": "page", "anonymousId": "a1", "name": "Home"},
            {"type": "track", "userId": "u1"},
        ],
    )
    api.track(source["write_key"], userId="u2", event="B")
    api.track("not-a-write-key", userId="u2", event="B", status=401)
    after = _samples(api.server)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        assert key in after, f"{key} missing from /metrics"
        return after[key] - before.get(key, 0.0)

    assert delta("headwater_events_total", outcome="accepted") == 3
    assert delta("headwater_events_total", outcome="duplicate") == 1
    assert delta("headwater_events_total", outcome="rejected") == 1
    assert delta("headwater_tracking_requests_total", status="200") == 2
    assert delta("headwater_tracking_requests_total", status="401") == 1
    assert delta("headwater_commit_seconds_count") >= 1


def test_the_openapi_document_lists_the_routes(api_server: RunningServer) -> None:
    document = httpx.get(f"{api_server.url}/api/openapi.json", timeout=10).json()
    assert document["info"]["title"] == "Headwater"
    routes = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert routes >= {
        ("GET", "/api/v1/workspaces"),
        ("POST", "/api/v1/workspaces"),
        ("GET", "/api/v1/workspaces/{workspace}/sources"),
        ("POST", "/api/v1/workspaces/{workspace}/sources"),
        ("GET", "/api/v1/workspaces/{workspace}/sources/{source_id}"),
        ("PATCH", "/api/v1/workspaces/{workspace}/sources/{source_id}"),
        ("GET", "/api/v1/workspaces/{workspace}/sources/{source_id}/events"),
        ("GET", "/api/v1/workspaces/{workspace}/sources/{source_id}/live"),
        ("GET", "/api/v1/workspaces/{workspace}/events/{message_id}"),
        ("GET", "/api/v1/workspaces/{workspace}/rejections"),
        ("GET", "/api/v1/workspaces/{workspace}/stats"),
        ("GET", "/health"),
        ("GET", "/ready"),
        ("GET", "/metrics"),
    }
    # Every management route documents its bearer-token auth (but signing in itself).
    schemes = document["components"]["securitySchemes"]
    assert any(s.get("scheme", "").lower() == "bearer" for s in schemes.values())
    for path, operations in document["paths"].items():
        if path.startswith("/api/v1/"):
            for method, operation in operations.items():
                rule = rule_of(method.upper(), path.removeprefix("/api/v1"))
                if rule is not None and rule.permission is Permission.PUBLIC:
                    assert not operation.get("security"), f"{method} {path} needs no sign-in"
                    continue
                assert operation.get("security"), f"{method} {path} documents no auth"
    docs = httpx.get(f"{api_server.url}/api/docs", timeout=10)
    assert docs.status_code == 200
    assert "/api/openapi.json" in docs.text
