"""Who sent a webhook request: each authentication a webhook source accepts, checked (pure).

``verify(auth, request, now=...)`` returns when the request is authentic and raises
:class:`AuthFailure` with the reason otherwise. Secrets arrive already decrypted; comparisons
are constant-time. The reason names what was wrong (no header, bad signature, stale
timestamp) and never a secret or the expected signature.

>>> import hashlib, hmac
>>> auth = HmacAuth(type="hmac", secret="s", header="x-sig")
>>> body = b'{"a":1}'
>>> sig = hmac.new(b"s", body, hashlib.sha256).hexdigest()
>>> verify(auth, HookRequest(method="POST", url="u", body=body, headers={"x-sig": sig}), now=0)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from typing import Any
from urllib.parse import unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from headwater.hooks.model import BasicAuth, BearerAuth, EcdsaAuth, HmacAuth, NoAuth
from headwater.hooks.request import HookRequest, form_params

__all__ = ["AuthFailure", "signed_text", "url_decoded", "verify"]

_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
_URL_DECODED = re.compile("%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)", re.IGNORECASE)


class AuthFailure(ValueError):
    """The request is not authentic; the message says why, in words safe to show."""


def verify(
    auth: NoAuth | BearerAuth | BasicAuth | HmacAuth | EcdsaAuth,
    request: HookRequest,
    *,
    now: float,
) -> None:
    """Return if ``request`` passes ``auth`` at ``now`` (unix seconds), else raise."""
    match auth:
        case NoAuth():
            return
        case BearerAuth():
            _bearer(auth, request)
        case BasicAuth():
            _basic(auth, request)
        case HmacAuth():
            _hmac(auth, request, now)
        case EcdsaAuth():
            _ecdsa(auth, request, now)


def _header(request: HookRequest, name: str) -> str:
    value = request.headers.get(name.lower())
    if not value:
        raise AuthFailure(f"the {name} header is missing")
    return value


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _bearer(auth: BearerAuth, request: HookRequest) -> None:
    given = _header(request, auth.header).strip()
    if auth.header.lower() == "authorization":
        scheme, _, given = given.partition(" ")
        if scheme.lower() != "bearer":
            raise AuthFailure("the Authorization header is not a Bearer token")
    if not auth.token or not _same(given.strip(), auth.token):
        raise AuthFailure("the token is wrong")


def _basic(auth: BasicAuth, request: HookRequest) -> None:
    scheme, _, encoded = _header(request, "authorization").partition(" ")
    if scheme.lower() != "basic":
        raise AuthFailure("the Authorization header is not Basic credentials")
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthFailure("the Basic credentials are not base64") from None
    right_user = _same(user, auth.username)
    right_password = _same(password, auth.password or "")
    if not (right_user and right_password) or not auth.password:
        raise AuthFailure("the user name or password is wrong")


def _pairs(header: str) -> dict[str, list[str]]:
    """``t=1,v1=abc,v1=def`` as ``{"t": ["1"], "v1": ["abc", "def"]}``."""
    found: dict[str, list[str]] = {}
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def url_decoded(url: str) -> str:
    """``url`` with the escapes of ``: / ? @ ! $ ' ( ) * , ;`` decoded and every other escape
    kept, as HubSpot's v3 signature covers the URL.

    >>> url_decoded("https://h.example/k?next=https%3A%2F%2Fa.example%2Fb&q=a%20b%2Bc")
    'https://h.example/k?next=https://a.example/b&q=a%20b%2Bc'
    """
    return _URL_DECODED.sub(lambda match: unquote(match.group(0)), url)


def signed_text(template: str, request: HookRequest, timestamp: str | None) -> bytes:
    """The bytes ``template`` names: ``{body}`` (the raw body), ``{timestamp}``, ``{method}``,
    ``{url}``, ``{url_decoded}`` (the URL as :func:`url_decoded` gives it), ``{form_sorted}``
    (the form's parameters sorted by name, each name followed by its value, as Twilio signs
    them)."""
    parts: dict[str, bytes] = {
        "{body}": request.body,
        "{timestamp}": (timestamp or "").encode(),
        "{method}": request.method.upper().encode(),
        "{url_decoded}": url_decoded(request.url).encode(),
        "{url}": request.url.encode(),
        "{form_sorted}": "".join(k + v for k, v in sorted(form_params(request))).encode(),
    }
    out = b""
    rest = template
    while rest:
        cut = min(
            ((rest.find(name), name) for name in parts if name in rest),
            default=(-1, ""),
        )
        if cut[0] < 0:
            out += rest.encode()
            break
        out += rest[: cut[0]].encode() + parts[cut[1]]
        rest = rest[cut[0] + len(cut[1]) :]
    return out


def _fresh(timestamp: str, unit_ms: bool, tolerance: int, now: float) -> None:
    try:
        value = float(timestamp)
    except ValueError:
        raise AuthFailure("the signature timestamp is not a number") from None
    seconds = value / 1000 if unit_ms else value
    if abs(now - seconds) > tolerance:
        raise AuthFailure(f"the signature timestamp is more than {tolerance} seconds away from now")


def _hmac(auth: HmacAuth, request: HookRequest, now: float) -> None:
    header = _header(request, auth.header)
    timestamp: str | None = None
    if auth.signature_key is not None:
        pairs = _pairs(header)
        candidates = pairs.get(auth.signature_key, [])
        if auth.timestamp_key is not None:
            found = pairs.get(auth.timestamp_key)
            if not found:
                raise AuthFailure(f"the {auth.header} header has no {auth.timestamp_key}= part")
            timestamp = found[0]
    else:
        candidates = [header.strip()]
    if auth.timestamp_header is not None:
        timestamp = _header(request, auth.timestamp_header)
    if timestamp is not None:
        _fresh(timestamp, auth.timestamp_format == "unix_ms", auth.tolerance_seconds, now)
    if not auth.secret:
        raise AuthFailure("the source has no signing secret set")
    digest = hmac.new(
        auth.secret.encode(),
        signed_text(auth.signed, request, timestamp),
        _ALGORITHMS[auth.algorithm],
    ).digest()
    encoded = digest.hex() if auth.encoding == "hex" else base64.b64encode(digest).decode()
    expected = auth.prefix + encoded
    if not any(_same(c, expected) for c in candidates):
        raise AuthFailure(f"the signature in {auth.header} does not match")
    if auth.body_hash_param is not None:
        _body_hash(auth.body_hash_param, request)


def _body_hash(param: str, request: HookRequest) -> None:
    """The body's hex SHA-256 must be the signed URL's ``param``; required unless the body is
    a form (whose parameters the signature covers)."""
    given = request.query.get(param)
    if given is None:
        if request.content_type == "application/x-www-form-urlencoded":
            return
        raise AuthFailure(f"the URL has no {param} parameter for the body")
    if not _same(given.lower(), hashlib.sha256(request.body).hexdigest()):
        raise AuthFailure(f"the body does not match the URL's {param}")


def _public_key(text: str) -> Any:
    try:
        if "BEGIN PUBLIC KEY" in text:
            return serialization.load_pem_public_key(text.encode())
        return serialization.load_der_public_key(base64.b64decode(text))
    except (ValueError, binascii.Error):
        raise AuthFailure("the source's public key is not a valid key") from None


def _ecdsa(auth: EcdsaAuth, request: HookRequest, now: float) -> None:
    signature = _header(request, auth.header)
    timestamp = _header(request, auth.timestamp_header) if auth.timestamp_header else None
    if timestamp is not None:
        _fresh(timestamp, False, auth.tolerance_seconds, now)
    if not auth.public_key:
        raise AuthFailure("the source has no public key set")
    key = _public_key(auth.public_key)
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise AuthFailure("the source's public key is not an elliptic-curve key")
    try:
        key.verify(
            base64.b64decode(signature),
            signed_text(auth.signed, request, timestamp),
            ec.ECDSA(hashes.SHA256()),
        )
    except (InvalidSignature, binascii.Error, ValueError):
        raise AuthFailure(f"the signature in {auth.header} does not match") from None
