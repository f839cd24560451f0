"""Journeys: each journey with its draft, and its published versions (never changed once
written). Instances, timers and waits arrive with the journey runtime.

Revision ID: 0012
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_UP = """
CREATE TABLE journeys (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id integer NOT NULL REFERENCES workspaces (id),
    key text COLLATE "C" NOT NULL,
    name text NOT NULL,
    description text NOT NULL DEFAULT '',
    state text NOT NULL DEFAULT 'draft'
        CHECK (state IN ('draft', 'live', 'paused', 'archived')),
    draft jsonb NOT NULL,
    revision integer NOT NULL DEFAULT 1,
    version integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT journeys_workspace_id_key_key UNIQUE (workspace_id, key)
);

CREATE TABLE journey_versions (
    journey_id integer NOT NULL REFERENCES journeys (id) ON DELETE CASCADE,
    version integer NOT NULL,
    document jsonb NOT NULL,
    note text NOT NULL DEFAULT '',
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (journey_id, version)
);
"""

_DOWN = """
DROP TABLE journey_versions;
DROP TABLE journeys;
"""


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
