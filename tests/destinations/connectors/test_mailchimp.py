"""Mailchimp: checked as "Add or update list member"
(https://mailchimp.com/developer/marketing/api/list-members/add-or-update-list-member/) and
"Add or remove member tags"
(https://mailchimp.com/developer/marketing/api/list-member-tags/add-or-remove-member-tags/)
describe them."""

from __future__ import annotations

import base64
import hashlib

import httpx
import pydantic
import pytest

from headwater.connectors.base import Outcome
from headwater.connectors.mailchimp import Mailchimp, MailchimpConfig
from tests.destinations.connectors.conftest import TIMEOUT, shown
from tests.destinations.connectors.events import identify, track
from tests.destinations.sink import Recorded, Reply, Sink

KEY = "0123456789abcdef0123456789abcdef-us6"
LIST = "a1b2c3d4e5"
HASH = hashlib.md5(b"ada@example.com").hexdigest()
MEMBER = f"/3.0/lists/{LIST}/members/{HASH}"


def marketing_api(request: Recorded) -> Reply:
    """Basic auth with the key as password; PUT member with email_address and status_if_new;
    POST tags with name/status pairs (204)."""
    scheme, credentials = request.headers["authorization"].split(" ")
    assert scheme == "Basic"
    assert base64.b64decode(credentials).decode().split(":", 1)[1] == KEY
    body = request.json()
    if request.method == "PUT":
        assert request.path == MEMBER
        assert body["email_address"].lower() == "ada@example.com"
        assert body["status_if_new"] in ("subscribed", "pending", "unsubscribed", "transactional")
        return Reply(200, {"id": HASH, "email_address": body["email_address"], "status": "x"})
    assert (request.method, request.path) == ("POST", f"{MEMBER}/tags")
    assert all(tag["status"] in ("active", "inactive") for tag in body["tags"])
    return Reply(204, "")


def connector(sink: Sink, client: httpx.AsyncClient, **options: object) -> Mailchimp:
    config = MailchimpConfig.model_validate(
        {"api_key": KEY, "list_id": LIST, "endpoint": sink.url, **options}
    )
    return Mailchimp(config, client)


def test_the_data_centre_comes_from_the_key() -> None:
    config = MailchimpConfig(api_key=KEY, list_id=LIST)
    assert config.base_url() == "https://us6.api.mailchimp.com/3.0"
    with pytest.raises(pydantic.ValidationError, match="data centre"):
        MailchimpConfig(api_key="0123456789abcdef", list_id=LIST)


async def test_identify_upserts_the_member_with_merge_fields(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = marketing_api
    event = identify(traits={"email": "Ada@Example.com", "firstName": "Ada", "phone": "1"})
    result = await connector(sink, client, status_if_new="pending").send([event])
    assert result.outcome is Outcome.DELIVERED
    (request,) = sink.requests
    assert request.json() == {
        "email_address": "Ada@Example.com",
        "status_if_new": "pending",
        "merge_fields": {"FNAME": "Ada"},
    }


async def test_tags_are_added_after_the_member(sink: Sink, client: httpx.AsyncClient) -> None:
    sink.handler = marketing_api
    event = identify(traits={"email": "ada@example.com", "tags": ["vip", "beta", 3]})
    result = await connector(sink, client, tags=["from-headwater", "vip"]).send([event])
    assert result.outcome is Outcome.DELIVERED
    assert [r.method for r in sink.requests] == ["PUT", "POST"]
    assert sink.requests[1].json() == {
        "tags": [
            {"name": "vip", "status": "active"},
            {"name": "beta", "status": "active"},
            {"name": "from-headwater", "status": "active"},
        ]
    }


async def test_only_identify_calls_with_an_email_are_taken(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    for event in (track(context={"traits": {"email": "ada@example.com"}}), identify()):
        result = await connector(sink, client).send([event])
        assert (result.outcome, result.error) == (
            Outcome.FAILED,
            "Mailchimp accepts only identify calls with an email",
        )
    assert sink.requests == []


async def test_compliance_state_is_permanent_and_skips_tags(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = lambda _: Reply(
        400,
        {
            "type": "https://mailchimp.com/developer/marketing/docs/errors/",
            "title": "Member In Compliance State",
            "status": 400,
            "detail": "ada@example.com is in a compliance state due to unsubscribe.",
            "instance": "e0b9b3b4",
        },
        {"Content-Type": "application/problem+json"},
    )
    event = identify(traits={"email": "ada@example.com", "tags": ["vip"]})
    result = await connector(sink, client).send([event])
    assert result.outcome is Outcome.FAILED
    assert len(sink.requests) == 1


async def test_retryable_errors_and_masked_key(sink: Sink, impatient: httpx.AsyncClient) -> None:
    event = identify(traits={"email": "ada@example.com"})
    sink.handler = lambda _: Reply(429, {"title": "Too Many Requests", "status": 429})
    limited = await shown(connector(sink, impatient), [event])
    sink.handler = lambda _: Reply(503, {"title": "Service Unavailable", "status": 503})
    broken = await shown(connector(sink, impatient), [event])
    sink.handler = lambda _: Reply(200, {}, delay=TIMEOUT * 3)
    slow = await shown(connector(sink, impatient), [event])
    assert [r.outcome for r in (limited, broken, slow)] == [Outcome.RETRY] * 3
    for result in (limited, slow):
        assert result.exchange is not None
        assert result.exchange.request_headers["authorization"] == "****"
        assert KEY not in repr(result)
