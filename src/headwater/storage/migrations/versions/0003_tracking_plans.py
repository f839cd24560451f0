"""Tracking plans: plans and their versions, connections to sources with enforcement settings,
violations (counts per minute and samples), the quarantine of blocked events, the observed
schema of each source, and the protocols stage's progress per log partition.

Revision ID: 0003
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_UP = """
CREATE TABLE tracking_plans (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id integer NOT NULL REFERENCES workspaces (id),
    slug text COLLATE "C" NOT NULL,
    name text NOT NULL,
    version integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, slug)
);

-- Every version of a plan, never changed once written: the stage validates against the newest.
CREATE TABLE tracking_plan_versions (
    plan_id integer NOT NULL REFERENCES tracking_plans (id) ON DELETE CASCADE,
    version integer NOT NULL,
    document jsonb NOT NULL,
    note text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, version)
);

-- One plan per source, and a revision that grows with every change of the settings.
CREATE TABLE tracking_plan_sources (
    source_id integer PRIMARY KEY REFERENCES sources (id),
    plan_id integer NOT NULL REFERENCES tracking_plans (id) ON DELETE CASCADE,
    settings jsonb NOT NULL,
    revision integer NOT NULL DEFAULT 1,
    connected_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tracking_plan_sources_plan ON tracking_plan_sources (plan_id);

-- The last log offset whose effects (counts, samples, quarantine, observations) the protocols
-- stage recorded, per partition: a redelivered entry changes nothing.
CREATE TABLE protocols_progress (
    partition smallint PRIMARY KEY,
    committed bigint NOT NULL
);

-- Rows are per log partition too, so that processors on different partitions never wait for
-- each other's row locks, and reads add the partitions up.
CREATE TABLE violation_counts (
    source_id integer NOT NULL,
    bucket timestamptz NOT NULL,
    event_type text COLLATE "C" NOT NULL,
    event_name text COLLATE "C" NOT NULL,
    violation text COLLATE "C" NOT NULL,
    path text COLLATE "C" NOT NULL,
    partition smallint NOT NULL,
    workspace_id integer NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (source_id, bucket, event_type, event_name, violation, path, partition)
);
CREATE INDEX violation_counts_workspace ON violation_counts (workspace_id, bucket);

-- The newest sample payloads (up to 5) of each kind of violation.
CREATE TABLE violation_samples (
    source_id integer NOT NULL,
    event_type text COLLATE "C" NOT NULL,
    event_name text COLLATE "C" NOT NULL,
    violation text COLLATE "C" NOT NULL,
    path text COLLATE "C" NOT NULL,
    workspace_id integer NOT NULL,
    message text NOT NULL,
    first_seen timestamptz NOT NULL,
    last_seen timestamptz NOT NULL,
    samples jsonb NOT NULL,
    PRIMARY KEY (source_id, event_type, event_name, violation, path)
);

CREATE TABLE quarantine (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id integer NOT NULL,
    source_id integer NOT NULL,
    message_id text COLLATE "C" NOT NULL,
    type text NOT NULL,
    name text,
    reason text NOT NULL,
    violations jsonb NOT NULL,
    payload jsonb NOT NULL,
    status text NOT NULL CHECK (status IN ('quarantined', 'replayed', 'forwarded', 'released')),
    attempts integer NOT NULL DEFAULT 1,
    plan_id integer,
    plan_version integer,
    log_partition smallint NOT NULL,
    log_offset bigint NOT NULL,
    first_blocked_at timestamptz NOT NULL DEFAULT now(),
    blocked_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    forwarded_to integer,
    UNIQUE (source_id, message_id)
);
CREATE INDEX quarantine_list ON quarantine (workspace_id, status, id);

-- Every event name and property path seen per source, with the JSON type seen.
-- path '' with json_type 'event' counts the events themselves.
CREATE TABLE observed_schema (
    source_id integer NOT NULL,
    event_type text COLLATE "C" NOT NULL,
    event_name text COLLATE "C" NOT NULL,
    path text COLLATE "C" NOT NULL,
    json_type text COLLATE "C" NOT NULL,
    partition smallint NOT NULL,
    workspace_id integer NOT NULL,
    count bigint NOT NULL,
    first_seen timestamptz NOT NULL,
    last_seen timestamptz NOT NULL,
    PRIMARY KEY (source_id, event_type, event_name, path, json_type, partition)
)
"""

_DOWN = """
DROP TABLE observed_schema;
DROP TABLE quarantine;
DROP TABLE violation_samples;
DROP TABLE violation_counts;
DROP TABLE protocols_progress;
DROP TABLE tracking_plan_sources;
DROP TABLE tracking_plan_versions;
DROP TABLE tracking_plans
"""


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
