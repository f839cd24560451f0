"""The observed schema says which built-in detector found a personal value at a path
(``detected``: the detector's name, NULL while none has), so that the PII inbox lists fields
whose values look personal whatever their key is named.

Revision ID: 0022
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_UP = """
ALTER TABLE observed_schema ADD COLUMN detected text COLLATE "C";
"""

_DOWN = """
ALTER TABLE observed_schema DROP COLUMN detected;
"""


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
