"""Journey calls: the webhook requests journeys make, as an outbox the caller works through
(with retries), and the note that goes with the port a waiting instance is woken through (the
event, or the call's answer).

Revision ID: 0015
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_UP = """
ALTER TABLE journey_instances ADD COLUMN note text;

CREATE TABLE journey_calls (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    instance_id bigint NOT NULL REFERENCES journey_instances (id) ON DELETE CASCADE,
    step integer NOT NULL,
    node_id text COLLATE "C" NOT NULL,
    request jsonb NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_at timestamptz NOT NULL,
    last_error text,
    CONSTRAINT journey_calls_instance_id_step_key UNIQUE (instance_id, step)
);
CREATE INDEX journey_calls_due ON journey_calls (next_at);
"""

_DOWN = """
DROP TABLE journey_calls;
ALTER TABLE journey_instances DROP COLUMN note;
"""


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
