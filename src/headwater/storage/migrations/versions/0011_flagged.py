"""Flagged messages kept for a day: each message a tracking plan let through with violations
(``flag``: the violations under ``context.violations``; ``omit``: the offending fields
removed), with its violations and its payload as governed, so that a source's live debugger
shows its fate. ``governed_payloads`` cannot serve: it has no source, no time and no order of
its own, and a redelivered or replayed entry rewrites its row.

Revision ID: 0011
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_UP = """
CREATE TABLE flagged (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id integer NOT NULL,
    source_id integer NOT NULL,
    received_at timestamptz NOT NULL,
    type text NOT NULL,
    name text,
    message_id text NOT NULL,
    violations jsonb NOT NULL,
    payload jsonb NOT NULL
);
CREATE INDEX flagged_source_id ON flagged (source_id, id);
CREATE INDEX flagged_received_at ON flagged (received_at);
"""

_DOWN = "DROP TABLE flagged;"


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
