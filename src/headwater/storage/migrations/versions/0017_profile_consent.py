"""Consent on the profile: the newest ``context.consent.categoryPreferences`` seen on any of a
profile's events, with the event that set it (``{"c": {category: bool}, "t": timestamp,
"m": message id}``); null until an event carries preferences.

Revision ID: 0017
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_UP = """
ALTER TABLE profiles ADD COLUMN consent jsonb;
"""

_DOWN = """
ALTER TABLE profiles DROP COLUMN consent;
"""


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
