"""Deletions forwarded to each vendor's user deletion API, against a recording server that checks
each request as the vendor documents it:

- Braze: https://www.braze.com/docs/api/endpoints/user_data/post_user_delete
- Amplitude: https://amplitude.com/docs/apis/analytics/user-privacy (v1, /api/2/deletions/users)
- Mixpanel: https://docs.mixpanel.com/reference/delete-profile (Engage ``$delete``)
- Customer.io: https://docs.customer.io/integrations/api/track/ (DELETE /api/v1/customers/{id})
- Intercom: https://developers.intercom.com/docs/references/2.3/rest-api/contacts/delete-contact
- HubSpot: https://developers.hubspot.com/docs/api-reference/crm-contacts-v3/basic/
  post-crm-v3-objects-contacts-gdpr-delete
- Mailchimp: https://mailchimp.com/developer/marketing/api/list-members/ (delete-permanent)
- Segment: https://docs.segmentapis.com/tag/Deletion-and-Suppression (Public API regulations)
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

import httpx
import pydantic
import pytest

from headwater.connectors import DeletionSubject, Outcome, SendResult, load_all
from headwater.connectors.amplitude import Amplitude, AmplitudeConfig
from headwater.connectors.base import Connector
from headwater.connectors.braze import Braze, BrazeConfig
from headwater.connectors.customerio import CustomerIo, CustomerIoConfig
from headwater.connectors.hubspot import HubSpot, HubSpotConfig
from headwater.connectors.intercom import Intercom, IntercomConfig
from headwater.connectors.mailchimp import Mailchimp, MailchimpConfig
from headwater.connectors.mixpanel import Mixpanel, MixpanelConfig
from headwater.connectors.segment import SegmentForward, SegmentForwardConfig
from headwater.connectors.slack import Slack, SlackConfig
from headwater.destinations.redact import Redactor
from headwater.privacy import model as privacy_model
from tests.destinations.connectors.conftest import TIMEOUT
from tests.destinations.sink import Recorded, Reply, Sink

PERSON = DeletionSubject(
    regulation_id="reg_42",
    user_ids=("user-1",),
    anonymous_ids=("anon-1", "anon-2"),
    emails=("Ada@Example.com",),
)
NOBODY = DeletionSubject(regulation_id="reg_0")
ANONYMOUS = DeletionSubject(regulation_id="reg_1", anonymous_ids=("anon-1",))
EMAIL_ONLY = DeletionSubject(regulation_id="reg_2", emails=("ada@example.com",))


async def shown(connector: Connector[Any], subject: DeletionSubject) -> SendResult:
    """``connector.delete(subject)`` masked as the delivery face returns it."""
    return Redactor.of(connector.config).result(await connector.delete(subject))


def basic(request: Recorded) -> tuple[str, str]:
    scheme, credentials = request.headers["authorization"].split(" ")
    assert scheme == "Basic"
    user, _, password = base64.b64decode(credentials).decode().partition(":")
    return user, password


def test_the_catalog_says_which_connectors_delete() -> None:
    deleting = {kind for kind, connector in load_all().items() if connector.deletes}
    assert deleting == {
        "amplitude",
        "braze",
        "customerio",
        "hubspot",
        "intercom",
        "mailchimp",
        "mixpanel",
        "postgres-warehouse",
        "segment",
    }


async def test_a_connector_without_deletion_answers_a_permanent_failure(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    config = SlackConfig.model_validate({"webhook_url": sink.url})
    result = await Slack(config, client).delete(PERSON)
    assert result.outcome is Outcome.FAILED
    assert result.error is not None
    assert "do not forward deletions" in result.error
    assert sink.requests == []


# -- Braze ------------------------------------------------------------------------------------

BRAZE_KEY = "braze-rest-key-00000000-1111"
BRAZE_KINDS = ("external_ids", "user_aliases", "braze_ids", "email_addresses", "phone_numbers")


def users_delete(request: Recorded) -> Reply:
    """Bearer key; JSON with exactly one kind of identifier, at most 50 of them."""
    assert (request.method, request.path) == ("POST", "/users/delete")
    assert request.headers["authorization"] == f"Bearer {BRAZE_KEY}"
    assert request.headers["content-type"] == "application/json"
    body = request.json()
    assert len(body) == 1, body
    assert next(iter(body)) in BRAZE_KINDS, body
    (items,) = body.values()
    assert 1 <= len(items) <= 50
    for alias in body.get("user_aliases", []):
        assert set(alias) == {"alias_name", "alias_label"}
    return Reply(201, {"deleted": len(items), "message": "success"})


def braze(sink: Sink, client: httpx.AsyncClient) -> Braze:
    return Braze(BrazeConfig(api_key=BRAZE_KEY, endpoint=sink.url), client)  # type: ignore[arg-type]


async def test_braze_deletes_by_each_kind_of_identifier_in_batches_of_50(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = users_delete
    many = DeletionSubject(
        regulation_id="reg_1",
        user_ids=tuple(f"user-{n}" for n in range(120)),
        anonymous_ids=("anon-1",),
        emails=("ada@example.com",),
    )
    result = await shown(braze(sink, client), many)
    assert result.outcome is Outcome.DELIVERED
    bodies = [request.json() for request in sink.requests]
    assert [len(b["external_ids"]) for b in bodies if "external_ids" in b] == [50, 50, 20]
    assert [b["external_ids"][0] for b in bodies[:3]] == ["user-0", "user-50", "user-100"]
    assert {"user_aliases": [{"alias_name": "anon-1", "alias_label": "anonymous_id"}]} in bodies
    assert {"email_addresses": ["ada@example.com"]} in bodies
    assert len(bodies) == 5
    assert result.exchange is not None
    assert BRAZE_KEY not in str(result.exchange)


async def test_braze_rate_limit_retries_and_bad_key_fails(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    reset = int(time.time()) + 30
    sink.handler = lambda _: Reply(429, {"message": "slow"}, {"X-RateLimit-Reset": str(reset)})
    limited = await braze(sink, client).delete(PERSON)
    assert limited.outcome is Outcome.RETRY
    assert limited.retry_after is not None
    assert limited.retry_after > 20
    sink.handler = lambda _: Reply(401, {"message": "Invalid API key"})
    assert (await braze(sink, client).delete(PERSON)).outcome is Outcome.FAILED


async def test_braze_without_identifiers_sends_nothing(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    result = await braze(sink, client).delete(NOBODY)
    assert result.outcome is Outcome.FAILED
    assert result.error is not None
    assert "none is known" in result.error
    assert sink.requests == []


# -- Amplitude --------------------------------------------------------------------------------

AMPLITUDE_KEY, AMPLITUDE_SECRET = "amp-api-key-123", "amp-secret-key-456"


def deletions_users(request: Recorded) -> Reply:
    """Basic auth api key:secret key; JSON user_ids (at most 100), requester, ignore flag."""
    assert (request.method, request.path) == ("POST", "/api/2/deletions/users")
    assert basic(request) == (AMPLITUDE_KEY, AMPLITUDE_SECRET)
    assert request.headers["content-type"] == "application/json"
    body = request.json()
    assert set(body) <= {"amplitude_ids", "user_ids", "requester", "ignore_invalid_ids"}
    assert 1 <= len(body["user_ids"]) <= 100
    assert isinstance(body["requester"], str)
    listed = [{"user_id": u, "requester": body["requester"]} for u in body["user_ids"]]
    return Reply(200, [{"day": "2026-12-20", "status": "staging", "amplitude_ids": listed}])


def amplitude(sink: Sink, client: httpx.AsyncClient, **options: object) -> Amplitude:
    config = AmplitudeConfig.model_validate(
        {"api_key": AMPLITUDE_KEY, "privacy_endpoint": sink.url, **options}
    )
    return Amplitude(config, client)


async def test_amplitude_schedules_the_user_ids_for_deletion(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = deletions_users
    many = DeletionSubject(
        regulation_id="reg_7", user_ids=tuple(f"user-{n}" for n in range(150)), emails=("a@x.io",)
    )
    result = await shown(amplitude(sink, client, secret_key=AMPLITUDE_SECRET), many)
    assert result.outcome is Outcome.DELIVERED
    bodies = [request.json() for request in sink.requests]
    assert [len(body["user_ids"]) for body in bodies] == [100, 50]
    assert bodies[0]["requester"] == "headwater regulation reg_7"
    assert bodies[0]["ignore_invalid_ids"] is True
    assert result.exchange is not None
    assert AMPLITUDE_SECRET not in str(result.exchange)


async def test_amplitude_needs_the_secret_key_and_a_user_id(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    unkeyed = await amplitude(sink, client).delete(PERSON)
    assert unkeyed.outcome is Outcome.FAILED
    assert unkeyed.error is not None
    assert "secret_key" in unkeyed.error
    anonymous = await amplitude(sink, client, secret_key=AMPLITUDE_SECRET).delete(ANONYMOUS)
    assert anonymous.outcome is Outcome.FAILED
    assert anonymous.error is not None
    assert "user id" in anonymous.error
    assert sink.requests == []


async def test_amplitude_errors(sink: Sink, impatient: httpx.AsyncClient) -> None:
    keyed = amplitude(sink, impatient, secret_key=AMPLITUDE_SECRET)
    sink.handler = lambda _: Reply(503, {"error": "unavailable"})
    assert (await keyed.delete(PERSON)).outcome is Outcome.RETRY
    sink.handler = lambda _: Reply(429, {"error": "throttled"})
    throttled = await keyed.delete(PERSON)
    assert (throttled.outcome, throttled.retry_after) == (Outcome.RETRY, 30.0)
    sink.handler = lambda _: Reply(400, {"error": "bad request"})
    assert (await keyed.delete(PERSON)).outcome is Outcome.FAILED
    sink.handler = lambda _: Reply(200, {}, delay=TIMEOUT * 3)
    assert (await keyed.delete(PERSON)).outcome is Outcome.RETRY


# -- Mixpanel ---------------------------------------------------------------------------------

TOKEN = "mixpanel-project-token-1"


def engage_delete(request: Recorded) -> Reply:
    """A JSON array of profile deletions, each with $token, $distinct_id and $delete."""
    assert (request.method, request.path) == ("POST", "/engage")
    assert request.query["verbose"] == ["1"]
    assert request.headers["content-type"] == "application/json"
    updates = request.json()
    assert 1 <= len(updates) <= 2000
    for update in updates:
        assert update["$token"] == TOKEN
        assert "$delete" in update
        assert update["$distinct_id"]
    return Reply(200, {"status": 1, "error": None})


def mixpanel(sink: Sink, client: httpx.AsyncClient) -> Mixpanel:
    config = MixpanelConfig.model_validate({"project_token": TOKEN, "endpoint": sink.url})
    return Mixpanel(config, client)


async def test_mixpanel_deletes_the_profile_of_every_distinct_id(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = engage_delete
    result = await shown(mixpanel(sink, client), PERSON)
    assert result.outcome is Outcome.DELIVERED
    (request,) = sink.requests
    assert [u["$distinct_id"] for u in request.json()] == ["user-1", "anon-1", "anon-2"]
    assert all(u["$delete"] is None and u["$ignore_alias"] is False for u in request.json())
    assert result.exchange is not None
    assert TOKEN not in str(result.exchange)


async def test_mixpanel_refusals_and_errors(sink: Sink, client: httpx.AsyncClient) -> None:
    only_email = await mixpanel(sink, client).delete(EMAIL_ONLY)
    assert only_email.outcome is Outcome.FAILED
    assert only_email.error is not None
    assert "distinct id" in only_email.error
    assert sink.requests == []
    sink.handler = lambda _: Reply(200, {"status": 0, "error": "token invalid"})
    refused = await mixpanel(sink, client).delete(PERSON)
    assert refused.outcome is Outcome.FAILED
    sink.handler = lambda _: Reply(500, {"error": "oops"})
    assert (await mixpanel(sink, client).delete(PERSON)).outcome is Outcome.RETRY


# -- Customer.io ------------------------------------------------------------------------------

SITE, CIO_KEY = "site-123", "cio-track-key-9"


def delete_customer(request: Recorded) -> Reply:
    """DELETE /api/v1/customers/{identifier}, Basic site id:API key, no body; {} answered."""
    assert request.method == "DELETE"
    assert request.path.startswith("/api/v1/customers/")
    assert basic(request) == (SITE, CIO_KEY)
    assert request.body == b""
    return Reply(200, {})


def customerio(sink: Sink, client: httpx.AsyncClient) -> CustomerIo:
    config = CustomerIoConfig.model_validate(
        {"site_id": SITE, "api_key": CIO_KEY, "endpoint": sink.url}
    )
    return CustomerIo(config, client)


async def test_customerio_deletes_each_user_id_and_email(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = delete_customer
    result = await shown(customerio(sink, client), PERSON)
    assert result.outcome is Outcome.DELIVERED
    assert [r.path for r in sink.requests] == [
        "/api/v1/customers/user-1",
        "/api/v1/customers/Ada%40Example.com",
    ]


async def test_customerio_refusals_and_errors(sink: Sink, client: httpx.AsyncClient) -> None:
    anonymous = await customerio(sink, client).delete(ANONYMOUS)
    assert anonymous.outcome is Outcome.FAILED
    assert sink.requests == []
    calls = iter([Reply(200, {}), Reply(502, "bad gateway")])
    sink.handler = lambda _: next(calls)
    assert (await customerio(sink, client).delete(PERSON)).outcome is Outcome.RETRY
    sink.handler = lambda _: Reply(401, {"meta": {"error": "unauthorized"}})
    unauthorized = await customerio(sink, client).delete(PERSON)
    assert unauthorized.outcome is Outcome.FAILED
    assert unauthorized.exchange is not None
    assert CIO_KEY not in str(unauthorized.exchange)


# -- Intercom ---------------------------------------------------------------------------------

INTERCOM_TOKEN = "intercom-access-token-1"


def intercom_api(request: Recorded) -> Reply:
    """Bearer token, Intercom-Version and Accept on every call; a search by external_id or
    email; DELETE /contacts/{id} answers the deleted contact, or 404 for an unknown one."""
    assert request.headers["authorization"] == f"Bearer {INTERCOM_TOKEN}"
    assert request.headers["intercom-version"] == "2.11"
    assert request.headers["accept"] == "application/json"
    if request.method == "POST":
        assert request.path == "/contacts/search"
        query = request.json()["query"]
        assert query["operator"] == "="
        assert query["field"] in ("external_id", "email")
        found = {
            "user-1": [{"type": "contact", "id": "c1"}],
            "Ada@Example.com": [{"type": "contact", "id": "c1"}, {"type": "contact", "id": "c2"}],
        }.get(query["value"], [])
        return Reply(200, {"type": "list", "data": found, "total_count": len(found)})
    assert request.method == "DELETE"
    contact = request.path.removeprefix("/contacts/")
    if contact == "c2":
        return Reply(404, {"type": "error.list", "errors": [{"code": "not_found"}]})
    return Reply(200, {"id": contact, "object": "contact", "deleted": True})


def intercom(sink: Sink, client: httpx.AsyncClient) -> Intercom:
    config = IntercomConfig.model_validate({"access_token": INTERCOM_TOKEN, "endpoint": sink.url})
    return Intercom(config, client)


async def test_intercom_deletes_every_contact_found_for_the_person(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = intercom_api
    result = await shown(intercom(sink, client), PERSON)
    assert result.outcome is Outcome.DELIVERED
    deletes = [r.path for r in sink.requests if r.method == "DELETE"]
    assert deletes == ["/contacts/c1", "/contacts/c2"]  # c1 found twice, deleted once


async def test_intercom_nobody_found_is_nothing_to_delete(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = intercom_api
    stranger = DeletionSubject(regulation_id="reg_3", user_ids=("someone-else",))
    assert (await intercom(sink, client).delete(stranger)).outcome is Outcome.DELIVERED
    assert [r.method for r in sink.requests] == ["POST"]


async def test_intercom_refusals_and_errors(sink: Sink, client: httpx.AsyncClient) -> None:
    assert (await intercom(sink, client).delete(ANONYMOUS)).outcome is Outcome.FAILED
    assert sink.requests == []
    sink.handler = lambda _: Reply(500, {"type": "error.list"})
    assert (await intercom(sink, client).delete(PERSON)).outcome is Outcome.RETRY
    sink.handler = lambda _: Reply(401, {"type": "error.list"})
    assert (await intercom(sink, client).delete(PERSON)).outcome is Outcome.FAILED


# -- HubSpot ----------------------------------------------------------------------------------

HUBSPOT_TOKEN = "pat-na1-0000-1111"


def gdpr_delete(request: Recorded) -> Reply:
    """POST with objectId and idProperty email, Bearer token; 204 without a body."""
    assert (request.method, request.path) == ("POST", "/crm/v3/objects/contacts/gdpr-delete")
    assert request.headers["authorization"] == f"Bearer {HUBSPOT_TOKEN}"
    assert request.headers["content-type"] == "application/json"
    body = request.json()
    assert set(body) == {"objectId", "idProperty"}
    assert body["idProperty"] == "email"
    return Reply(204, "")


def hubspot(sink: Sink, client: httpx.AsyncClient) -> HubSpot:
    return HubSpot(
        HubSpotConfig.model_validate({"access_token": HUBSPOT_TOKEN, "endpoint": sink.url}),
        client,
    )


async def test_hubspot_gdpr_deletes_each_email(sink: Sink, client: httpx.AsyncClient) -> None:
    sink.handler = gdpr_delete
    two = DeletionSubject(
        regulation_id="reg_4", user_ids=("u",), emails=("Ada@Example.com", "ada@example.com", "b@x")
    )
    result = await shown(hubspot(sink, client), two)
    assert result.outcome is Outcome.DELIVERED
    assert [r.json()["objectId"] for r in sink.requests] == ["ada@example.com", "b@x"]


async def test_hubspot_refusals_and_errors(sink: Sink, client: httpx.AsyncClient) -> None:
    no_email = await hubspot(sink, client).delete(ANONYMOUS)
    assert no_email.outcome is Outcome.FAILED
    assert no_email.error is not None
    assert "email" in no_email.error
    assert sink.requests == []
    sink.handler = lambda _: Reply(429, {"status": "error", "message": "rate limit"})
    limited = await hubspot(sink, client).delete(PERSON)
    assert (limited.outcome, limited.retry_after) == (Outcome.RETRY, 10.0)
    sink.handler = lambda _: Reply(403, {"status": "error", "category": "MISSING_SCOPES"})
    assert (await hubspot(sink, client).delete(PERSON)).outcome is Outcome.FAILED


# -- Mailchimp --------------------------------------------------------------------------------

MAILCHIMP_KEY = "0123456789abcdef0123456789abcdef-us6"
LIST = "a1b2c3d4e5"
ADA = hashlib.md5(b"ada@example.com").hexdigest()


def delete_permanent(request: Recorded) -> Reply:
    """POST .../members/{md5 of the lower-cased email}/actions/delete-permanent, Basic auth
    with the key as password, no body; 204."""
    assert request.method == "POST"
    assert request.path == f"/3.0/lists/{LIST}/members/{ADA}/actions/delete-permanent"
    assert basic(request)[1] == MAILCHIMP_KEY
    assert request.body == b""
    return Reply(204, "")


def mailchimp(sink: Sink, client: httpx.AsyncClient) -> Mailchimp:
    config = MailchimpConfig.model_validate(
        {"api_key": MAILCHIMP_KEY, "list_id": LIST, "endpoint": sink.url}
    )
    return Mailchimp(config, client)


async def test_mailchimp_permanently_deletes_the_member(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = delete_permanent
    result = await shown(mailchimp(sink, client), PERSON)
    assert result.outcome is Outcome.DELIVERED
    assert len(sink.requests) == 1
    assert result.exchange is not None
    assert MAILCHIMP_KEY not in str(result.exchange)


async def test_mailchimp_needs_an_email(sink: Sink, client: httpx.AsyncClient) -> None:
    result = await mailchimp(sink, client).delete(ANONYMOUS)
    assert result.outcome is Outcome.FAILED
    assert result.error is not None
    assert "email" in result.error
    assert sink.requests == []


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (404, Outcome.DELIVERED),  # no such member: nothing held
        (400, Outcome.FAILED),
        (401, Outcome.FAILED),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
    ],
)
async def test_mailchimp_answers(
    sink: Sink, client: httpx.AsyncClient, status: int, outcome: Outcome
) -> None:
    problem = {"type": "about:blank", "title": "Problem", "status": status, "detail": "x"}
    sink.handler = lambda _: Reply(status, problem, {"Content-Type": "application/problem+json"})
    assert (await mailchimp(sink, client).delete(PERSON)).outcome is outcome


# -- Segment ----------------------------------------------------------------------------------

SEGMENT_TOKEN = "sgp_public-api-token-0123456789"
REGULATION_TYPES = set(privacy_model.REGULATION_TYPES) - {"DELETE_ARCHIVE_ONLY"}
"""The types Segment's workspace regulations take (its list, kept by Headwater's own API)."""


def create_regulation(request: Recorded) -> Reply:
    """Bearer Public API token; JSON regulationType, subjectType and 1 to 5,000 subjectIds; a
    workspace regulation names user ids only, a source's user or anonymous ids."""
    assert request.method == "POST"
    assert request.path in ("/regulations", "/regulations/sources/src_9")
    assert request.headers["authorization"] == f"Bearer {SEGMENT_TOKEN}"
    assert request.headers["content-type"] == "application/json"
    body = request.json()
    assert set(body) == {"regulationType", "subjectType", "subjectIds"}
    assert body["regulationType"] in REGULATION_TYPES
    allowed = {"USER_ID", "ANONYMOUS_ID"} if "/sources/" in request.path else {"USER_ID"}
    assert body["subjectType"] in allowed
    assert 1 <= len(body["subjectIds"]) <= 5_000
    assert all(isinstance(each, str) and each for each in body["subjectIds"])
    return Reply(200, {"data": {"regulateId": f"reg-{len(body['subjectIds'])}"}})


