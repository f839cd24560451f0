"""Destinations: instances, the delivery queue, dead letters, errors and per-minute stats.

The queue (``deliveries``) holds only undelivered rows: a delivered row is deleted in the same
statement batch that counts it, a failed one moves to ``dead_letters``. ``next_attempt_at`` is
both the backoff and the lease: a claim pushes it past the send's timeout, so rows a crashed
worker held come back by themselves.

Revision ID: 0004
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

_UP = """
CREATE TABLE destinations (
    id serial PRIMARY KEY,
    workspace_id integer NOT NULL REFERENCES workspaces (id),
    name text NOT NULL,
    kind text NOT NULL,
    config jsonb NOT NULL,
    sources integer[],
    filters jsonb NOT NULL DEFAULT '[]',
    categories text[],
    delivery jsonb NOT NULL DEFAULT '{}',
    enabled boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, name)
);

CREATE TABLE deliveries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    destination_id integer NOT NULL,
    message_id text COLLATE "C" NOT NULL,
    user_key text COLLATE "C",
    received_at timestamptz NOT NULL,
    enqueued_at timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    payload jsonb NOT NULL,
    UNIQUE (destination_id, message_id)
) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_cost_delay = 0);
CREATE INDEX deliveries_due ON deliveries (destination_id, next_attempt_at);

CREATE TABLE dead_letters (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    destination_id integer NOT NULL,
    message_id text COLLATE "C" NOT NULL,
    received_at timestamptz NOT NULL,
    enqueued_at timestamptz NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL,
    reason text NOT NULL CHECK (reason IN ('failed', 'expired')),
    error text NOT NULL,
    exchange jsonb,
    payload jsonb NOT NULL
);
CREATE INDEX dead_letters_destination ON dead_letters (destination_id, id);

CREATE TABLE delivery_errors (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    destination_id integer NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    outcome text NOT NULL,
    events integer NOT NULL,
    message_ids text[] NOT NULL,
    error text NOT NULL,
    exchange jsonb
);
CREATE INDEX delivery_errors_destination ON delivery_errors (destination_id, id);

-- Counts per destination and minute. latency_ms is a histogram over fixed bounds
-- (delivery/queue.py LATENCY_BOUNDS_MS, one more slot for anything above).
CREATE TABLE delivery_stats (
    destination_id integer NOT NULL,
    bucket timestamptz NOT NULL,
    enqueued bigint NOT NULL DEFAULT 0,
    skipped_integrations bigint NOT NULL DEFAULT 0,
    skipped_consent bigint NOT NULL DEFAULT 0,
    skipped_filters bigint NOT NULL DEFAULT 0,
    delivered bigint NOT NULL DEFAULT 0,
    retried bigint NOT NULL DEFAULT 0,
    failed bigint NOT NULL DEFAULT 0,
    dead_lettered bigint NOT NULL DEFAULT 0,
    latency_ms bigint[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (destination_id, bucket)
)
"""

_DOWN = """
DROP TABLE delivery_stats, delivery_errors, dead_letters, deliveries, destinations
"""


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
