"""Identifiers hashed under a secret key per workspace, so that privacy can remember whom to
suppress or forget without keeping who they are.

Each workspace has one random 32-byte key (``workspace_keys``), created on first use and never
shown by any API. An identifier is hashed as HMAC-SHA256 of its kind and value under that key:
the same id in two workspaces gives two unrelated digests, and a digest cannot be checked
against a guessed id without the key. Collection (the suppressions it enforces) and privacy
(regulation records) both reach it here, beneath them in the layers.

>>> key = await identifier_key(tx, workspace_id)
>>> len(identifier_hash(key, "user_id", "u-1"))
32
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

from headwater.storage import Transaction
from headwater.workspaces import store

__all__ = ["KEY_BYTES", "identifier_hash", "identifier_key"]

KEY_BYTES: Final = 32


async def identifier_key(tx: Transaction, workspace_id: int) -> bytes:
    """The workspace's secret identifier key, created on first use (in ``tx``)."""
    return await store.identifier_key(tx, workspace_id, secrets.token_bytes(KEY_BYTES))


def identifier_hash(key: bytes, kind: str, value: str) -> bytes:
    """HMAC-SHA256 of ``kind`` (``user_id``, ``anonymous_id``, ``email``…), a NUL and
    ``value``: a user id and an anonymous id with the same text are different identifiers."""
    return hmac.new(key, f"{kind}\0{value}".encode(), hashlib.sha256).digest()
