"""PII rules: each workspace's rules on fields (path, key, value or detector, action, sources,
destinations), its hashing salt, and the inbox's fields marked "not personal".

Revision ID: 0020
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_UP = """
CREATE TABLE pii_rules (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id integer NOT NULL,
    name text NOT NULL,
    path text,
    key text,
    value text,
    detector text,
    action text NOT NULL,
    sources integer[],
    destinations integer[],
    enabled boolean NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX pii_rules_workspace_id ON pii_rules (workspace_id, id);

CREATE TABLE pii_salts (
    workspace_id integer PRIMARY KEY,
    salt bytea NOT NULL
);

CREATE TABLE pii_dismissed (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id integer NOT NULL,
    path text COLLATE "C" NOT NULL,
    dismissed_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX pii_dismissed_key ON pii_dismissed (workspace_id, md5(path));
"""

_DOWN = """
DROP TABLE pii_dismissed;
DROP TABLE pii_salts;
DROP TABLE pii_rules;
"""


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
