"""A batch of the event log as the processor's stages hand it on, in one transaction.

>>> batch = Batch(entries)
>>> await ProtocolStage().process(batch, connection)     # batch.entries: what goes on
>>> await ProfileStage().process(batch, connection)      # batch.profile_of(entry)
>>> batch.touched(workspace_id)                          # {profile id: newest message id}

Each stage reads what earlier stages learnt from the batch instead of reading it back from
their tables: the tracking-plan stage leaves the entries that go on in :attr:`Batch.entries`
(governed: properties omitted, violations attached) and the ones it blocked in
:attr:`Batch.blocked`; the profile stage records the user profile each event was linked to
(:meth:`Batch.linked`), current after the batch's merges, which the audience stage evaluates.

It lives below the capabilities (and above the log), so that every stage may take it
without a capability importing the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from headwater.log import LogEntry

__all__ = ["Batch"]


class Batch:
    """One batch of log entries and what the stages learnt of it; see the module docstring.

    Stages change it in place: a stage that blocks or changes entries sets
    :attr:`entries`; the profile stage calls :meth:`linked` once per workspace."""

    def __init__(self, entries: Sequence[LogEntry]) -> None:
        self.entries: Sequence[LogEntry] = entries
        """The entries still going on, in log order."""
        self.blocked: list[LogEntry] = []
        """The entries a stage stopped (tracking plans that block), in the order blocked."""
        self._profiles: dict[int, Mapping[str, str]] = {}

    def block(self, entries: Iterable[LogEntry]) -> None:
        """Record ``entries`` as stopped here (they are no longer in :attr:`entries`)."""
        self.blocked.extend(entries)

    def linked(self, workspace_id: int, profiles: Mapping[str, str]) -> None:
        """Record the user profile of the workspace's events: message id -> profile id, each
        a live profile as the profile stage leaves it (events with no identifier have none)."""
        self._profiles[workspace_id] = profiles

    def profile_of(self, entry: LogEntry) -> str | None:
        """The user profile ``entry`` was linked to; None before the profile stage, or when
        the event names nobody."""
        return self._profiles.get(entry.workspace_id, {}).get(entry.message_id)

    def touched(self, workspace_id: int) -> dict[str, str]:
        """The user profiles the workspace's entries were linked to: profile id -> the newest
        of its messages in the batch (by timestamp, then message id), the cause a change of
        the profile records."""
        profiles = self._profiles.get(workspace_id)
        if not profiles:
            return {}
        newest: dict[str, tuple[datetime, str]] = {}
        for entry in self.entries:
            if entry.workspace_id != workspace_id:
                continue
            pid = profiles.get(entry.message_id)
            if pid is not None:
                key = (entry.timestamp, entry.message_id)
                known = newest.get(pid)
                if known is None or known < key:
                    newest[pid] = key
        return {pid: key[1] for pid, key in newest.items()}
