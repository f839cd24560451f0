"""Duplicates kept for a day: each message dropped as a duplicate, with its payload, so that a
source's live debugger shows it with its fate (and nothing is dropped unseen).

Revision ID: 0010
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_UP = """
CREATE TABLE duplicates (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id integer NOT NULL,
    source_id integer NOT NULL,
    received_at timestamptz NOT NULL,
    type text NOT NULL,
    name text,
    message_id text NOT NULL,
    payload jsonb NOT NULL
);
CREATE INDEX duplicates_source_id ON duplicates (source_id, id);
CREATE INDEX duplicates_received_at ON duplicates (received_at);
"""

_DOWN = "DROP TABLE duplicates;"


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
