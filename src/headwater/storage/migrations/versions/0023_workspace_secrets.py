"""One secret store per workspace: the PII hashing salt joins the identifier key in
``workspace_keys``, and ``pii_salts`` goes.

A workspace's PII salt is now derived from its identifier key (HMAC-SHA256 of the key over the
label ``pii-hash``, ``workspaces.pii_salt``), except where a salt was stored already: values
hashed under it are in the log, the profiles and the destinations, and must keep hashing the
same, so that salt is moved here unchanged (``workspace_keys.pii_salt``) and used in place of
the derived one. A workspace with a stored salt and no identifier key yet gets a new random key
(32 bytes) with it.

Downgrade writes every workspace's salt (stored or derived) back into ``pii_salts``, so hashes
made after the upgrade stay the same after it.

Revision ID: 0023
"""

from __future__ import annotations

import hashlib
import hmac
import os

from alembic import op
from sqlalchemy import text

from headwater.storage.migrations import execute_script

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_LABEL = b"pii-hash\x01"
"""``workspaces.identifiers``' label for the PII salt (HKDF-Expand of one block); repeated here
so that the migration does what it did whatever the code becomes."""


def upgrade() -> None:
    bind = op.get_bind()
    execute_script("ALTER TABLE workspace_keys ADD COLUMN pii_salt bytea;")
    keyless = bind.execute(
        text(
            "SELECT s.workspace_id FROM pii_salts s"
            " LEFT JOIN workspace_keys k ON k.workspace_id = s.workspace_id"
            " WHERE k.workspace_id IS NULL"
        )
    ).scalars()
    for workspace_id in list(keyless):
        bind.execute(
            text("INSERT INTO workspace_keys (workspace_id, identifier_key) VALUES (:w, :key)"),
            {"w": workspace_id, "key": os.urandom(32)},
        )
    execute_script(
        """
UPDATE workspace_keys k SET pii_salt = s.salt FROM pii_salts s
 WHERE s.workspace_id = k.workspace_id;
DROP TABLE pii_salts;
"""
    )


def downgrade() -> None:
    bind = op.get_bind()
    execute_script(
        """
CREATE TABLE pii_salts (
    workspace_id integer PRIMARY KEY,
    salt bytea NOT NULL
);
"""
    )
    rows = bind.execute(text("SELECT workspace_id, identifier_key, pii_salt FROM workspace_keys"))
    for workspace_id, key, stored in list(rows):
        salt = bytes(stored) if stored is not None else _derived(bytes(key))
        bind.execute(
            text("INSERT INTO pii_salts (workspace_id, salt) VALUES (:w, :salt)"),
            {"w": workspace_id, "salt": salt},
        )
    execute_script("ALTER TABLE workspace_keys DROP COLUMN pii_salt;")


def _derived(key: bytes) -> bytes:
    return hmac.new(key, _LABEL, hashlib.sha256).digest()
