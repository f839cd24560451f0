"""Passwords: argon2id hashes (RFC 9106's second recommended parameters, argon2-cffi's
defaults), checked in constant time, with a dummy check when there is no user so that a
wrong email costs as long as a wrong password.

>>> stored = hash_password("correct horse battery")
>>> verify_password(stored, "correct horse battery"), verify_password(stored, "wrong")
(True, False)
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from headwater.errors import BadRequest

__all__ = ["MIN_LENGTH", "check_password", "hash_password", "verify_password"]

MIN_LENGTH = 12
_MAX_LENGTH = 1024


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def _dummy() -> str:
    return _hasher().hash("headwater: no such user")


def check_password(password: str) -> str:
    """``password`` if it may be set, else 400 ``weak_password``."""
    if not MIN_LENGTH <= len(password) <= _MAX_LENGTH or not password.strip():
        raise BadRequest(
            "weak_password",
            f"a password has {MIN_LENGTH} to {_MAX_LENGTH} characters and is not blank",
        )
    return password


def hash_password(password: str) -> str:
    return _hasher().hash(check_password(password))


def verify_password(stored: str | None, password: str) -> bool:
    """Does ``password`` match ``stored`` (None: no user, or no password set yet)? Takes as
    long either way."""
    try:
        return _hasher().verify(stored or _dummy(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
