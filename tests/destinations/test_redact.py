"""Redaction by structure (pure): which parts of a config are secret, and every spelling in
which a secret could leave masked."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus

import pydantic
import pytest

from headwater.connectors.base import Exchange, Outcome, SendResult
from headwater.connectors.ga4 import GoogleAnalytics4Config
from headwater.connectors.slack import SlackConfig
from headwater.connectors.warehouse import PostgresWarehouseConfig
from headwater.connectors.webhook import WebhookConfig
from headwater.destinations.redact import MASK, Redactor, mask_url

SECRET = "Ab/+ c%d-Secret"


@pytest.mark.parametrize(
    "spelling",
    [
        SECRET,
        SECRET.upper(),
        SECRET.lower(),
        quote(SECRET, safe=""),
        quote(SECRET, safe="").lower(),
        quote_plus(SECRET),
        json.dumps(SECRET)[1:-1],
        repr(SECRET.encode())[2:-1],
    ],
)
def test_every_spelling_of_a_secret_is_masked(spelling: str) -> None:
    config = GoogleAnalytics4Config(measurement_id="G-1", api_secret=pydantic.SecretStr(SECRET))
    assert Redactor.of(config).text(f"before {spelling} after") == f"before {MASK} after"


def test_a_secret_with_a_pasted_newline_is_masked_as_a_client_quotes_it() -> None:
    config = WebhookConfig.model_construct(
        url=pydantic.AnyHttpUrl("https://example.com"),
        headers={"X-Token": pydantic.SecretStr("tok-123\n")},
        secret=None,
    )
    shown = Redactor.of(config).text("Illegal header value b'tok-123\\n'")
    assert shown == f"Illegal header value b'{MASK}'"


def test_a_secret_url_is_masked_whatever_the_case_of_its_host() -> None:
    url = "https://HOOKS.SLACK.COM/services/T0AB12CD/B0EF34GH/abcdefghijklmnopqrstuvwx"
    redactor = Redactor.of(SlackConfig(webhook_url=pydantic.SecretStr(url)))
    for seen in (url, url.lower(), url.replace("HOOKS.SLACK.COM", "hooks.slack.com:443")):
        shown = redactor.url(seen)
        for token in ("T0AB12CD", "B0EF34GH", "abcdefghijklmnopqrstuvwx"):
            assert token not in shown, shown
    assert "services" in redactor.text("https://hooks.slack.com:443/services/T0AB12CD/x")


def test_url_parts_are_secret_in_plain_url_fields() -> None:
    config = WebhookConfig(
        url=pydantic.AnyHttpUrl("https://me:pw-123456@x.io/h?token=tok-7890&v=2")
    )
    redactor = Redactor.of(config)
    assert redactor.text("echo tok-7890 and pw-123456 and v2") == f"echo {MASK} and {MASK} and v2"
    assert redactor.url("https://me:pw-123456@x.io/h?token=tok-7890&v=2") == (
        f"https://{MASK}@x.io/h?token={MASK}&v={MASK}"
    )


def test_a_database_url_hides_its_password() -> None:
    url = "postgresql://loader:hunter2-pw@db.internal:5432/warehouse"
    redactor = Redactor.of(PostgresWarehouseConfig(url=pydantic.SecretStr(url)))
    assert redactor.text("could not connect with hunter2-pw") == f"could not connect with {MASK}"
    assert mask_url(url) == f"postgresql://{MASK}@db.internal:5432/warehouse"


def test_a_result_is_masked_throughout() -> None:
    config = GoogleAnalytics4Config(measurement_id="G-1", api_secret=pydantic.SecretStr("s3cr3t-x"))
    exchange = Exchange(
        method="POST",
        url="https://ga.example/mp/collect?measurement_id=G-1&api_secret=s3cr3t-x",
        request_headers={"authorization": "Bearer anything", "x-api-key": "k", "accept": "*/*"},
        request_body='{"secret": "S3CR3T-X"}',
        status=400,
        response_headers={"set-cookie": "session=1"},
        response_body="bad api_secret s3cr3t-x",
    )
    result = SendResult(
        outcome=Outcome.FAILED,
        exchange=exchange,
        error="HTTP 400: s3cr3t-x",
        failed={0: "s3cr3t-x"},
    )
    shown = Redactor.of(config).result(result)
    assert "s3cr3t" not in repr(shown).lower()
    assert shown.exchange is not None
    assert shown.exchange.request_headers == {
        "authorization": MASK,
        "x-api-key": MASK,
        "accept": "*/*",
    }
    assert shown.exchange.response_headers == {"set-cookie": MASK}
    assert shown.exchange.url.endswith(f"measurement_id={MASK}&api_secret={MASK}")


def test_short_url_parts_are_masked_in_urls_not_in_text() -> None:
    redactor = Redactor.of(WebhookConfig(url=pydantic.AnyHttpUrl("https://x.io/h?v=2")))
    assert redactor.text("version 2") == "version 2"
    assert redactor.url("https://x.io/h?v=2") == f"https://x.io/h?v={MASK}"


def test_stored_records_are_masked_as_read() -> None:
    config = GoogleAnalytics4Config(measurement_id="G-1", api_secret=pydantic.SecretStr("s3cr3t-x"))
    stored = {"error": "s3cr3t-x", "exchange": {"url": "?api_secret=s3cr3t-x"}, "attempts": 3}
    assert Redactor.of(config).stored(stored) == {
        "error": MASK,
        "exchange": {"url": f"?api_secret={MASK}"},
        "attempts": 3,
    }
