"""Each authentication a webhook source accepts: what passes and what is refused, with why."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, urlsplit

import pytest

from headwater.hooks.model import BasicAuth, BearerAuth, EcdsaAuth, HmacAuth, NoAuth
from headwater.hooks.presets import PRESETS
from headwater.hooks.request import HookRequest
from headwater.hooks.signatures import AuthFailure, verify
from tests.hooks.senders import SENDERS, Signed, hubspot_uri, twilio_json

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


def _preset_auth(name: str, secret: str) -> HmacAuth:
    return HmacAuth.model_validate({**PRESETS[name].config["auth"], "secret": secret})


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def test_hubspot_v3_signs_the_uri_with_its_listed_escapes_decoded() -> None:
    """HubSpot decodes ``%3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B`` in the URI before
    signing, and leaves the other escapes (a space, ``+``, ``=``) as sent."""
    auth = _preset_auth("hubspot", "client-secret")
    url = (
        "https://h.example/v1/hooks/k?next=https%3A%2F%2Fa.example%2Fp%3Fx%3D1"
        "&who=O%27Brien%20%28QA%29&tags=a%2Cb%3Bc%2A&at=%40me%21%24&plus=1%2B1"
    )
    now = 1_700_000_000
    signed = SENDERS["hubspot"]("client-secret", url, now)
    assert "next=https://a.example/p?x%3D1" in hubspot_uri(url)

    def request(signed_headers: dict[str, str], at: str = url) -> HookRequest:
        return HookRequest(
            method="POST",
            url=at,
            body=signed.body,
            headers={k.lower(): v for k, v in signed_headers.items()},
            query=_query(at),
        )

    verify(auth, request(signed.headers), now=now)
    # Signed over the URI as sent (nothing decoded): not what HubSpot sends, refused.
    timestamp = signed.headers["X-HubSpot-Request-Timestamp"]
    raw = base64.b64encode(
        _mac("client-secret", b"POST" + url.encode() + signed.body + timestamp.encode())
    ).decode()
    with pytest.raises(AuthFailure, match="does not match"):
        verify(auth, request({**signed.headers, "X-HubSpot-Signature-v3": raw}), now=now)
    # An escape HubSpot keeps (%2B, a plus) is not decoded: the decoded URL is another URL.
    with pytest.raises(AuthFailure, match="does not match"):
        verify(auth, request(signed.headers, url.replace("1%2B1", "1+1")), now=now)


def test_hubspot_v3_refuses_a_timestamp_older_than_five_minutes() -> None:
    auth = _preset_auth("hubspot", "client-secret")
    url = "https://h.example/v1/hooks/k?a=%3A"
    signed = SENDERS["hubspot"]("client-secret", url, 1_700_000_000)
    request = HookRequest(
        method="POST",
        url=url,
        body=signed.body,
        headers={k.lower(): v for k, v in signed.headers.items()},
        query=_query(url),
    )
    verify(auth, request, now=1_700_000_000 + 300)
    with pytest.raises(AuthFailure, match="more than 300 seconds"):
        verify(auth, request, now=1_700_000_000 + 301)


def _twilio_request(url: str, signed: Signed) -> HookRequest:
    return HookRequest(
        method="POST",
        url=url,
        body=signed.body,
        headers={k.lower(): v for k, v in signed.headers.items()},
        query=_query(url),
    )


def test_twilio_form_body_with_the_preset_and_a_tampered_one() -> None:
    auth = _preset_auth("twilio", "auth-token")
    url = "https://h.example/v1/hooks/k?foo=1"
    signed = SENDERS["twilio"]("auth-token", url, 0)
    verify(auth, _twilio_request(url, signed), now=0)
    tampered = Signed(
        signed.body.replace(b"Hello", b"Hullo"), {}, "application/x-www-form-urlencoded"
    )
    tampered.headers = signed.headers
    with pytest.raises(AuthFailure, match="does not match"):
        verify(auth, _twilio_request(url, tampered), now=0)


def test_twilio_json_body_is_checked_against_the_signed_body_sha256() -> None:
    """For a JSON body Twilio signs the URL carrying ``bodySHA256``; the body must hash to it."""
    auth = _preset_auth("twilio", "auth-token")
    called, signed = twilio_json("auth-token", "https://h.example/v1/hooks/k?foo=1", 0)
    verify(auth, _twilio_request(called, signed), now=0)

    tampered = Signed(signed.body.replace(b"delivered", b"failed"), {}, "application/json")
    tampered.headers = signed.headers
    with pytest.raises(AuthFailure, match="does not match the URL's bodySHA256"):
        verify(auth, _twilio_request(called, tampered), now=0)
    # The hash swapped for the tampered body's: the URL no longer matches its signature.
    rehashed = called.split("bodySHA256=")[0] + "bodySHA256="
    rehashed += hashlib.sha256(tampered.body).hexdigest()
    with pytest.raises(AuthFailure, match="does not match"):
        verify(auth, _twilio_request(rehashed, tampered), now=0)
    # A JSON body on a URL without the hash, signed all the same: the body is unsigned.
    bare = "https://h.example/v1/hooks/k?foo=1"
    unsigned = Signed(signed.body, {}, "application/json")
    unsigned.headers = {
        **signed.headers,
        "X-Twilio-Signature": base64.b64encode(_mac("auth-token", bare.encode(), "sha1")).decode(),
    }
    with pytest.raises(AuthFailure, match="no bodySHA256 parameter"):
        verify(auth, _twilio_request(bare, unsigned), now=0)
