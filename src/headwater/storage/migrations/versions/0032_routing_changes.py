"""A version of what the routing stage routes by (destinations, and PII rules, some of which
are scoped to destinations): one row raised by triggers in the transaction that changes either
table, so a processor reads it in each batch's transaction and reloads as soon as it moved.
Before, a destination saved was routed to only once the stage's next timed reload came (up to
``HEADWATER_DESTINATIONS_REFRESH_SECONDS``), and events processed in between skipped it.

Revision ID: 0032
"""

from __future__ import annotations

from alembic import op

from headwater.storage.migrations import execute_script

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

_UP = """
CREATE TABLE routing_changes (
    id boolean PRIMARY KEY DEFAULT true,
    version bigint NOT NULL DEFAULT 0,
    CONSTRAINT routing_changes_one_row CHECK (id)
);
INSERT INTO routing_changes (id, version) VALUES (true, 0)
"""

# Dollar-quoted, so outside execute_script (which splits on every ';').
_BUMP = """
CREATE FUNCTION routing_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE routing_changes SET version = version + 1;
    RETURN NULL;
END
$$
"""

_TRIGGERS = """
CREATE TRIGGER destinations_routing_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON destinations FOR EACH STATEMENT EXECUTE FUNCTION routing_changed();
CREATE TRIGGER pii_rules_routing_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON pii_rules FOR EACH STATEMENT EXECUTE FUNCTION routing_changed()
"""

_DOWN = """
DROP TRIGGER pii_rules_routing_changed ON pii_rules;
DROP TRIGGER destinations_routing_changed ON destinations;
DROP FUNCTION routing_changed();
DROP TABLE routing_changes
"""


def upgrade() -> None:
    execute_script(_UP)
    op.execute(_BUMP)
    execute_script(_TRIGGERS)


def downgrade() -> None:
    execute_script(_DOWN)
