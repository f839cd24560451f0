"""The profile tables as relations other capabilities may name in SQL they compose.

The audience capability compiles conditions to SQL that joins profiles, their events and
account links in one statement (the batch recompute, previews; see
:mod:`headwater.audiences.sql`): running a condition through functions of this capability
instead would cost a round trip per step and lose the planner's joins. So this capability
hands out its tables as relations, each a derived table listing the columns it vouches
for, to write where a table name goes:

>>> f"SELECT p.id FROM {PROFILES} p WHERE p.merged_into IS NULL"

PostgreSQL pulls a derived table this simple up into the statement before planning, so a
query over these relations is planned exactly as one over the tables (index predicates
included). Only the columns listed here are part of the contract; the tables behind them
are the profile capability's to change.
"""

from __future__ import annotations

__all__ = ["ACCOUNT_LINKS", "IDENTIFIERS", "PROFILES", "PROFILE_EVENTS"]

PROFILES = "(SELECT id, workspace_id, kind, merged_into, traits, consent FROM profiles)"
"""Every profile, live or merged away (``merged_into`` is the survivor's id, NULL when live);
``traits`` is the stored JSON object ``{key: {"v": value, "t": time, "m": message id}}``;
``consent`` is NULL or ``{"c": {category: bool}, "t": time, "m": message id}``."""

PROFILE_EVENTS = (
    "(SELECT workspace_id, kind, profile_id, message_id, seq, timestamp, type, name"
    " FROM profile_events)"
)
"""Each event's link to its profile (``kind`` ``user`` or ``account``), by its log sequence
number ``seq`` (the governed payload is ``governed_events.seq``); merges move links to the
survivor. Indexed on ``(workspace_id, name, timestamp)`` (with ``profile_id, type, seq``)
where ``coalesce(octet_length(name), 0) <= 2400``, and on ``(profile_id, timestamp,
message_id)``."""

ACCOUNT_LINKS = "(SELECT account_profile_id, user_profile_id FROM account_links)"
"""The user profiles linked to each account profile by group calls."""

IDENTIFIERS = "(SELECT profile_id, type, value, added_at FROM identifiers)"
"""The identifiers each live profile holds (``type``: ``user_id``, ``anonymous_id``,
``email``, ...), with the time each was added."""
