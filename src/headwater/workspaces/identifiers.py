"""Identifiers hashed under a secret key per workspace, so that privacy can remember whom to
suppress or forget without keeping who they are.

Each workspace has one random 32-byte key (``workspace_keys``), created on first use and never
shown by any API. An identifier is hashed as HMAC-SHA256 of its kind and value under that key:
the same id in two workspaces gives two unrelated digests, and a digest cannot be checked
against a guessed id without the key. Collection (the suppressions it enforces) and privacy
(regulation records) both reach it here, beneath them in the layers.

The same key is the workspace's one secret: the PII rules' hashing salt is derived from it
(:func:`pii_salt_of`: HMAC-SHA256 of the key over the label ``pii-hash`` and a 1 byte, one
block of HKDF-Expand), so that one secret per workspace is kept, in one table. A workspace
whose salt was stored before (migration 0023) keeps that salt, stored beside the key: values
already hashed under it must hash the same.

>>> key = await identifier_key(tx, workspace_id)
>>> len(identifier_hash(key, "user_id", "u-1"))
32
>>> (await pii_salts(tx, [workspace_id]))[workspace_id] == pii_salt_of(key)  # none stored
True
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from typing import Final

from headwater.storage import Transaction
from headwater.workspaces import store

__all__ = [
    "KEY_BYTES",
    "PII_LABEL",
    "identifier_hash",
    "identifier_key",
    "pii_salt",
    "pii_salt_of",
    "pii_salts",
]

KEY_BYTES: Final = 32
PII_LABEL: Final = b"pii-hash\x01"
"""What the key is HMACed over to give the PII salt (no NUL: never an identifier's input)."""


async def identifier_key(tx: Transaction, workspace_id: int) -> bytes:
    """The workspace's secret identifier key, created on first use (in ``tx``)."""
    return await store.identifier_key(tx, workspace_id, secrets.token_bytes(KEY_BYTES))


def identifier_hash(key: bytes, kind: str, value: str) -> bytes:
    """HMAC-SHA256 of ``kind`` (``user_id``, ``anonymous_id``, ``email``…), a NUL and
    ``value``: a user id and an anonymous id with the same text are different identifiers."""
    return hmac.new(key, f"{kind}\0{value}".encode(), hashlib.sha256).digest()


def pii_salt_of(key: bytes) -> bytes:
    """The PII hashing salt derived from a workspace's identifier key."""
    return hmac.new(key, PII_LABEL, hashlib.sha256).digest()


async def pii_salts(tx: Transaction, workspace_ids: Sequence[int]) -> dict[int, bytes]:
    """The PII hashing salt of each of these workspaces that has a key: the salt stored before
    the secrets were one, else the one derived from the key. A workspace without a key has
    hashed nothing yet, and is left out."""
    rows = await store.workspace_secrets(tx, list(workspace_ids))
    return {
        workspace_id: stored if stored is not None else pii_salt_of(key)
        for workspace_id, key, stored in rows
    }


async def pii_salt(tx: Transaction, workspace_id: int) -> bytes:
    """The workspace's PII hashing salt, its key created on first use (in ``tx``)."""
    await identifier_key(tx, workspace_id)
    return (await pii_salts(tx, [workspace_id]))[workspace_id]
