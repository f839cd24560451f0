"""Slack incoming webhook: checked as https://api.slack.com/messaging/webhooks describes it."""

from __future__ import annotations

import httpx
import pytest

from headwater.connectors.base import Outcome
from headwater.connectors.slack import Slack, SlackConfig
from tests.destinations.connectors.conftest import TIMEOUT, shown
from tests.destinations.connectors.events import identify, segment, track
from tests.destinations.sink import Recorded, Reply, Sink

PATH = "/services/T0001/B0001/XXXXXXXXXXXXXXXXXXXXXXXX"


def slack_webhook(request: Recorded) -> Reply:
    """Slack's webhook: POST of a JSON object with a non-empty text; answers 200 "ok"."""
    assert (request.method, request.path) == ("POST", PATH)
    assert request.headers["content-type"] == "application/json"
    assert isinstance(request.json().get("text"), str)
    assert request.json()["text"]
    return Reply(200, "ok", {"Content-Type": "text/plain"})


def connector(sink: Sink, client: httpx.AsyncClient, **options: object) -> Slack:
    config = SlackConfig.model_validate({"webhook_url": sink.url + PATH, **options})
    return Slack(config, client)


async def test_templated_track_event_posts_its_message(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = slack_webhook
    slack = connector(
        sink,
        client,
        templates={
            "Order Completed": "{{user}} ordered *{{properties.total}}* <{{context.page.url}}|page>"
        },
        channel="#sales",
        username="Headwater",
    )
    event = track(
        properties={"total": "<$5 & up>"},
        context={"traits": {"name": "Ada"}, "page": {"url": "https://shop.example/x"}},
    )
    result = await slack.send([event])
    assert result.outcome is Outcome.DELIVERED
    assert sink.requests[0].json() == {
        "text": "Ada ordered *&lt;$5 &amp; up&gt;* <https://shop.example/x|page>",
        "channel": "#sales",
        "username": "Headwater",
    }


async def test_other_events_use_the_default_template_only_when_asked(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = slack_webhook
    quiet = await connector(sink, client).send([track("Signed Up")])
    loud = await connector(sink, client, send_all_events=True).send(
        [track("Signed Up", userId=None, anonymousId="anon-7")]
    )
    assert (quiet.outcome, quiet.exchange) == (Outcome.DELIVERED, None)
    assert loud.outcome is Outcome.DELIVERED
    assert [r.json() for r in sink.requests] == [{"text": "anon-7 did *Signed Up*"}]


@pytest.mark.parametrize("kind", ["identify", "page", "screen", "group", "alias"])
async def test_non_track_calls_are_delivered_with_nothing_to_do(
    sink: Sink, client: httpx.AsyncClient, kind: str
) -> None:
    event = identify() if kind == "identify" else segment(kind, userId="u-1")
    result = await connector(sink, client, send_all_events=True).send([event])
    assert (result.outcome, result.exchange) == (Outcome.DELIVERED, None)
    assert sink.requests == []


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (400, "invalid_payload", Outcome.FAILED),
        (403, "action_prohibited", Outcome.FAILED),
        (404, "channel_not_found", Outcome.FAILED),
        (410, "channel_is_archived", Outcome.FAILED),
        (500, "rollup_error", Outcome.RETRY),
    ],
)
async def test_documented_errors(
    sink: Sink, client: httpx.AsyncClient, status: int, body: str, outcome: Outcome
) -> None:
    sink.handler = lambda _: Reply(status, body, {"Content-Type": "text/plain"})
    result = await connector(sink, client, send_all_events=True).send([track()])
    assert result.outcome is outcome
    assert result.error == f"HTTP {status}: {body}"


async def test_rate_limit_is_retried_after_the_given_delay(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = lambda _: Reply(
        429, {"ok": False, "error": "rate_limited"}, {"Retry-After": "30"}
    )
    result = await connector(sink, client, send_all_events=True).send([track()])
    assert (result.outcome, result.retry_after) == (Outcome.RETRY, 30.0)


async def test_timeout_is_retried_and_the_webhook_url_is_masked(
    sink: Sink, impatient: httpx.AsyncClient
) -> None:
    sink.handler = lambda _: Reply(200, "ok", delay=TIMEOUT * 3)
    result = await shown(connector(sink, impatient, send_all_events=True), [track()])
    assert result.outcome is Outcome.RETRY
    assert result.exchange is not None
    assert result.exchange.error is not None
    assert "Timeout" in result.exchange.error
    assert result.exchange.url == "****"
    assert "XXXXXXXX" not in repr(result)
