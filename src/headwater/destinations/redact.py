"""Redaction by structure: a destination's secrets masked wherever its deliveries surface.

What is secret is read from the connector's typed config, never guessed from text:

- a field typed ``pydantic.SecretStr`` (or ``dict[str, SecretStr]``) is secret as a whole;
- in any config value that is a URL (``scheme://...``, secret or not), the user info and
  every query value are secret (a token in a webhook URL's query string, a database password);
- in a secret URL (Slack's webhook URL), the path segments that look like tokens too (six
  characters or more with a digit, or sixteen or more), so that the URL stays masked when a
  client rewrites it (a lower-cased host, a dropped default port).

A :class:`Redactor` replaces each secret with ``****`` in every spelling it can take on its way
out: as typed, in any letter case, percent-encoded (either hex case, ``+`` for spaces),
JSON-escaped, escaped the way Python shows strings and bytes (how a refused header is quoted
in an HTTP client's error), and without surrounding whitespace. A URL is also masked by
structure: its user info and every query value, whatever they hold. Secrets derived from URL
parts are masked in free text only from six characters on (a query value ``v=2`` is masked in
URLs, not in every body that contains a ``2``).

>>> from pydantic import BaseModel, SecretStr
>>> class Config(BaseModel):
...     url: str
...     key: SecretStr
>>> redactor = Redactor.of(Config(url="https://x.io/hook?token=abcdef12", key="s3cret"))
>>> redactor.text("refused b'S3CRET' for https://X.IO/hook?token=abcdef12")
"refused b'****' for https://X.IO/hook?token=****"
>>> mask_url("postgresql://app:pw@db:5432/prod?sslmode=require")
'postgresql://****@db:5432/prod?sslmode=****'
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit, urlunsplit

import msgspec
import pydantic

from headwater.connectors import Exchange, SendResult

__all__ = ["MASK", "Redactor", "mask_url"]

MASK = "****"
_DERIVED_MIN = 6
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_CREDENTIAL_HEADER = re.compile(
    r"^(proxy-)?authorization$|^(set-)?cookie$|token|secret|password|api-?key", re.IGNORECASE
)


def mask_url(url: str) -> str:
    """``url`` with its user info and every query value masked (the rest as it was)."""
    if not _URL.match(url):
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
    query = "&".join(
        f"{item.split('=', 1)[0]}={MASK}" if "=" in item else MASK
        for item in parts.query.split("&")
        if item
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


class Redactor:
    """Masks one destination's secrets (see the module docstring); stateless once built."""

    def __init__(self, secrets: Iterable[str], derived: Iterable[str] = ()) -> None:
        found = {s for s in secrets if s} | {d for d in derived if len(d) >= _DERIVED_MIN}
        spellings = {form for secret in found for form in _spellings(secret) if form}
        ordered = sorted(spellings, key=len, reverse=True)  # the longest spelling wins
        self._pattern = (
            re.compile("|".join(re.escape(s) for s in ordered), re.IGNORECASE) if ordered else None
        )

    @classmethod
    def of(cls, config: pydantic.BaseModel) -> Redactor:
        """The redactor for a connector's typed ``config`` (secrets in clear)."""
        secrets: list[str] = []
        derived: list[str] = []
        for name in type(config).model_fields:
            for value, secret in _values(getattr(config, name)):
                if secret:
                    secrets.append(value)
                if _URL.match(value):
                    derived.extend(_url_parts(value, secret=secret))
        return cls(secrets, derived)

    def text(self, value: str) -> str:
        """``value`` with every spelling of every secret masked."""
        return value if self._pattern is None else self._pattern.sub(MASK, value)

    def url(self, value: str) -> str:
        """A URL masked by structure (user info, query values), then as text."""
        return self.text(mask_url(value))

    def exchange(self, exchange: Exchange) -> Exchange:
        return Exchange(
            method=exchange.method,
            url=self.url(exchange.url),
            request_headers=self.headers(exchange.request_headers),
            request_body=self.text(exchange.request_body),
            status=exchange.status,
            response_headers=self.headers(exchange.response_headers),
            response_body=self.text(exchange.response_body),
            error=None if exchange.error is None else self.text(exchange.error),
        )

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Credential headers (by name) masked whole; the others as text."""
        return {
            name: MASK if _CREDENTIAL_HEADER.search(name) else self.text(value)
            for name, value in headers.items()
        }

    def result(self, result: SendResult) -> SendResult:
        """``result`` as it may be stored, shown and logged."""
        return SendResult(
            outcome=result.outcome,
            exchange=None if result.exchange is None else self.exchange(result.exchange),
            retry_after=result.retry_after,
            error=None if result.error is None else self.text(result.error),
            failed={index: self.text(reason) for index, reason in result.failed.items()},
        )

    def stored(self, value: Any) -> Any:
        """A value read back from the database (an error record's JSON), masked throughout:
        records written before a secret was known to be one are masked when shown."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {key: self.stored(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.stored(item) for item in value]
        return value

    def failure(self, error: BaseException) -> str:
        """``error`` with its traceback, masked, for a log line."""
        return self.text("".join(traceback.format_exception(error)))


def _values(value: Any) -> Iterator[tuple[str, bool]]:
    """The strings in one config value, each with whether the config types it secret."""
    if isinstance(value, pydantic.SecretStr):
        yield value.get_secret_value(), True
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _values(item)
    elif isinstance(value, str | pydantic.AnyUrl):
        yield str(value), False


def _url_parts(url: str, *, secret: bool) -> list[str]:
    try:
        parts = urlsplit(url)
        found = [parts.username or "", parts.password or ""]
    except ValueError:
        return []
    found += [value for _, value in parse_qsl(parts.query, keep_blank_values=True)]
    if secret:
        found += [unquote(s) for s in parts.path.split("/") if _looks_like_token(unquote(s))]
    return found


def _looks_like_token(segment: str) -> bool:
    return len(segment) >= 16 or (
        len(segment) >= _DERIVED_MIN and any(c.isdigit() for c in segment)
    )


def _spellings(secret: str) -> set[str]:
    forms = {secret, secret.strip()}
    for form in list(forms):
        forms |= {
            quote(form, safe=""),
            quote(form),
            quote_plus(form),
            msgspec.json.encode(form).decode()[1:-1],
            repr(form)[1:-1],
            repr(form.encode())[2:-1],
        }
    return forms
