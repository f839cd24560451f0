"""Workspaces, sources, admin tokens, the event log, dedup keys, rejections and counts.

Revision ID: 0001
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_UP = """
CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);

CREATE TABLE workspaces (
    id serial PRIMARY KEY,
    slug text NOT NULL UNIQUE,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sources (
    id serial PRIMARY KEY,
    workspace_id integer NOT NULL REFERENCES workspaces (id),
    name text NOT NULL,
    write_key text NOT NULL UNIQUE,
    kind text NOT NULL DEFAULT 'server' CHECK (kind IN ('server', 'client')),
    strict boolean NOT NULL DEFAULT false,
    enabled boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, name)
);

CREATE TABLE admin_tokens (
    id serial PRIMARY KEY,
    token_sha256 text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE events (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partition smallint NOT NULL,
    workspace_id integer NOT NULL,
    source_id integer NOT NULL,
    message_id text COLLATE "C" NOT NULL,
    type text NOT NULL,
    name text,
    user_id text,
    anonymous_id text,
    timestamp timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    payload jsonb NOT NULL
);
CREATE INDEX events_partition_seq ON events (partition, seq);
CREATE INDEX events_workspace_message ON events (workspace_id, message_id);
CREATE INDEX events_source_seq ON events (source_id, seq);

CREATE TABLE log_offsets (
    consumer text NOT NULL,
    partition smallint NOT NULL,
    committed bigint NOT NULL,
    PRIMARY KEY (consumer, partition)
);

CREATE TABLE log_leases (
    consumer text NOT NULL,
    partition smallint NOT NULL,
    owner text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (consumer, partition)
);

CREATE TABLE dedup_keys (
    workspace_id integer NOT NULL,
    message_id text COLLATE "C" NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, message_id)
);
CREATE INDEX dedup_keys_received_at ON dedup_keys (received_at);

CREATE TABLE rejections (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id integer NOT NULL,
    source_id integer NOT NULL,
    received_at timestamptz NOT NULL,
    batch_index integer NOT NULL,
    type text,
    message_id text,
    reason text NOT NULL,
    payload jsonb
);
CREATE INDEX rejections_source_id ON rejections (source_id, id);

CREATE TABLE event_counts (
    source_id integer NOT NULL,
    bucket timestamptz NOT NULL,
    type text NOT NULL,
    name text NOT NULL,
    workspace_id integer NOT NULL,
    accepted bigint NOT NULL DEFAULT 0,
    duplicates bigint NOT NULL DEFAULT 0,
    rejected bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (source_id, bucket, type, name)
);
"""

_DOWN = """
DROP TABLE event_counts, rejections, dedup_keys, log_leases, log_offsets, events,
    admin_tokens, sources, workspaces, meta;
"""


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
