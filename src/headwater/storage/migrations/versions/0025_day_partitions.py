"""The smaller stores retention governs partitioned by UTC day, like the event log (0021):
rejections by ``received_at``, the quarantine by ``first_blocked_at``, dead letters by
``failed_at``, journey steps by the instance's ``entered_at`` (a new column, copied from the
instance). Retention then drops their expired days whole.

What it does to each table, in one transaction (each table locked throughout; the copy takes
about as long as loading the rows again):

1. The table is renamed ``<table>_unpartitioned`` and its identity, if it has one, dropped (its
   sequence's position read first).
2. A new table ``LIKE`` the old one (columns, defaults, checks) is created, ``PARTITION BY
   RANGE`` of its day column, with a ``DEFAULT`` partition and one partition per UTC day that
   holds rows and per day from yesterday to a week ahead (``<table>_pYYYYMMDD``).
3. Every row is copied (ids kept), the old table dropped, and the keys, indexes and foreign key
   created on the new one: each key gains the day column (a partitioned table's keys must
   include it); the identity continues from the old sequence's position.

The indexes that let retention delete these stores row by row by time (``rejections_received_at``,
``quarantine_blocked_at``, ``dead_letters_failed_at``, ``journey_steps_finished_at``, migration
0021) are not made again: days are dropped whole now.

``journey_steps``' key becomes ``(instance_id, step, entered_at)``; ``entered_at`` is a function
of ``instance_id`` (the instance's, never changed), so it is as unique as before. The
quarantine's unique key becomes ``(source_id, message_id, first_blocked_at)``; the insert reads
``first_blocked_at`` from the message's row under a lock per message
(``headwater.protocols.records.quarantine``), so a message still has one row.

Revision ID: 0025
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from alembic import op
from sqlalchemy import Connection, text

from headwater.storage.migrations import execute_script

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

_AHEAD_DAYS = 7  # the retention task keeps the same horizon (headwater.storage.days)


class _Table(NamedTuple):
    """One table converted: its day column, whether ``id`` is its identity, its primary key
    and unique key as they were (each gains the day column), the indexes and foreign key it
    keeps, and the index retention deleted its rows by (migration 0021, not made again)."""

    name: str
    column: str
    identity: bool
    key: str
    unique: str | None
    kept: str
    retired: str

    def keys(self, *, partitioned: bool) -> str:
        """The keys and indexes of the partitioned table, or of the plain one."""
        day = f", {self.column}" if partitioned else ""
        statements = [
            f"ALTER TABLE {self.name} ADD CONSTRAINT {self.name}_pkey"
            f" PRIMARY KEY ({self.key}{day})",
            self.kept,
        ]
        if self.unique is not None:
            statements.append(
                f"ALTER TABLE {self.name} ADD CONSTRAINT"
                f" {self.name}_{self.unique.replace(', ', '_')}_key UNIQUE ({self.unique}{day})"
            )
        if not partitioned:
            statements.append(self.retired)
        return ";\n".join(statements)


_TABLES = (
    _Table(
        "rejections",
        "received_at",
        True,
        "id",
        None,
        "CREATE INDEX rejections_source_id ON rejections (source_id, id)",
        "CREATE INDEX rejections_received_at ON rejections (workspace_id, received_at)",
    ),
    _Table(
        "quarantine",
        "first_blocked_at",
        True,
        "id",
        "source_id, message_id",
        "CREATE INDEX quarantine_list ON quarantine (workspace_id, status, id)",
        "CREATE INDEX quarantine_blocked_at ON quarantine (workspace_id, blocked_at)",
    ),
    _Table(
        "dead_letters",
        "failed_at",
        True,
        "id",
        None,
        "CREATE INDEX dead_letters_destination ON dead_letters (destination_id, id)",
        "CREATE INDEX dead_letters_failed_at ON dead_letters (destination_id, failed_at)",
    ),
    _Table(
        "journey_steps",
        "entered_at",
        False,
        "instance_id, step",
        None,
        "ALTER TABLE journey_steps ADD CONSTRAINT journey_steps_instance_id_fkey"
        " FOREIGN KEY (instance_id) REFERENCES journey_instances (id) ON DELETE CASCADE;"
        " CREATE INDEX journey_steps_node ON journey_steps (journey_id, version, node_id)",
        "CREATE INDEX journey_steps_finished_at ON journey_steps (journey_id, finished_at)",
    ),
)

# The instance's entry time, which journey steps are partitioned by (a column of their own).
_ENTERED = """
ALTER TABLE journey_steps_unpartitioned ADD COLUMN entered_at timestamptz;
UPDATE journey_steps_unpartitioned s SET entered_at = i.entered_at
FROM journey_instances i WHERE i.id = s.instance_id;
"""


def _partition(table: str, day: date) -> str:
    """The statement creating one UTC day's partition (``<table>_pYYYYMMDD``)."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = start + timedelta(days=1)
    return (
        f"CREATE TABLE {table}_p{day:%Y%m%d} PARTITION OF {table}"
        f" FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    )


def _columns(bind: Connection, table: str) -> str:
    """The columns of ``table``, in order."""
    found = bind.execute(
        text(
            "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute"
            " WHERE attrelid = CAST(:table AS regclass) AND attnum > 0 AND NOT attisdropped"
        ),
        {"table": table},
    )
    return str(found.scalar_one())


def _set_aside(bind: Connection, table: _Table, suffix: str) -> tuple[int, bool] | None:
    """Rename the table out of the way and drop its identity; the sequence's position."""
    position = None
    if table.identity:
        row = bind.execute(text(f"SELECT last_value, is_called FROM {table.name}_id_seq")).one()
        position = (int(row[0]), bool(row[1]))
    op.execute(f"ALTER TABLE {table.name} RENAME TO {table.name}{suffix}")
    if table.identity:
        op.execute(f"ALTER TABLE {table.name}{suffix} ALTER COLUMN id DROP IDENTITY")
    return position


def _finish(
    bind: Connection, table: _Table, suffix: str, position: tuple[int, bool] | None
) -> None:
    """Copy the rows from the set-aside table, drop it, give ids and keys back."""
    columns = _columns(bind, table.name)
    op.execute(f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {table.name}{suffix}")
    op.execute(f"DROP TABLE {table.name}{suffix}")
    if position is not None:
        op.execute(f"ALTER TABLE {table.name} ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY")
        bind.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), :last, :called)"),
            {"last": position[0], "called": position[1]},
        )
    execute_script(table.keys(partitioned=suffix == "_unpartitioned"))


