"""Webhook sources: a source of kind ``webhook``, its configuration (the unguessable key of its
URL, the authentication with its secrets sealed, the mapping rules), and the recent requests
its debugger shows.

Revision ID: 0026
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
ALTER TABLE sources DROP CONSTRAINT sources_kind_check;
ALTER TABLE sources ADD CONSTRAINT sources_kind_check
    CHECK (kind IN ('server', 'client', 'webhook'));
CREATE TABLE hook_sources (
    source_id integer PRIMARY KEY REFERENCES sources (id),
    url_key text NOT NULL,
    preset text,
    config jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT hook_sources_url_key_key UNIQUE (url_key)
);
CREATE TABLE hook_requests (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id integer NOT NULL REFERENCES workspaces (id),
    source_id integer NOT NULL REFERENCES sources (id),
    received_at timestamptz NOT NULL DEFAULT now(),
    method text NOT NULL,
    headers jsonb NOT NULL,
    query jsonb NOT NULL,
    body text,
    body_bytes integer NOT NULL,
    status integer NOT NULL,
    outcome text NOT NULL,
    reason text,
    messages jsonb NOT NULL,
    errors jsonb NOT NULL,
    CONSTRAINT hook_requests_outcome_check
        CHECK (outcome IN ('stored', 'refused', 'none', 'failed', 'replied'))
);
CREATE INDEX hook_requests_source ON hook_requests (source_id, id);
CREATE INDEX hook_requests_workspace ON hook_requests (workspace_id);
"""
    )


def downgrade() -> None:
    execute_script(
        """
DROP TABLE hook_requests;
DROP TABLE hook_sources;
UPDATE sources SET kind = 'server' WHERE kind = 'webhook';
ALTER TABLE sources DROP CONSTRAINT sources_kind_check;
ALTER TABLE sources ADD CONSTRAINT sources_kind_check CHECK (kind IN ('server', 'client'));
"""
    )
