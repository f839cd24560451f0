"""People: their emails, and the purposes of one-time links."""

from __future__ import annotations

import re
from typing import Final, Literal

from headwater.errors import BadRequest

__all__ = ["LinkPurpose", "check_email"]

_EMAIL: Final = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s.]{1,63}")

LinkPurpose = Literal["setup", "invite"]


def check_email(email: str) -> str:
    """``email`` as stored (trimmed; compared without case), else 400 ``invalid_email``.

    >>> check_email(" Ana@Example.com ")
    'Ana@Example.com'
    """
    trimmed = email.strip()
    if not _EMAIL.fullmatch(trimmed):
        raise BadRequest("invalid_email", "an email address looks like name@example.com")
    return trimmed
