"""Retention: the event log partitioned by day of ``received_at``, the retention windows, and the
indexes that let the smaller stores forget by time.

What it does to an existing install, in one transaction (``events`` is locked throughout; the
copy takes about as long as loading the rows again, see docs/operations.md):

1. ``governed_events`` (a view over ``events``) is dropped; ``events`` is renamed
   ``events_unpartitioned`` (its indexes dropped, its identity sequence renamed with it).
2. A new ``events`` is created, ``PARTITION BY RANGE (received_at)``, with the same columns and
   the same identity column; its primary key is ``(seq, received_at)`` (a partitioned table's
   keys must include the partition column). A ``DEFAULT`` partition catches what no day holds.
3. One partition per UTC day that holds events (``events_pYYYYMMDD``), and one per day from
   yesterday to a week ahead, are created; every row is copied (seq kept); the new identity
   sequence continues from the old one's last value, so no offset is ever handed out twice.
4. The three indexes are created on the partitioned table (each partition gets its own), the
   old table is dropped and ``governed_events`` is created again, unchanged.

Revision ID: 0021
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from alembic import op
from sqlalchemy import text

from headwater.storage.migrations import execute_script

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_COLUMNS = (
    "seq, partition, workspace_id, source_id, message_id, type, name, user_id, anonymous_id,"
    " timestamp, received_at, payload"
)

_VIEW = """
CREATE VIEW governed_events AS
SELECT e.seq, e.partition, e.workspace_id, e.source_id, e.message_id, e.type, e.name,
       e.user_id, e.anonymous_id, e.timestamp, e.received_at,
       COALESCE(g.payload, e.payload) AS payload
FROM events e LEFT JOIN governed_payloads g ON g.seq = e.seq
WHERE g.seq IS NULL OR g.payload IS NOT NULL
"""

# The old table keeps its rows and loses every name the new one takes: its key, indexes,
# identity (the sequence's position is read first) and NOT NULL constraints (which PostgreSQL
# 18 names after the table).
_SET_ASIDE = f"""
DROP VIEW governed_events;
ALTER TABLE events RENAME TO events_unpartitioned;
ALTER TABLE events_unpartitioned DROP CONSTRAINT events_pkey;
DROP INDEX events_partition_seq, events_workspace_message, events_source_seq;
ALTER TABLE events_unpartitioned ALTER COLUMN seq DROP IDENTITY;
{
    "; ".join(
        f"ALTER TABLE events_unpartitioned ALTER COLUMN {c} DROP NOT NULL"
        for c in (
            "seq",
            "partition",
            "workspace_id",
            "source_id",
            "message_id",
            "type",
            "timestamp",
            "received_at",
            "payload",
        )
    )
}
"""

_PARTITIONED = """
CREATE TABLE events (
    seq bigint GENERATED ALWAYS AS IDENTITY,
    partition smallint NOT NULL,
    workspace_id integer NOT NULL,
    source_id integer NOT NULL,
    message_id text COLLATE "C" NOT NULL,
    type text NOT NULL,
    name text,
    user_id text,
    anonymous_id text,
    timestamp timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    payload jsonb NOT NULL
) PARTITION BY RANGE (received_at);
CREATE TABLE events_default PARTITION OF events DEFAULT
"""

_FINISH = f"""
INSERT INTO events ({_COLUMNS}) OVERRIDING SYSTEM VALUE
SELECT {_COLUMNS} FROM events_unpartitioned;
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (seq, received_at);
CREATE INDEX events_partition_seq ON events (partition, seq);
CREATE INDEX events_workspace_message ON events (workspace_id, message_id);
CREATE INDEX events_source_seq ON events (source_id, seq);
DROP TABLE events_unpartitioned;
{_VIEW};

-- Retention windows (headwater.privacy): per workspace, store and optionally source; no row
-- means the workspace's window for that store, and none at all means keep everything.
CREATE TABLE retention_windows (
    workspace_id integer NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    store text NOT NULL CHECK (store IN ('events', 'rejections', 'quarantine',
                                         'delivery_logs', 'journey_history')),
    source_id integer NOT NULL DEFAULT 0,
    days integer NOT NULL CHECK (days >= 1),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, store, source_id)
);

-- What the smaller stores forget by time reach through these (see docs/privacy.md).
CREATE INDEX rejections_received_at ON rejections (workspace_id, received_at);
CREATE INDEX quarantine_blocked_at ON quarantine (workspace_id, blocked_at);
CREATE INDEX dead_letters_failed_at ON dead_letters (destination_id, failed_at);
CREATE INDEX journey_steps_finished_at ON journey_steps (journey_id, finished_at)
"""

_DOWN = f"""
DROP INDEX journey_steps_finished_at, dead_letters_failed_at, quarantine_blocked_at,
    rejections_received_at;
DROP TABLE retention_windows;
DROP VIEW governed_events;
ALTER TABLE events RENAME TO events_partitioned;
CREATE TABLE events (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partition smallint NOT NULL,
    workspace_id integer NOT NULL,
    source_id integer NOT NULL,
    message_id text COLLATE "C" NOT NULL,
    type text NOT NULL,
    name text,
    user_id text,
    anonymous_id text,
    timestamp timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    payload jsonb NOT NULL
);
INSERT INTO events ({_COLUMNS}) OVERRIDING SYSTEM VALUE
SELECT {_COLUMNS} FROM events_partitioned;
SELECT setval(pg_get_serial_sequence('events', 'seq'),
              (SELECT last_value FROM pg_sequences
               WHERE sequencename = split_part(pg_get_serial_sequence('events_partitioned',
                                                                      'seq'), '.', 2)))
WHERE EXISTS (SELECT FROM events_partitioned);
DROP TABLE events_partitioned;
CREATE INDEX events_partition_seq ON events (partition, seq);
CREATE INDEX events_workspace_message ON events (workspace_id, message_id);
CREATE INDEX events_source_seq ON events (source_id, seq);
{_VIEW}
"""

_AHEAD_DAYS = 7  # the retention task keeps the same horizon (headwater.log.partitions)


def _partition(day: date) -> str:
    """The statement creating the partition of one UTC day (its name: ``events_pYYYYMMDD``)."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = start + timedelta(days=1)
    return (
        f"CREATE TABLE events_p{day:%Y%m%d} PARTITION OF events"
        f" FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    )


def upgrade() -> None:
    bind = op.get_bind()
    last, called = bind.execute(text("SELECT last_value, is_called FROM events_seq_seq")).one()
    execute_script(_SET_ASIDE)
    execute_script(_PARTITIONED)
    stored = bind.execute(
        text("SELECT DISTINCT (received_at AT TIME ZONE 'UTC')::date FROM events_unpartitioned")
    )
    today = datetime.now(UTC).date()
    days = {row[0] for row in stored}
    days |= {today + timedelta(days=n) for n in range(-1, _AHEAD_DAYS + 1)}
    for day in sorted(days):
        op.execute(_partition(day))
    execute_script(_FINISH)
    # Offsets continue where the old table's left off: none is ever handed out twice.
    bind.execute(
        text("SELECT setval(pg_get_serial_sequence('events', 'seq'), :last, :called)"),
        {"last": last, "called": called},
    )


def downgrade() -> None:
    execute_script(_DOWN)
