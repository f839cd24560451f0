"""An index of the profiles merged into each profile: the whole person (``lookups.family``,
which regulations and subject access exports read) was found by scanning every profile of the
instance once per level of merges.

Revision ID: 0024
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_UP = """
CREATE INDEX profiles_merged_into ON profiles (merged_into) WHERE merged_into IS NOT NULL;
"""

_DOWN = """
DROP INDEX profiles_merged_into;
"""


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
