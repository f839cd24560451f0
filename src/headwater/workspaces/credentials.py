"""Where credentials travel: the user part of an HTTP Basic header.

Segment's clients send a write key there, Profile API clients an access token, both as
``secret:`` (the colon may be missing).
"""

from __future__ import annotations

import base64
import binascii

__all__ = ["basic_user"]


def basic_user(authorization: str | None) -> str | None:
    """The user of an HTTP Basic ``Authorization`` header, or None when there is none.

    >>> basic_user("Basic " + base64.b64encode(b"key:").decode()), basic_user("Basic a2V5")
    ('key', 'key')
    >>> basic_user("Bearer x") is None
    True
    """
    if not authorization or authorization[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip()).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.split(":", 1)[0] or None
