"""Regulations (deletion and suppression): a secret key per workspace for hashing identifiers,
collection's suppressions (hashed identifiers its tracking API refuses) and a count of the
messages it refused, and privacy's regulations with a row per subject and per destination.

No table holds an identifier in clear once its work is done: suppressions and regulation
subjects are HMAC-SHA256 digests under the workspace's key; a subject's id (and the person's
identifiers, for forwarding deletions) stay in ``regulation_targets.work`` only while the
target is pending, and are wiped when it ends.

Revision ID: 0018
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_UP = """
CREATE TABLE workspace_keys (
    workspace_id integer PRIMARY KEY REFERENCES workspaces (id),
    identifier_key bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE suppressions (
    workspace_id integer NOT NULL,
    identifier_hash bytea NOT NULL,
    kind text NOT NULL,
    origin bytea NOT NULL,
    regulation_id text COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, identifier_hash)
);
CREATE INDEX suppressions_regulation_id ON suppressions (regulation_id);
CREATE INDEX suppressions_origin ON suppressions (workspace_id, origin);

ALTER TABLE event_counts ADD COLUMN suppressed bigint NOT NULL DEFAULT 0;

CREATE TABLE regulations (
    id text COLLATE "C" PRIMARY KEY,
    workspace_id integer NOT NULL,
    source_id integer,
    regulation_type text NOT NULL,
    subject_type text NOT NULL,
    status text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    next_at timestamptz NOT NULL DEFAULT now(),
    lease_owner text,
    lease_until timestamptz
);
CREATE INDEX regulations_workspace_id ON regulations (workspace_id, created_at);
CREATE INDEX regulations_due ON regulations (next_at)
    WHERE status IN ('INITIALIZED', 'RUNNING');

CREATE TABLE regulation_targets (
    regulation_id text COLLATE "C" NOT NULL REFERENCES regulations (id) ON DELETE CASCADE,
    position integer NOT NULL,
    subject_hash bytea NOT NULL,
    status text NOT NULL,
    stage text NOT NULL,
    work jsonb,
    removed jsonb,
    error text,
    finished_at timestamptz,
    PRIMARY KEY (regulation_id, position)
);
CREATE INDEX regulation_targets_subject_hash ON regulation_targets (subject_hash);

CREATE TABLE regulation_destinations (
    regulation_id text COLLATE "C" NOT NULL,
    position integer NOT NULL,
    destination_id integer NOT NULL,
    name text NOT NULL,
    status text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_at timestamptz NOT NULL DEFAULT now(),
    error text,
    finished_at timestamptz,
    PRIMARY KEY (regulation_id, position, destination_id),
    FOREIGN KEY (regulation_id, position)
        REFERENCES regulation_targets (regulation_id, position) ON DELETE CASCADE
);
"""

_DOWN = """
DROP TABLE regulation_destinations, regulation_targets, regulations, suppressions,
    workspace_keys;
ALTER TABLE event_counts DROP COLUMN suppressed;
"""


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
