"""Each authentication a webhook source accepts: what passes and what is refused, with why."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from headwater.hooks.model import BasicAuth, BearerAuth, EcdsaAuth, HmacAuth, NoAuth
from headwater.hooks.request import HookRequest
from headwater.hooks.signatures import AuthFailure, verify

BODY = b'{"id":"evt_1","type":"invoice.paid"}'


def _request(headers: dict[str, str], body: bytes = BODY, **fields: str) -> HookRequest:
    return HookRequest(
        method=fields.get("method", "POST"),
        url=fields.get("url", "https://h.example/v1/hooks/k"),
        body=body,
        headers={k.lower(): v for k, v in headers.items()},
    )


def _mac(secret: str, data: bytes, algorithm: str = "sha256") -> bytes:
    return hmac.new(secret.encode(), data, getattr(hashlib, algorithm)).digest()


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_hmac_of_the_body_in_each_algorithm_and_encoding(algorithm: str, encoding: str) -> None:
    digest = _mac("s3cret", BODY, algorithm)
    shown = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()
    auth = HmacAuth.model_validate(
        {
            "type": "hmac",
            "secret": "s3cret",
            "header": "X-Sig",
            "algorithm": algorithm,
            "encoding": encoding,
            "prefix": "sha=",
        }
    )
    verify(auth, _request({"X-Sig": "sha=" + shown}), now=0)
    with pytest.raises(AuthFailure, match="does not match"):
        verify(auth, _request({"X-Sig": "sha=" + shown}, body=BODY + b" "), now=0)
    with pytest.raises(AuthFailure, match="does not match"):
        verify(auth, _request({"X-Sig": shown}), now=0)  # the prefix is part of it
    with pytest.raises(AuthFailure, match="the X-Sig header is missing"):
        verify(auth, _request({}), now=0)


def _stripe_like(tolerance: int = 300) -> HmacAuth:
    return HmacAuth(
        type="hmac",
        secret="whsec_test",
        header="Stripe-Signature",
        signature_key="v1",
        timestamp_key="t",
        signed="{timestamp}.{body}",
        tolerance_seconds=tolerance,
    )


def test_a_timestamped_signature_list_checks_every_v1_and_the_age() -> None:
    good = _mac("whsec_test", b"1700000000." + BODY).hex()
    header = f"t=1700000000,v1={'0' * 64},v1={good},v0=ignored"
    verify(_stripe_like(), _request({"Stripe-Signature": header}), now=1_700_000_100)
    with pytest.raises(AuthFailure, match="more than 300 seconds"):
        verify(_stripe_like(), _request({"Stripe-Signature": header}), now=1_700_000_301)
    with pytest.raises(AuthFailure, match="has no t= part"):
        verify(_stripe_like(), _request({"Stripe-Signature": f"v1={good}"}), now=1_700_000_000)
    replayed = f"t=1700000001,v1={good}"  # a new timestamp on an old signature
    with pytest.raises(AuthFailure, match="does not match"):
        verify(_stripe_like(), _request({"Stripe-Signature": replayed}), now=1_700_000_001)


def test_a_timestamp_header_in_milliseconds_over_method_url_body() -> None:
    auth = HmacAuth(
        type="hmac",
        secret="app-secret",
        header="X-Sig",
        encoding="base64",
        signed="{method}{url}{body}{timestamp}",
        timestamp_header="X-Ts",
        timestamp_format="unix_ms",
    )
    url = "https://h.example/v1/hooks/k?x=1"
    signed = b"POST" + url.encode() + BODY + b"1700000000000"
    sig = base64.b64encode(_mac("app-secret", signed)).decode()
    request = _request({"X-Sig": sig, "X-Ts": "1700000000000"}, url=url)
    verify(auth, request, now=1_700_000_000)
    moved = _request({"X-Sig": sig, "X-Ts": "1700000000000"}, url=url + "&y=2")
    with pytest.raises(AuthFailure, match="does not match"):
        verify(auth, moved, now=1_700_000_000)


def test_a_secret_never_appears_in_the_reason() -> None:
    with pytest.raises(AuthFailure) as raised:
        verify(_stripe_like(), _request({"Stripe-Signature": "t=1,v1=ab"}), now=1)
    assert "whsec_test" not in str(raised.value)


def test_a_source_without_its_secret_refuses_everything() -> None:
    auth = HmacAuth(type="hmac", header="X-Sig")
    with pytest.raises(AuthFailure, match="no signing secret"):
        verify(auth, _request({"X-Sig": "x"}), now=0)


def test_bearer_tokens() -> None:
    auth = BearerAuth(type="bearer", token="tok-1")
    verify(auth, _request({"Authorization": "Bearer tok-1"}), now=0)
    for header in ("Bearer tok-2", "Basic tok-1", "tok-1"):
        with pytest.raises(AuthFailure):
            verify(auth, _request({"Authorization": header}), now=0)
    custom = BearerAuth(type="bearer", token="tok-1", header="X-Api-Token")
    verify(custom, _request({"X-Api-Token": "tok-1"}), now=0)


def test_basic_credentials() -> None:
    auth = BasicAuth(type="basic", username="hook", password="pw")

    def basic(text: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(text.encode()).decode()}

    verify(auth, _request(basic("hook:pw")), now=0)
    for wrong in ("hook:no", "other:pw", "hook:"):
        with pytest.raises(AuthFailure, match="user name or password is wrong"):
            verify(auth, _request(basic(wrong)), now=0)
    with pytest.raises(AuthFailure, match="not base64"):
        verify(auth, _request({"Authorization": "Basic %%%"}), now=0)


def test_none_lets_every_request_through() -> None:
    verify(NoAuth(type="none"), _request({}), now=0)


def test_sendgrid_published_ecdsa_example_verifies() -> None:
    """SendGrid's own example from its libraries' tests (public key, signature, timestamp and
    payload): the signature covers the timestamp followed by the raw body."""
    auth = EcdsaAuth(
        type="ecdsa",
        public_key="MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcw"
        "HBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==",
        header="X-Twilio-Email-Event-Webhook-Signature",
        timestamp_header="X-Twilio-Email-Event-Webhook-Timestamp",
    )
    body = b'{"category":"example_payload","event":"test_event","message_id":"message_id"}'
    headers = {
        "X-Twilio-Email-Event-Webhook-Signature": "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7R"
        "AwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=",
        "X-Twilio-Email-Event-Webhook-Timestamp": "1588788367",
    }
    verify(auth, _request(headers, body=body), now=1_588_788_367)
    with pytest.raises(AuthFailure, match="does not match"):
        verify(
            auth,
            _request(headers, body=body.replace(b"test_event", b"test_evenT")),
            now=1_588_788_367,
        )
    with pytest.raises(AuthFailure, match="seconds away"):
        verify(auth, _request(headers, body=body), now=1_588_788_367 + 301)
    broken = auth.model_copy(update={"public_key": "bm90IGEga2V5"})
    with pytest.raises(AuthFailure, match="not a valid key"):
        verify(broken, _request(headers, body=body), now=1_588_788_367)


def test_twilio_published_example_verifies() -> None:
    """Twilio's documented example: the URL, then each form parameter sorted by name, name
    then value, HMAC-SHA1 with the auth token, base64."""
    auth = HmacAuth(
        type="hmac",
        secret="12345",
        header="X-Twilio-Signature",
        algorithm="sha1",
        encoding="base64",
        signed="{url}{form_sorted}",
    )
    body = (
        b"CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234"
        b"&From=%2B12349013030&To=%2B18005551212"
    )
    request = HookRequest(
        method="POST",
        url="https://mycompany.com/myapp.php?foo=1&bar=2",
        body=body,
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
        },
    )
    verify(auth, request, now=0)
    tampered = HookRequest(
        method="POST",
        url=request.url,
        body=body.replace(b"1234&", b"1235&"),
        headers=request.headers,
    )
    with pytest.raises(AuthFailure):
        verify(auth, tampered, now=0)
