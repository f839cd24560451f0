"""The governed history as a named SQL relation: the one way into the log that is not the
:class:`~headwater.log.EventLog` interface.

Some reads cannot go through a record-at-a-time interface without losing the database doing
the work: the audience compiler's batch SQL (conditions over event properties, one aggregate
over every profile's events) and, inside the processor's transaction, the reads over many
profiles' events at once (the real-time audience evaluator, the profile rebuild). They join
:data:`GOVERNED_EVENTS`, a relation in the capabilities' database with the columns ``seq``
(the offset), ``partition``, ``workspace_id``, ``source_id``, ``message_id``, ``type``,
``name``, ``user_id``, ``anonymous_id``, ``timestamp``, ``received_at`` and ``payload`` (as
the tracking plans left it), holding every processed entry that no plan blocked.

Every implementation of the log must provide it there. :class:`~headwater.log.PostgresLog`
does with a view over its ``events`` table and the protocols capability's
``governed_payloads`` (migration 0008). A log kept elsewhere (NATS JetStream) provides it as
a projection the processor writes in PostgreSQL as it reads each entry, before the entry's
stages run; the readers only ever ask for entries that some stage already linked (through
``profile_events``), so the projection is never behind them.

Nothing else names the relation: request-time readers (activity, destination replays, the
Profile API) use the interface's reads.
"""

from __future__ import annotations

__all__ = ["GOVERNED_EVENTS"]

GOVERNED_EVENTS = "governed_events"
