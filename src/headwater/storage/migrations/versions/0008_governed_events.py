"""Governed events: what the tracking plans made of the events they changed or blocked, beside
the log, and the view that every reader after the processor reads events through.

Revision ID: 0008
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_UP = """
-- One row per log entry a tracking plan changed (omit, flag: the payload as governed) or
-- blocked (payload NULL), written by the protocols stage. Nearly every event passes its plan
-- unchanged and has no row, so the table stays small and collection never writes to it.
CREATE TABLE governed_payloads (
    seq bigint PRIMARY KEY,
    workspace_id integer NOT NULL,
    payload jsonb
);

-- The log as the plans left it: the governed payload where there is one, the payload as sent
-- otherwise, and no blocked event. Profiles, audiences, the Profile API and destination
-- replays read events through this view, never ``events`` itself.
CREATE VIEW governed_events AS
SELECT e.seq, e.partition, e.workspace_id, e.source_id, e.message_id, e.type, e.name,
       e.user_id, e.anonymous_id, e.timestamp, e.received_at,
       COALESCE(g.payload, e.payload) AS payload
FROM events e LEFT JOIN governed_payloads g ON g.seq = e.seq
WHERE g.seq IS NULL OR g.payload IS NOT NULL
"""

_DOWN = """
DROP VIEW governed_events;
DROP TABLE governed_payloads
"""


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
