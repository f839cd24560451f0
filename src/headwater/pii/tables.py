"""PII rules' tables: the rules of each workspace and the inbox's fields marked "not personal"
(migration 0020). Each workspace's hashing salt is ``workspaces``' (migration 0023)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY

from headwater.storage.tables import metadata

__all__ = ["pii_dismissed", "pii_rules"]

pii_rules = Table(
    "pii_rules",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("workspace_id", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("path", Text),
    Column("key", Text),
    Column("value", Text),
    Column("detector", Text),
    Column("action", Text, nullable=False),
    Column("sources", ARRAY(Integer)),
    Column("destinations", ARRAY(Integer)),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("pii_rules_workspace_id", "workspace_id", "id"),
)

# Observed fields someone marked "not personal": they leave the inbox.
pii_dismissed = Table(
    "pii_dismissed",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("workspace_id", Integer, nullable=False),
    Column("path", Text(collation="C"), nullable=False),
    Column("dismissed_at", DateTime(timezone=True), nullable=False),
)
Index(
    "pii_dismissed_key",
    pii_dismissed.c.workspace_id,
    func.md5(pii_dismissed.c.path),
    unique=True,
)
