"""What the debugger may keep of a request (pure): headers and query parameters that carry
credentials or signatures are replaced by ``[redacted]``; the body is cut to a size.

>>> redacted_headers({"authorization": "Bearer x", "x-topic": "a"}, signature_header=None)
{'authorization': '[redacted]', 'x-topic': 'a'}
"""

from __future__ import annotations

__all__ = ["BODY_KEPT", "REDACTED", "kept_body", "redacted_headers", "redacted_query"]

REDACTED = "[redacted]"
BODY_KEPT = 64 * 1024
_SENSITIVE = ("authorization", "cookie", "signature", "token", "secret", "password", "api-key")
_SENSITIVE_QUERY = ("token", "secret", "signature", "password", "key", "sig")


def _sensitive(name: str, words: tuple[str, ...]) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in words)


def redacted_headers(headers: dict[str, str], *, signature_header: str | None) -> dict[str, str]:
    """``headers`` with every credential or signature header (and ``signature_header``)
    redacted."""
    signature = (signature_header or "").lower()
    return {
        name: REDACTED if name == signature or _sensitive(name, _SENSITIVE) else value
        for name, value in headers.items()
    }


def redacted_query(query: dict[str, str]) -> dict[str, str]:
    return {
        name: REDACTED if _sensitive(name, _SENSITIVE_QUERY) else value
        for name, value in query.items()
    }


def kept_body(body: bytes) -> str:
    """The body as text, cut to :data:`BODY_KEPT` bytes (a note says how much was cut)."""
    text = body[:BODY_KEPT].decode("utf-8", "replace").replace("\x00", "\ufffd")
    if len(body) > BODY_KEPT:
        text += f"\n… ({len(body) - BODY_KEPT} more bytes not kept)"
    return text
