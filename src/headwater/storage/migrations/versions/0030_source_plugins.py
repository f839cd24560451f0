"""A source's browser plugins: the device-mode destinations analytics.js loads on the page,
listed in the settings Headwater serves it (``workspaces/plugins.py``).

Revision ID: 0030
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0030"
down_revision = "0028"
branch_labels = None
depends_on = None

_UP = """
CREATE TABLE source_plugins (
    source_id integer PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
    plugins jsonb NOT NULL DEFAULT '[]'::jsonb,
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""

_DOWN = """
DROP TABLE source_plugins;
"""


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
