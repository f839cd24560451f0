"""The profile stage's writer: the identity graph after a batch (or a rebuild) turned into
rows of profiles, identifiers, mentions, merges and event links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from headwater.identity import Graph, Identifier, TraitValue, merge_profiles, merge_traits
from headwater.profiles import store
from headwater.profiles.consent import newer, newest
from headwater.profiles.stage.items import Item
from headwater.spec import parse_timestamp
from headwater.storage import Transaction

__all__ = ["Writer", "Written"]


def _stored_traits(traits: dict[str, TraitValue]) -> dict[str, Any]:
    return {
        key: {"v": t.value, "t": t.updated_at.isoformat(), "m": t.message_id}
        for key, t in traits.items()
    }


def _trait_values(stored: dict[str, Any]) -> dict[str, TraitValue]:
    return {key: TraitValue(t["v"], parse_timestamp(t["t"]), t["m"]) for key, t in stored.items()}


class Written(msgspec.Struct):
    """What a write linked: message id -> profile id, and the profiles it merged away (->
    the survivor), so that links read before it can be brought up to date."""

    links: dict[str, str]
    moves: dict[str, str]


class Writer:
    """Turns the graph after a batch (or a replay) into rows."""

    def __init__(
        self,
        tx: Transaction,
        workspace_id: int,
        kind: str,
        before: dict[str, store.ProfileRow],
        graph: Graph,
        *,
        replay: bool = False,
        stored: dict[Identifier, tuple[str, datetime]] | None = None,
        seen: dict[tuple[str, str], tuple[datetime, str]] | None = None,
    ) -> None:
        """``stored``: the identifiers of ``before`` as stored (profile, added at), so that
        only new or moved ones are written; without it, every identifier is. ``seen``: the
        stored newest mention of identifiers, so that only those this write moves forward
        are written (a late event's mentions usually move none)."""
        self.tx, self.workspace_id, self.kind = tx, workspace_id, kind
        self.before, self.graph, self.replay = before, graph, replay
        self.stored = stored or {}
        self.seen = seen or {}
        self.rows: dict[str, store.ProfileRow] = {}
        self.traits: dict[str, dict[str, TraitValue]] = {}
        self.links: list[store.ProfileEvent] = []
        self.strays: list[tuple[str, str, str]] = []
        """(type, value, message id): mentions of identifiers the event's profile does not
        own; a replay reaches the event through them (see :mod:`.rebuild`)."""
        self.newest: dict[tuple[str, str], tuple[datetime, str]] = {}
        """The newest event of this write mentioning each identifier that the event's profile
        does not own (a dropped one, an alias's other reading, a stray). A mention of an
        identifier the event's profile owns needs no row: that profile's last event is at
        least as new, and :meth:`Graph.newest_key` counts the owner's last event."""
        self.origin: dict[Identifier, tuple[str, int | None]] = {}
        """The first event (in canonical order) mentioning each identifier."""

    def _row(self, pid: str, key: tuple[datetime, str], source_id: int) -> store.ProfileRow:
        """``pid``'s row as this write leaves it; a new profile's starts at the event ``key``
        (timestamp, message id) of ``source_id``."""
        row = self.rows.get(pid)
        if row is None:
            old = None if self.replay else self.before.get(pid)
            if old is not None:
                row = msgspec.structs.replace(old, new=False)
            else:
                row = store.ProfileRow(
                    id=pid,
                    kind=self.kind,
                    merged_into=None,
                    merges=0,
                    first_ts=key[0],
                    first_message_id=key[1],
                    first_source_id=source_id,
                    last_ts=key[0],
                    last_message_id=key[1],
                    last_source_id=source_id,
                    traits={},
                    # A rebuild starts its profiles afresh, under ids that may exist.
                    new=not self.replay,
                )
            self.rows[pid] = row
        return row

    def _traits(self, pid: str) -> dict[str, TraitValue]:
        """A profile's traits, parsed from the stored row when first needed: most events set
        none, and a profile they alone touch keeps its stored traits as they are."""
        traits = self.traits.get(pid)
        if traits is None:
            traits = self.traits[pid] = _trait_values(self.rows[pid].traits)
        return traits

    def applied(self, item: Item) -> None:
        event = item.event
        message_id, source_id = event.message_id, item.source_id
        key = (event.timestamp, message_id)
        origin, newest, graph = self.origin, self.newest, self.graph
        pid = graph.profile_of(message_id)
        for identifier in event.mentions:
            if identifier not in origin:
                origin[identifier] = (message_id, source_id)
            if graph.owner(identifier) == pid:
                # The profile's last event accounts for this mention (Graph.newest_key).
                continue
            # An Identifier is a (type, value) tuple: it is its own key here.
            known = newest.get(identifier)
            if known is None or known < key:
                newest[identifier] = key
            if pid is not None:
                self.strays.append((*identifier, message_id))
        if pid is None:
            return  # every identifier was dropped: no profile to link the event to
        row = self._row(pid, key, source_id)
        if key < (row.first_ts, row.first_message_id):
            row.first_ts, row.first_message_id, row.first_source_id = (*key, source_id)
        if key > (row.last_ts, row.last_message_id):
            row.last_ts, row.last_message_id, row.last_source_id = (*key, source_id)
        if item.consent is not None:
            row.consent = newer(row.consent, item.consent, event.timestamp, message_id)
        if item.traits:
            self.traits[pid] = merge_traits(
                self._traits(pid),
                item.traits,
                timestamp=event.timestamp,
                message_id=message_id,
            )
        self.links.append(
            store.ProfileEvent(
                message_id,
                pid,
                item.seq,
                event.timestamp,
                item.type,
                item.name,
                event.mentions,
                event.alias_previous_id,
            )
        )

    async def flush(self) -> Written:
        graph = self.graph
        moves: dict[str, str] = {}
        for old in self.before:
            if not graph.is_live(old):
                target = self.graph.resolve_id(old) or self._retired_target(old)
                if target is not None and target != old:
                    moves[old] = target
        for old, target in moves.items():
            merged = self.before[old]
            survivor = self._row(
                target, (merged.first_ts, merged.first_message_id), merged.first_source_id or 0
            )
            gone = msgspec.structs.replace(merged, merged_into=target)
            self.rows[old] = gone
            if self.replay:
                # A replay recomputes traits and first events from every event of the
                # component; what the vanished profile stored came from a graph the replay
                # corrects (an event that no longer belongs to it), so it is not merged in.
                continue
            self.traits[target] = merge_profiles(
                self._traits(target), _trait_values(self.before[old].traits)
            )
            survivor.consent = newest(survivor.consent, merged.consent)
            if (gone.first_ts, gone.first_message_id) < (
                survivor.first_ts,
                survivor.first_message_id,
            ):
                survivor.first_ts, survivor.first_message_id = gone.first_ts, gone.first_message_id
                survivor.first_source_id = gone.first_source_id
        for pid, row in self.rows.items():
            if graph.is_live(pid):
                row.merges = graph.merges_of(pid)
                if pid in self.traits:
                    row.traits = _stored_traits(self.traits[pid])
        await store.save_profiles(self.tx, self.workspace_id, self.rows.values())
        await self._identifiers()
        await store.save_profile_events(
            self.tx, self.workspace_id, self.kind, self.links, moving=self.replay
        )
        seen = self.seen
        await store.save_mentions(
            self.tx,
            self.workspace_id,
            self.kind,
            {i: key for i, key in self.newest.items() if i not in seen or seen[i] < key},
        )
        await store.save_strays(self.tx, self.workspace_id, self.kind, self.strays)
        await store.redirect(self.tx, moves)
        await store.insert_merges(
            self.tx,
            self.workspace_id,
            self.kind,
            [(m.survivor, m.merged, m.message_id, m.timestamp) for m in self.graph.history],
        )
        return Written({link.message_id: link.profile_id for link in self.links}, moves)

    def _retired_target(self, old: str) -> str | None:
        """A profile a replay made vanish: its first event now belongs to this profile."""
        return self.graph.profile_of(self.before[old].first_message_id)

    async def _identifiers(self) -> None:
        rows: list[store.StoredIdentifier] = []
        new: list[store.StoredIdentifier] = []
        owned: set[Identifier] = set()
        stored = self.stored
        for pid in self.rows:
            if not self.graph.is_live(pid):
                continue
            identifiers = self.graph.identifiers_of(pid)
            if self.replay:
                owned.update(identifiers)
            for identifier, added in identifiers.items():
                known = stored.get(identifier)
                if known == (pid, added):
                    continue
                message_id, source_id = self.origin.get(
                    identifier, (self.rows[pid].first_message_id, self.rows[pid].first_source_id)
                )
                # Outside a rebuild, every stored owner of what the batch mentions is loaded:
                # an identifier they do not hold is one nobody holds.
                (rows if known is not None or self.replay else new).append(
                    store.StoredIdentifier(
                        identifier.type, identifier.value, pid, added, message_id, source_id
                    )
                )
        await store.save_identifiers(self.tx, self.workspace_id, self.kind, rows, new=new)
        if self.replay:
            stale = [
                (i.type, i.value)
                for i in await store.profile_identifiers(self.tx, self.before)
                if Identifier(i.type, i.value) not in owned
            ]
            await store.delete_identifiers(self.tx, self.workspace_id, self.kind, stale)
