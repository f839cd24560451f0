"""Secrets out of the audit trail: a JSON value with every secret-like field's value replaced.

A field is secret by its name, whatever its letter case and separators (``api_key``,
``apiKey``, ``API-Key`` are one name): a password, a token, a secret, a key that opens
something (API, write, private, access, signing key), an authorization header, a credential.
A string value is secret by its form when it holds one of Headwater's own secrets (an API
token ``hw_...``, a session ``hws_...``, a one-time link ``hwl_...``, also inside a longer
string such as an invite link's URL), whatever its field's name.

>>> redact({"name": "hook", "config": {"apiKey": "s3cret", "headers": {"Authorization": "x"}}})
{'name': 'hook', 'config': {'apiKey': '[redacted]', 'headers': {'Authorization': '[redacted]'}}}
>>> redact([{"write_key": "wk_1", "token_id": 4}])
[{'write_key': '[redacted]', 'token_id': 4}]
>>> redact({"invite_link": "https://cdp.example.com/setup#hwl_" + "x" * 43})
{'invite_link': '[redacted]'}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["REDACTED", "redact", "secret_name"]

REDACTED: Final = "[redacted]"

# Names are compared lower-cased without separators; a name ending with one of these is secret
# ("access_token", "clientSecret", "db_password"), so ids and counts ("token_id") are not.
_SECRET_ENDINGS: Final = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "writekey",
    "privatekey",
    "accesskey",
    "secretkey",
    "signingkey",
    "hmackey",
    "authorization",
    "credential",
    "credentials",
    "cookie",
    "sha256",
)
_SEPARATORS: Final = re.compile(r"[\s_.\-]+")
_HEADWATER_SECRET: Final = re.compile(r"(?<![A-Za-z0-9])hw[sl]?_[A-Za-z0-9_\-]{20,}")


def secret_name(name: str) -> bool:
    """Does a field of this name hold a secret (see the module)?

    >>> [secret_name(n) for n in ("API-Key", "client_secret", "token_id", "key")]
    [True, True, False, False]
    """
    folded = _SEPARATORS.sub("", name).lower()
    return folded.endswith(_SECRET_ENDINGS)


def redact(value: Any) -> Any:
    """``value`` (decoded JSON) with the value of every secret-like field, and every string
    that is a Headwater secret, replaced by :data:`REDACTED`; a new value, the input is left
    as it was. A secret field that is null stays null (an unset secret tells nothing)."""
    if isinstance(value, Mapping):
        return {
            key: REDACTED
            if isinstance(key, str) and secret_name(key) and item is not None
            else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    if isinstance(value, str) and _HEADWATER_SECRET.search(value):
        return REDACTED
    return value
