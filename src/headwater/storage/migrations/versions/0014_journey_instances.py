"""Journey instances (a profile's way through a journey: where it is, until when it waits,
how it ended) and their steps (each node passed and the port taken: the history, the
per-node counts, and what makes each step happen once).

Revision ID: 0014
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_UP = """
CREATE TABLE journey_instances (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id integer NOT NULL,
    journey_id integer NOT NULL REFERENCES journeys (id) ON DELETE CASCADE,
    version integer NOT NULL,
    profile_id text COLLATE "C" NOT NULL,
    instance_key text COLLATE "C" NOT NULL DEFAULT '',
    trigger_id text COLLATE "C" NOT NULL,
    state text NOT NULL CHECK (state IN ('active', 'waiting', 'completed', 'exited', 'failed')),
    node_id text COLLATE "C" NOT NULL,
    node_since timestamptz NOT NULL,
    wake_at timestamptz,
    port text COLLATE "C",
    step integer NOT NULL DEFAULT 0,
    context jsonb NOT NULL,
    entered_at timestamptz NOT NULL,
    goal_until timestamptz,
    converted_at timestamptz,
    ended_at timestamptz,
    end_reason text,
    error text,
    CONSTRAINT journey_instances_trigger_key UNIQUE (journey_id, trigger_id)
);
-- One running instance per profile and instance key: concurrent entries cannot both win.
CREATE UNIQUE INDEX journey_instances_running
    ON journey_instances (journey_id, profile_id, instance_key)
    WHERE state IN ('active', 'waiting');
-- What the runner claims: running instances due now.
CREATE INDEX journey_instances_due ON journey_instances (wake_at)
    WHERE state IN ('active', 'waiting') AND wake_at IS NOT NULL;
-- A profile's instances: entry rules, waits, exits and goals of its events.
CREATE INDEX journey_instances_profile ON journey_instances (profile_id, journey_id);

CREATE TABLE journey_steps (
    instance_id bigint NOT NULL REFERENCES journey_instances (id) ON DELETE CASCADE,
    step integer NOT NULL,
    journey_id integer NOT NULL,
    version integer NOT NULL,
    node_id text COLLATE "C" NOT NULL,
    port text COLLATE "C",
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    detail text,
    PRIMARY KEY (instance_id, step)
);
CREATE INDEX journey_steps_node ON journey_steps (journey_id, version, node_id);
"""

_DOWN = """
DROP TABLE journey_steps;
DROP TABLE journey_instances;
"""


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
