"""PII rules announce their changes: a statement trigger notifies ``headwater_pii_rules`` in
the transaction that changes ``pii_rules`` (delivered when it commits), and every collector
process reloads its rules when it hears it. Before, a process other than the one that served
the change kept its rules for up to ``HEADWATER_PII_RULES_CACHE_SECONDS``, and stored the
personal values a new rule was made to hash, redact or block in the meantime.

Revision ID: 0033
"""

from __future__ import annotations

from alembic import op

from headwater.storage.migrations import execute_script

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

# Dollar-quoted, so outside execute_script (which splits on every ';').
_NOTIFY = """
CREATE FUNCTION pii_rules_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('headwater_pii_rules', '');
    RETURN NULL;
END
$$
"""

_TRIGGER = """
CREATE TRIGGER pii_rules_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON pii_rules FOR EACH STATEMENT EXECUTE FUNCTION pii_rules_changed()
"""

_DOWN = """
DROP TRIGGER pii_rules_notify ON pii_rules;
DROP FUNCTION pii_rules_changed()
"""


def upgrade() -> None:
    op.execute(_NOTIFY)
    execute_script(_TRIGGER)


def downgrade() -> None:
    execute_script(_DOWN)
