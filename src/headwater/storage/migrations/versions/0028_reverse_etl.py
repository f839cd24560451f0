"""Reverse ETL: models (a SQL query on a customer's database, its URL sealed), syncs (a model
sent to profiles, events or a destination, on a schedule), their runs, and each sync's state
(the hash of every key's row as last sent), kept here and never in the customer's database.

Revision ID: 0028
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

_UP = """
CREATE TABLE retl_models (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id integer NOT NULL REFERENCES workspaces (id),
    name text NOT NULL,
    connection jsonb NOT NULL,
    query text NOT NULL,
    primary_key text NOT NULL,
    cursor_column text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT retl_models_name_key UNIQUE (workspace_id, name)
);

CREATE TABLE retl_syncs (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id integer NOT NULL REFERENCES workspaces (id),
    model_id integer NOT NULL REFERENCES retl_models (id),
    name text NOT NULL,
    target text NOT NULL,
    message_type text NOT NULL,
    destination_id integer,
    source_id integer NOT NULL REFERENCES sources (id),
    mode text NOT NULL,
    mapping jsonb NOT NULL,
    schedule jsonb NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    next_run_at timestamptz,
    run_requested boolean NOT NULL DEFAULT false,
    lease_until timestamptz,
    cursor_mark jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT retl_syncs_name_key UNIQUE (workspace_id, name),
    CONSTRAINT retl_syncs_target_check CHECK (target IN ('profiles', 'events', 'destination')),
    CONSTRAINT retl_syncs_mode_check CHECK (mode IN ('insert', 'update', 'upsert', 'mirror'))
);
CREATE INDEX retl_syncs_due ON retl_syncs (next_run_at) WHERE enabled;

CREATE TABLE retl_runs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sync_id integer NOT NULL REFERENCES retl_syncs (id) ON DELETE CASCADE,
    status text NOT NULL DEFAULT 'running',
    trigger text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    rows_read bigint NOT NULL DEFAULT 0,
    added bigint NOT NULL DEFAULT 0,
    changed bigint NOT NULL DEFAULT 0,
    removed bigint NOT NULL DEFAULT 0,
    failed bigint NOT NULL DEFAULT 0,
    reason text,
    failures jsonb NOT NULL DEFAULT '[]',
    CONSTRAINT retl_runs_status_check
        CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted'))
);
CREATE INDEX retl_runs_sync ON retl_runs (sync_id, id);

CREATE TABLE retl_state (
    sync_id integer NOT NULL REFERENCES retl_syncs (id) ON DELETE CASCADE,
    key text COLLATE "C" NOT NULL,
    hash bytea,
    error text,
    identity jsonb,
    PRIMARY KEY (sync_id, key)
);
"""

_DOWN = """
DROP TABLE retl_state;
DROP TABLE retl_runs;
DROP TABLE retl_syncs;
DROP TABLE retl_models;
"""


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
