"""People, roles per workspace, API tokens, web sessions, one-time links, login attempts and
the append-only audit trail. The admin tokens of earlier versions become the API tokens of
the first owner (a user without email until the set-up link is used); ``admin_tokens`` goes.

Revision ID: 0009
"""

from __future__ import annotations

from alembic import op

from headwater.storage.migrations import execute_script

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ROLES = "role IN ('owner', 'admin', 'developer', 'marketer', 'analyst', 'privacy_admin')"

_UP = f"""
CREATE TABLE users (
    id serial PRIMARY KEY,
    email text,
    password_hash text,
    instance_owner boolean NOT NULL DEFAULT false,
    disabled_at timestamptz,
    password_changed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE memberships (
    user_id integer NOT NULL REFERENCES users (id),
    workspace_id integer NOT NULL REFERENCES workspaces (id),
    role text NOT NULL CONSTRAINT memberships_role_check CHECK ({_ROLES}),
    pii_read boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT memberships_pkey PRIMARY KEY (user_id, workspace_id)
);

CREATE TABLE api_tokens (
    id serial PRIMARY KEY,
    token_sha256 text NOT NULL CONSTRAINT api_tokens_token_sha256_key UNIQUE,
    name text NOT NULL,
    user_id integer REFERENCES users (id),
    workspace_id integer REFERENCES workspaces (id),
    role text NOT NULL CONSTRAINT api_tokens_role_check CHECK ({_ROLES}),
    pii_read boolean NOT NULL DEFAULT false,
    expires_at timestamptz,
    revoked_at timestamptz,
    created_by integer REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT api_tokens_owner_check CHECK (user_id IS NOT NULL OR workspace_id IS NOT NULL)
);

CREATE TABLE sessions (
    id serial PRIMARY KEY,
    token_sha256 text NOT NULL CONSTRAINT sessions_token_sha256_key UNIQUE,
    csrf_sha256 text NOT NULL,
    user_id integer NOT NULL REFERENCES users (id),
    ip text,
    user_agent text,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE one_time_links (
    id serial PRIMARY KEY,
    token_sha256 text NOT NULL CONSTRAINT one_time_links_token_sha256_key UNIQUE,
    user_id integer NOT NULL REFERENCES users (id),
    purpose text NOT NULL CONSTRAINT one_time_links_purpose_check
        CHECK (purpose IN ('setup', 'invite')),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE login_attempts (
    id bigserial PRIMARY KEY,
    email_sha256 text NOT NULL,
    ip text,
    succeeded boolean NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_email_at_idx ON login_attempts (email_sha256, at);
CREATE INDEX login_attempts_ip_at_idx ON login_attempts (ip, at);

CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    workspace_id integer REFERENCES workspaces (id),
    actor_kind text NOT NULL,
    actor_user_id integer REFERENCES users (id),
    actor_label text NOT NULL,
    token_id integer,
    session_id integer,
    action text NOT NULL,
    resource text NOT NULL,
    before jsonb,
    after jsonb,
    ip text
);
CREATE INDEX audit_log_workspace_id_idx ON audit_log (workspace_id, id);

-- The admin tokens of earlier versions: the first owner's, valid everywhere.
INSERT INTO users (instance_owner) SELECT true WHERE EXISTS (SELECT 1 FROM admin_tokens);
INSERT INTO api_tokens (token_sha256, name, user_id, role, pii_read, created_at)
SELECT a.token_sha256, 'admin token', (SELECT min(id) FROM users), 'owner', true, a.created_at
FROM admin_tokens a;
DROP TABLE admin_tokens
"""

# Dollar-quoted, so outside execute_script (which splits on every ';').
_APPEND_ONLY = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END
$$
"""

_TRIGGERS = """
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
"""

_DOWN = """
CREATE TABLE admin_tokens (
    id serial PRIMARY KEY,
    token_sha256 text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO admin_tokens (token_sha256, created_at)
SELECT token_sha256, created_at FROM api_tokens
WHERE role = 'owner' AND workspace_id IS NULL AND revoked_at IS NULL;
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE login_attempts;
DROP TABLE one_time_links;
DROP TABLE sessions;
DROP TABLE api_tokens;
DROP TABLE memberships;
DROP TABLE users
"""


def upgrade() -> None:
    execute_script(_UP)
    op.execute(_APPEND_ONLY)
    execute_script(_TRIGGERS)


def downgrade() -> None:
    execute_script(_DOWN)
