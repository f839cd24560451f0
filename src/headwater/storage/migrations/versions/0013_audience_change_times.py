"""An index on each audience change's time by computation: the per-day and per-hour totals of
an audience's or computed trait's changes read only the chosen range, not every change it ever
had.

Revision ID: 0013
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_UP = "CREATE INDEX audience_changes_computation_at ON audience_changes (computation_id, at);"

_DOWN = "DROP INDEX audience_changes_computation_at;"


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
