"""List audiences: the changes journeys make to a list audience's members are found by the
step's message id, so that a step run again records nothing twice.

Revision ID: 0016
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_UP = """
CREATE INDEX audience_changes_journey ON audience_changes (message_id)
    WHERE cause = 'journey';
"""

_DOWN = """
DROP INDEX audience_changes_journey;
"""


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
