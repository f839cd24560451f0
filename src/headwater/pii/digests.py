"""What a ``hash`` rule writes: the HMAC-SHA256 of a value with the workspace's salt, hex
(pure, no I/O).

>>> digest("a@b.co", b"s")
'70ef1d65d2606646cb8b9b2edfc25e99e404caee68f58e44df517f827b23f94c'
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

import msgspec

if TYPE_CHECKING:
    from hashlib import _Hash

__all__ = ["digest"]

_SHORT: Final = 100
"""Strings of up to this many characters have their digests remembered."""

_BLOCK: Final = 64
"""SHA-256's block size, in bytes."""


def digest(value: Any, salt: bytes) -> str:
    """HMAC-SHA256 of ``value`` (a string as is, anything else as JSON) with ``salt``, hex;
    remembered for the last 4,096 short strings (a person's email or id is hashed
    in every event they send)."""
    if isinstance(value, str) and len(value) <= _SHORT:
        return _remembered(value, salt)
    return _hmac(value, salt)


@lru_cache(maxsize=4096)
def _remembered(value: str, salt: bytes) -> str:
    return _hmac(value, salt)


def _hmac(value: Any, salt: bytes) -> str:
    data = value.encode() if isinstance(value, str) else msgspec.json.encode(value)
    inner, outer = _keyed(salt)
    inner = inner.copy()
    inner.update(data)
    outer = outer.copy()
    outer.update(inner.digest())
    return outer.hexdigest()


@lru_cache(maxsize=256)
def _keyed(salt: bytes) -> tuple[_Hash, _Hash]:
    """The inner and outer SHA-256 of an HMAC keyed with ``salt`` (RFC 2104), fed their
    padded keys only: copied for each value, as :mod:`hmac` would, without its wrapper."""
    key = hashlib.sha256(salt).digest() if len(salt) > _BLOCK else salt
    key = key.ljust(_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key))
    outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in key))
    return inner, outer
