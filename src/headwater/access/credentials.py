"""Secrets handed out once and kept only as hashes: API tokens, session and CSRF tokens,
one-time links.

>>> token = new_secret("hw_")
>>> len(digest(token))
64
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["digest", "new_secret", "same"]


def new_secret(prefix: str) -> str:
    """A random secret with a prefix that says what it is (``hw_`` API token, ``hws_`` web
    session, ``hwl_`` one-time link): 256 bits, URL-safe."""
    return f"{prefix}{secrets.token_urlsafe(32)}"


def digest(secret: str) -> str:
    """What is stored of a secret: its SHA-256 (the secret has 256 random bits, so a slow hash
    adds nothing; passwords get argon2id instead)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same(given: str, expected: str) -> bool:
    """Compare two secrets in constant time."""
    return secrets.compare_digest(given.encode(), expected.encode())
