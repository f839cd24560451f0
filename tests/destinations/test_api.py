"""The destinations management API and CLI against a running server: secrets never returned,
bad input answered 4xx with a reason, test sends, enable/disable, replay of a time range,
health, and ``/metrics``."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from tests.cli.conftest import cli_for
from tests.destinations.conftest import Space, eventually, track
from tests.destinations.sink import Reply, Sink


def test_secrets_are_never_returned(space: Space) -> None:
    config = {
        "url": "http://127.0.0.1:9/x",
        "secret": "hush-1",
        "headers": {"Authorization": "hush-2"},
    }
    created = space.ok("POST", json={"name": "h", "kind": "webhook", "config": config})
    assert created["config"]["secret"] == {"set": True}
    for response in (
        space.admin("GET"),
        space.admin("GET", f"/{created['id']}"),
        space.admin("PATCH", f"/{created['id']}", json={"config": {"batch_size": 5}}),
    ):
        assert response.status_code == 200
        assert "hush" not in response.text
    kinds = space.server.api("GET", "/api/v1/destination-kinds")
    webhook = next(k for k in kinds if k["kind"] == "webhook")
    assert webhook["secret_fields"] == ["headers", "secret"]
    assert "url" in webhook["config_schema"]["properties"]
    deletes = {k["kind"]: k["deletes"] for k in kinds}
    assert deletes["webhook"] is False
    assert deletes["segment"] is True
    assert deletes["braze"] is True


def test_bad_input_is_a_4xx_with_a_reason(space: Space) -> None:
    def post(body: object) -> httpx.Response:
        return space.admin("POST", json=body)

    cases = [
        (post({"name": "a", "kind": "nope", "config": {}}), 400, "unknown_kind"),
        (
            post({"name": "a", "kind": "webhook", "config": {"url": "ftp:/x"}}),
            400,
            "invalid_config",
        ),
        (
            post(
                {
                    "name": "a",
                    "kind": "webhook",
                    "config": {"url": "http://x"},
                    "filters": [{"type": "zap"}],
                }
            ),
            400,
            "invalid_destination",
        ),
        (
            post(
                {
                    "name": "a",
                    "kind": "webhook",
                    "config": {"url": "http://x"},
                    "delivery": {"rate_limit": -1},
                }
            ),
            400,
            "invalid_destination",
        ),
        (post({"name": "a"}), 422, "invalid_request"),
        (space.admin("GET", "/999999"), 404, "destination_not_found"),
        (space.admin("PATCH", "/999999", json={"enabled": False}), 404, "destination_not_found"),
        (
            space.admin("POST", "/999999/replay", json={"dead_letters": True}),
            404,
            "destination_not_found",
        ),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    destination = space.destination("http://127.0.0.1:9/x")
    more = [
        (space.admin("DELETE", f"/{destination}"), 409, "destination_enabled"),
        (space.admin("POST", f"/{destination}/replay", json={}), 400, "invalid_replay"),
        (space.admin("PATCH", f"/{destination}", json={"colour": "red"}), 400, "invalid_change"),
        (
            space.admin("GET", f"/{destination}/stats", params={"interval": "week"}),
            422,
            "invalid_request",
        ),
        (
            space.admin(
                "POST", json={"name": "hook", "kind": "webhook", "config": {"url": "http://x"}}
            ),
            409,
            "destination_exists",
        ),
    ]
    for response, status, code in more:
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    with space.server.admin() as client:
        anonymous = httpx.get(f"{space.server.url}/api/v1/workspaces/{space.slug}/destinations")
        assert anonymous.status_code == 401
        assert client.get("/api/v1/workspaces/nowhere/destinations").status_code == 404


def test_test_send_shows_the_request_and_the_response(space: Space) -> None:
    with Sink(lambda _: Reply(400, {"error": "bad event"})) as sink:
        destination = space.destination(
            sink.url, config={"url": sink.url, "headers": {"Authorization": "Bearer hush"}}
        )
        result = space.ok("POST", f"/{destination}/test", json={"event": track(1)})
    assert result["outcome"] == "failed"
    exchange = result["exchange"]
    assert (exchange["method"], exchange["status"]) == ("POST", 400)
    assert json.loads(exchange["request_body"])["messageId"] == "m-1"
    assert exchange["request_headers"]["authorization"] == "****"
    assert "bad event" in exchange["response_body"]
    assert len(sink.requests) == 1


def test_disabled_destinations_receive_nothing_and_replay_sends_a_time_range(space: Space) -> None:
    with Sink() as sink:
        destination = space.destination(sink.url, enabled=False)
        before = datetime.now(UTC) - timedelta(seconds=1)
        space.send(*(track(n, prefix="r") for n in range(12)))
        time.sleep(1.0)
        assert sink.requests == []
        enabled = space.ok("POST", f"/{destination}/enable")
        assert enabled["enabled"] is True
        window = {"since": before.isoformat(), "until": datetime.now(UTC).isoformat()}
        replayed = space.ok("POST", f"/{destination}/replay", json=window)
        assert replayed == {"queued": 12, "skipped": 0}
        requests = sink.wait_for(12)
        assert sorted(r.json()["messageId"] for r in requests) == sorted(
            f"r-{n}" for n in range(12)
        )
        # The sink has the requests; the queue empties once Headwater has read the answers.
        health = eventually(
            lambda: (
                (h := space.ok("GET", f"/{destination}/health"))["state"] == "ok"
                and h["queue"]["pending"] == 0
                and h
            )
        )
        assert health["queue"] == {"pending": 0, "retrying": 0, "oldest_seconds": None}
        assert space.ok("POST", f"/{destination}/disable")["enabled"] is False
        assert space.ok("DELETE", f"/{destination}") == {
            "deleted": destination,
            "undelivered_dropped": 0,
        }
    metrics = httpx.get(f"{space.server.url}/metrics").text
    assert (
        f'headwater_deliveries_total{{destination="{destination}",outcome="delivered"}} 12.0'
        in metrics
    )


def test_alert_state_follows_the_success_ratio(space: Space) -> None:
    with Sink(lambda _: Reply(500)) as sink:
        destination = space.destination(sink.url, delivery={"alert_below": 0.5})
        assert space.ok("GET", f"/{destination}/health")["state"] == "no_data"
        space.send(track(1, prefix="al"))
        sink.wait_for(3)
        health = space.ok("GET", f"/{destination}/health")
    assert health["state"] == "alerting"
    assert health["success_ratio"] == 0.0
    assert health["queue"]["retrying"] == 1


def test_cli_creates_lists_and_reports(space: Space, tmp_path: Path) -> None:
    runner = cli_for(space.server, tmp_path)

    def cli(*args: str) -> object:
        return runner.run("destinations", *args, "--workspace", space.slug, "--json").json()

    created = cli(
        "create",
        "cli-hook",
        "webhook",
        "--config",
        '{"url": "http://127.0.0.1:9/h", "secret": "hush"}',
    )
    assert created["config"]["secret"] == {"set": True}  # type: ignore[index]
    listed = cli("list")
    assert [d["name"] for d in listed] == ["cli-hook"]  # type: ignore[attr-defined]
    stats = cli("stats", str(created["id"]))  # type: ignore[index]
    assert stats["health"]["state"] == "no_data"  # type: ignore[index]
    disabled = cli("disable", str(created["id"]))  # type: ignore[index]
    assert disabled["enabled"] is False  # type: ignore[index]


def test_a_destination_takes_only_its_own_workspaces_sources(space: Space) -> None:
    other = Space.create(space.server)
    body = {"name": "h", "kind": "webhook", "config": {"url": "http://127.0.0.1:9/x"}}
    for sources in ([other.source_id], [space.source_id, other.source_id]):
        answer = space.admin("POST", json={**body, "sources": sources})
        assert (answer.status_code, answer.json()["code"]) == (404, "source_not_found")
    own = space.ok("POST", json={**body, "sources": [space.source_id]})
    answer = space.admin("PATCH", f"/{own['id']}", json={"sources": [other.source_id]})
    assert (answer.status_code, answer.json()["code"]) == (404, "source_not_found")
    assert space.ok("GET", f"/{own['id']}")["sources"] == [space.source_id]
    assert [d["name"] for d in space.ok("GET")] == ["h"]


def test_a_name_with_a_control_character_is_refused(space: Space) -> None:
    body = {"kind": "webhook", "config": {"url": "http://127.0.0.1:9/x"}}
    for name in ("hook\n", "ho\x1fok", " "):
        answer = space.admin("POST", json={**body, "name": name})
        assert (answer.status_code, answer.json()["code"]) == (400, "invalid_name")
    answer = space.admin("POST", json={**body, "name": "ho\x00ok"})  # refused at the edge
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_character")
    created = space.ok("POST", json={**body, "name": "hook"})
    answer = space.admin("PATCH", f"/{created['id']}", json={"name": "hook\r\n"})
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_name")


def test_a_url_is_shown_masked_and_kept_when_sent_back(space: Space) -> None:
    with Sink() as sink:
        url = f"{sink.url.replace('//', '//hw:pw-hush-1@')}/in?token=hush-token-2&v=2"
        created = space.ok("POST", json={"name": "u", "kind": "webhook", "config": {"url": url}})
        shown = created["config"]["url"]
        assert shown.startswith("http://****@127.0.0.1:")
        assert shown.endswith("/in?token=****&v=****")
        patched = space.ok("PATCH", f"/{created['id']}", json={"config": created["config"]})
        assert "hush" not in json.dumps(patched)
        answer = space.ok("POST", f"/{created['id']}/test", json={})
        assert answer["outcome"] == "delivered"
        assert "hush" not in json.dumps(answer)
        (request,) = sink.requests
        assert request.query == {"token": ["hush-token-2"], "v": ["2"]}


def test_cli_replay_waits_until_the_queue_is_delivered(space: Space, tmp_path: Path) -> None:
    cli = cli_for(space.server, tmp_path)
    # One event a request, each answered slowly: delivery outlasts the replay request.
    with Sink(lambda _: Reply(delay=0.3)) as sink:
        delivery = {"batch_size": 1, "concurrency": 1}
        destination = space.destination(sink.url, enabled=False, delivery=delivery)
        before = datetime.now(UTC) - timedelta(seconds=1)
        space.send(*(track(n, prefix="w") for n in range(12)))
        time.sleep(1.0)
        common = ["--workspace", space.slug, "--json"]
        enabled = cli.run("destinations", "enable", str(destination), *common).json()
        assert enabled["enabled"] is True
        window = ["--since", before.isoformat(), "--until", datetime.now(UTC).isoformat()]
        replay = ["destinations", "replay", str(destination), *window, "--wait", *common]
        assert cli.run(*replay).json() == {"queued": 12, "skipped": 0}
        # --wait returned: the queue is empty, so the sink has every event.
        queue = space.ok("GET", f"/{destination}/health")["queue"]
        assert (queue["pending"], queue["retrying"]) == (0, 0)
        assert sorted(r.json()["messageId"] for r in sink.requests) == sorted(
            f"w-{n}" for n in range(12)
        )
