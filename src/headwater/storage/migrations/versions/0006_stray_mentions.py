"""Stray mentions: events that mention an identifier their profile does not own (an alias's
other reading of its previousId, an identifier dropped by a limit), so that rebuilding a
component reaches every event connected to it.

Revision ID: 0006
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0006"
down_revision = ("0003", "0004", "0005")
branch_labels = None
depends_on = None

_UP = """
-- Few rows: an event whose identifiers all belong to its profile (nearly every event) writes
-- none. Rows are never removed: a row that is no longer stray still names a connected event.
CREATE TABLE stray_mentions (
    workspace_id integer NOT NULL,
    kind text NOT NULL,
    type text COLLATE "C" NOT NULL,
    value text COLLATE "C" NOT NULL,
    message_id text COLLATE "C" NOT NULL,
    PRIMARY KEY (workspace_id, kind, type, value, message_id)
)
"""

_DOWN = """
DROP TABLE stray_mentions
"""


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