def _days(bind: Connection, table: _Table) -> list[date]:
    """The days holding rows of the set-aside table, and yesterday to a week ahead."""
    stored = bind.execute(
        text(
            f"SELECT DISTINCT ({table.column} AT TIME ZONE 'UTC')::date"
            f" FROM {table.name}_unpartitioned WHERE {table.column} IS NOT NULL"
        )
    )
    today = datetime.now(UTC).date()
    days = {row[0] for row in stored}
    days |= {today + timedelta(days=n) for n in range(-1, _AHEAD_DAYS + 1)}
    return sorted(days)


def upgrade() -> None:
    bind = op.get_bind()
    for table in _TABLES:
        position = _set_aside(bind, table, "_unpartitioned")
        if table.name == "journey_steps":
            execute_script(_ENTERED)
        op.execute(
            f"CREATE TABLE {table.name} (LIKE {table.name}_unpartitioned INCLUDING DEFAULTS"
            f" INCLUDING CONSTRAINTS) PARTITION BY RANGE ({table.column})"
        )
        op.execute(f"ALTER TABLE {table.name} ALTER COLUMN {table.column} SET NOT NULL")
        op.execute(f"CREATE TABLE {table.name}_default PARTITION OF {table.name} DEFAULT")
        for day in _days(bind, table):
            op.execute(_partition(table.name, day))
        _finish(bind, table, "_unpartitioned", position)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(_TABLES):
        position = _set_aside(bind, table, "_partitioned")
        op.execute(
            f"CREATE TABLE {table.name} (LIKE {table.name}_partitioned INCLUDING DEFAULTS"
            " INCLUDING CONSTRAINTS)"
        )
        if table.name == "journey_steps":
            op.execute("ALTER TABLE journey_steps DROP COLUMN entered_at")
        _finish(bind, table, "_partitioned", position)
