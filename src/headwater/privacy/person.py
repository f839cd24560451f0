"""A person as privacy reaches them: every profile and every identifier the identity graph
ties to the one identifier a request names.

A regulation or a subject access request names one ``userId`` or ``anonymousId``; what it
covers is the whole person: the live profile that identifier resolves to, every profile
merged into it, and every identifier those profiles hold (other user ids, anonymous ids,
emails). An identifier the graph does not know is still a person: one with that identifier
and no profile (their events may still be in the log, not yet processed).

>>> person = await person_of(tx, workspace_id=1, subject_type="USER_ID", subject_id="u-1")
>>> person.identifiers
(('anonymous_id', 'a-1'), ('email', 'ann@example.com'), ('user_id', 'u-1'))
"""

from __future__ import annotations

from typing import Final, Literal

import msgspec

from headwater.profiles import lookups
from headwater.storage import Transaction

__all__ = ["Person", "SubjectType", "person_of"]

SubjectType = Literal["USER_ID", "ANONYMOUS_ID"]

_IDENTIFIER_TYPE: Final[dict[str, str]] = {"USER_ID": "user_id", "ANONYMOUS_ID": "anonymous_id"}


class Person(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the identity graph ties to one named identifier, in one workspace.

    ``profile_ids``: the live profile and every profile merged into it (sorted; empty when
    the graph does not know the identifier). ``identifiers``: ``(type, value)`` pairs, the
    named one always among them (sorted)."""

    workspace_id: int
    profile_ids: tuple[str, ...]
    identifiers: tuple[tuple[str, str], ...]

    def values(self, identifier_type: str) -> tuple[str, ...]:
        """The person's identifiers of one type (``user_id``, ``anonymous_id``, ``email``)."""
        return tuple(value for kind, value in self.identifiers if kind == identifier_type)


async def person_of(
    tx: Transaction, *, workspace_id: int, subject_type: SubjectType, subject_id: str
) -> Person:
    """The whole person ``subject_id`` (a user id or an anonymous id) belongs to."""
    named = (_IDENTIFIER_TYPE[subject_type], subject_id)
    (live,) = await lookups.resolve(tx, workspace_id, [named])
    if live is None:
        return Person(workspace_id=workspace_id, profile_ids=(), identifiers=(named,))
    profiles, found = await lookups.family(tx, workspace_id, live)
    return Person(
        workspace_id=workspace_id,
        profile_ids=tuple(profiles),
        identifiers=tuple(sorted({*found, named})),
    )
