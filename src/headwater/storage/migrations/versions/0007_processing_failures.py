"""Processing failures (log entries a processor stage failed on alone, kept until a replay
passes), and the processor's indexes on text from events keyed by a hash of that text.

A btree index row holds at most about 2,700 bytes: an event name or a property path longer
than that (a 3,000-character property key) could not be written to the tracking plans'
tables, and the batch holding it failed. Their unique keys now index ``md5()`` of the event
name and of the path; reads filter on the columns themselves. The index of batch recomputes
on ``profile_events`` (``profile_events_activity``) keeps its columns, for index-only scans,
and leaves out the events whose name is longer than 2,400 bytes (the audience queries say so
where their conditions imply it, see ``headwater.audiences.sql``).

Revision ID: 0007
"""

from __future__ import annotations

from headwater.storage.migrations import execute_script

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_UP = """
CREATE TABLE processing_failures (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id integer NOT NULL,
    source_id integer NOT NULL,
    message_id text COLLATE "C" NOT NULL,
    log_partition smallint NOT NULL,
    log_offset bigint NOT NULL,
    stage text NOT NULL,
    reason text NOT NULL,
    status text NOT NULL CHECK (status IN ('open', 'resolved')),
    attempts integer NOT NULL DEFAULT 1,
    first_failed_at timestamptz NOT NULL DEFAULT now(),
    failed_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    UNIQUE (log_partition, log_offset)
);
CREATE INDEX processing_failures_list ON processing_failures (workspace_id, status, id);
ALTER TABLE observed_schema DROP CONSTRAINT observed_schema_pkey;
CREATE UNIQUE INDEX observed_schema_key ON observed_schema
    (source_id, event_type, md5(event_name), md5(path), json_type, partition);
ALTER TABLE violation_counts DROP CONSTRAINT violation_counts_pkey;
CREATE UNIQUE INDEX violation_counts_key ON violation_counts
    (source_id, bucket, event_type, md5(event_name), violation, md5(path), partition);
ALTER TABLE violation_samples DROP CONSTRAINT violation_samples_pkey;
CREATE UNIQUE INDEX violation_samples_key ON violation_samples
    (source_id, event_type, md5(event_name), violation, md5(path));
DROP INDEX profile_events_activity;
CREATE INDEX profile_events_activity ON profile_events (workspace_id, name, timestamp)
    INCLUDE (profile_id, type, seq) WHERE coalesce(octet_length(name), 0) <= 2400
"""

_DOWN = """
DROP INDEX profile_events_activity;
CREATE INDEX profile_events_activity ON profile_events (workspace_id, name, timestamp)
    INCLUDE (profile_id, type, seq);
DROP INDEX violation_samples_key;
ALTER TABLE violation_samples
    ADD PRIMARY KEY (source_id, event_type, event_name, violation, path);
DROP INDEX violation_counts_key;
ALTER TABLE violation_counts
    ADD PRIMARY KEY (source_id, bucket, event_type, event_name, violation, path, partition);
DROP INDEX observed_schema_key;
ALTER TABLE observed_schema
    ADD PRIMARY KEY (source_id, event_type, event_name, path, json_type, partition);
DROP TABLE processing_failures
"""


def upgrade() -> None:
    execute_script(_UP)


def downgrade() -> None:
    execute_script(_DOWN)
