"""Audiences and computed traits: definitions, current values, the change log (the activation
outbox), the date parser of the condition language, and an index for batch recomputes.

Revision ID: 0005
"""

from __future__ import annotations

from alembic import op

from headwater.storage.migrations import execute_script

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None

# The condition language's ISO_MOMENT (headwater.audiences.values), copied here because a
# migration must not change when the code does.
_MOMENT = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"(Z|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)?)?$"
)

# A date string as a moment: with an offset as given, without one in UTC; anything else
# (not a string, another format, an impossible date) is NULL.
_FUNCTION = f"""
CREATE FUNCTION headwater_moment(value jsonb) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    s text;
BEGIN
    IF jsonb_typeof(value) <> 'string' THEN
        RETURN NULL;
    END IF;
    s := value #>> '{{}}';
    IF s !~ '{_MOMENT}' THEN
        RETURN NULL;
    END IF;
    IF substr(s, 11) ~ '[Z+-]' THEN
        RETURN s::timestamptz;
    END IF;
    RETURN s::timestamp AT TIME ZONE 'UTC';
EXCEPTION WHEN data_exception THEN
    RETURN NULL;
END
$$
"""

_UP = """
CREATE TABLE computations (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id integer NOT NULL REFERENCES workspaces (id),
    kind text NOT NULL CHECK (kind IN ('audience', 'trait')),
    key text COLLATE "C" NOT NULL,
    name text NOT NULL,
    description text NOT NULL DEFAULT '',
    subject text NOT NULL DEFAULT 'user' CHECK (subject IN ('user', 'account')),
    definition jsonb NOT NULL,
    realtime boolean NOT NULL,
    destinations jsonb NOT NULL DEFAULT '[]',
    enabled boolean NOT NULL DEFAULT true,
    revision integer NOT NULL DEFAULT 1,
    next_run_at timestamptz NOT NULL DEFAULT now(),
    computed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, key)
);
CREATE INDEX computations_due ON computations (next_run_at) WHERE enabled;

-- Current values: an audience's members (value true), a computed trait's values.
CREATE TABLE computed_values (
    computation_id bigint NOT NULL REFERENCES computations (id) ON DELETE CASCADE,
    profile_id text COLLATE "C" NOT NULL,
    value jsonb NOT NULL,
    since timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (computation_id, profile_id)
);
CREATE INDEX computed_values_profile ON computed_values (profile_id);

-- Every change, with its time and cause: the outbox of activation. It keeps the
-- computation's kind and destinations (a deleted audience's exits are still sent), delivered
-- is true at once when there is no destination, and error says why a change could not be
-- handed to the delivery engine.
CREATE TABLE audience_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id integer NOT NULL,
    computation_id bigint NOT NULL,
    key text COLLATE "C" NOT NULL,
    profile_id text COLLATE "C" NOT NULL,
    change text NOT NULL CHECK (change IN ('entered', 'exited', 'updated')),
    value jsonb,
    previous jsonb,
    at timestamptz NOT NULL,
    cause text NOT NULL,
    message_id text COLLATE "C",
    kind text NOT NULL,
    destinations jsonb NOT NULL DEFAULT '[]',
    delivered boolean NOT NULL DEFAULT false,
    error text
);
CREATE INDEX audience_changes_profile ON audience_changes (profile_id, id);
CREATE INDEX audience_changes_computation ON audience_changes (computation_id, id);
CREATE INDEX audience_changes_outbox ON audience_changes (id) WHERE NOT delivered;

-- Batch recomputes read the events of a few names over a window, without the payload when
-- no property filter needs it.
CREATE INDEX profile_events_activity ON profile_events (workspace_id, name, timestamp)
    INCLUDE (profile_id, type, seq)
"""

_DOWN = """
DROP INDEX profile_events_activity;
DROP TABLE audience_changes, computed_values, computations;
DROP FUNCTION headwater_moment(jsonb)
"""


def upgrade() -> None:
    execute_script(_UP)
    op.execute(_FUNCTION)


def downgrade() -> None:
    execute_script(_DOWN)