def segment(sink: Sink, client: httpx.AsyncClient, **options: object) -> SegmentForward:
    config = SegmentForwardConfig.model_validate(
        {"write_key": "wk", "endpoint": sink.url, "public_api_endpoint": sink.url, **options}
    )
    return SegmentForward(config, client)


async def test_segment_creates_a_workspace_regulation_for_the_user_ids(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = create_regulation
    many = DeletionSubject(
        regulation_id="reg_5",
        user_ids=tuple(f"user-{n}" for n in range(5_001)),
        anonymous_ids=("anon-1",),
    )
    result = await shown(segment(sink, client, public_api_token=SEGMENT_TOKEN), many)
    assert result.outcome is Outcome.DELIVERED
    bodies = [request.json() for request in sink.requests]
    assert [(b["regulationType"], b["subjectType"]) for b in bodies] == [
        ("DELETE_ONLY", "USER_ID"),
        ("DELETE_ONLY", "USER_ID"),
    ]
    assert [len(b["subjectIds"]) for b in bodies] == [5_000, 1]
    assert bodies[1]["subjectIds"] == ["user-5000"]
    assert result.exchange is not None
    assert SEGMENT_TOKEN not in str(result.exchange)


async def test_segment_source_regulation_deletes_anonymous_ids_too(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    sink.handler = create_regulation
    connector = segment(sink, client, public_api_token=SEGMENT_TOKEN, regulation_source_id="src_9")
    assert (await connector.delete(PERSON)).outcome is Outcome.DELIVERED
    assert [(r.path, r.json()["subjectType"], r.json()["subjectIds"]) for r in sink.requests] == [
        ("/regulations/sources/src_9", "USER_ID", ["user-1"]),
        ("/regulations/sources/src_9", "ANONYMOUS_ID", ["anon-1", "anon-2"]),
    ]
    sink.requests.clear()
    assert (await connector.delete(ANONYMOUS)).outcome is Outcome.DELIVERED
    assert [r.json()["subjectType"] for r in sink.requests] == ["ANONYMOUS_ID"]


async def test_segment_needs_a_token_and_an_id_it_can_name(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    untokened = await segment(sink, client).delete(PERSON)
    assert untokened.outcome is Outcome.FAILED
    assert untokened.error is not None
    assert "public_api_token" in untokened.error
    workspace = segment(sink, client, public_api_token=SEGMENT_TOKEN)
    anonymous = await workspace.delete(ANONYMOUS)
    assert anonymous.outcome is Outcome.FAILED
    assert anonymous.error is not None
    assert "regulation_source_id" in anonymous.error
    assert (await workspace.delete(EMAIL_ONLY)).outcome is Outcome.FAILED
    assert sink.requests == []
    with pytest.raises(pydantic.ValidationError) as refused:
        segment(sink, client, regulation_source_id="../sources")
    assert [error["loc"] for error in refused.value.errors()] == [("regulation_source_id",)]


async def test_segment_errors(sink: Sink, client: httpx.AsyncClient) -> None:
    keyed = segment(sink, client, public_api_token=SEGMENT_TOKEN)
    sink.handler = lambda _: Reply(429, {"errors": [{"message": "rate limited"}]})
    assert (await keyed.delete(PERSON)).outcome is Outcome.RETRY
    sink.handler = lambda _: Reply(503, {"errors": []})
    assert (await keyed.delete(PERSON)).outcome is Outcome.RETRY
    sink.handler = lambda _: Reply(401, {"errors": [{"message": "unauthorized"}]})
    denied = await shown(keyed, PERSON)
    assert denied.outcome is Outcome.FAILED
    assert SEGMENT_TOKEN not in str(denied.exchange)
