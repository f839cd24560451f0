"""The access capability's tables: people, their roles per workspace, API tokens, web sessions,
one-time links, login attempts and the audit trail."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from headwater.storage.tables import metadata

__all__ = [
    "api_tokens",
    "audit_log",
    "login_attempts",
    "memberships",
    "one_time_links",
    "sessions",
    "users",
]

_ROLES = "role IN ('owner', 'admin', 'developer', 'marketer', 'analyst', 'privacy_admin')"

# A person. ``email`` is NULL only for the first owner until the set-up link is used.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", Text),
    Column("password_hash", Text),
    Column("instance_owner", Boolean, nullable=False, server_default=text("false")),
    Column("disabled_at", DateTime(timezone=True)),
    Column("password_changed_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("users_email_key", text("lower(email)"), unique=True),
)

memberships = Table(
    "memberships",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("role", Text, nullable=False),
    Column("pii_read", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    PrimaryKeyConstraint("user_id", "workspace_id", name="memberships_pkey"),
    CheckConstraint(_ROLES, name="memberships_role_check"),
)

# A user's token acts as the user, narrowed to its role (and workspace, when it has one); a
# service account's token (no user) acts in its workspace with its role.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_sha256", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("user_id", Integer, ForeignKey("users.id")),
    Column("workspace_id", Integer, ForeignKey("workspaces.id")),
    Column("role", Text, nullable=False),
    Column("pii_read", Boolean, nullable=False, server_default=text("false")),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("created_by", Integer, ForeignKey("users.id")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint("token_sha256", name="api_tokens_token_sha256_key"),
    CheckConstraint(_ROLES, name="api_tokens_role_check"),
    CheckConstraint(
        "user_id IS NOT NULL OR workspace_id IS NOT NULL", name="api_tokens_owner_check"
    ),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_sha256", Text, nullable=False),
    Column("csrf_sha256", Text, nullable=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("ip", Text),
    Column("user_agent", Text),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint("token_sha256", name="sessions_token_sha256_key"),
)

# Set-up (first owner) and invitation links: each sets a password once.
one_time_links = Table(
    "one_time_links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_sha256", Text, nullable=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    UniqueConstraint("token_sha256", name="one_time_links_token_sha256_key"),
    CheckConstraint("purpose IN ('setup', 'invite')", name="one_time_links_purpose_check"),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("email_sha256", Text, nullable=False),
    Column("ip", Text),
    Column("succeeded", Boolean, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("login_attempts_email_at_idx", "email_sha256", "at"),
    Index("login_attempts_ip_at_idx", "ip", "at"),
)

# Append-only: a trigger refuses UPDATE, DELETE and TRUNCATE (migration 0009).
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("workspace_id", Integer, ForeignKey("workspaces.id")),
    Column("actor_kind", Text, nullable=False),
    Column("actor_user_id", Integer, ForeignKey("users.id")),
    Column("actor_label", Text, nullable=False),
    Column("token_id", Integer),
    Column("session_id", Integer),
    Column("action", Text, nullable=False),
    Column("resource", Text, nullable=False),
    Column("before", JSONB),
    Column("after", JSONB),
    Column("ip", Text),
    Index("audit_log_workspace_id_idx", "workspace_id", "id"),
)
