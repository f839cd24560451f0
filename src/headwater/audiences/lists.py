"""List audiences: audiences whose members are added and removed explicitly, by the API and
the CLI (:func:`change_members`) and by journeys (:func:`journey_change`), never computed.

A list audience's definition is ``{"version": 1, "list": true}``. Its members are rows of
``computed_values`` like any audience's, and each entry and exit is a row of
``audience_changes`` (cause ``manual`` from the API and the CLI, ``journey`` from a journey
step), so the members list, the counts, the history and the activation relay (destinations,
journeys triggered by ``audience_entered`` / ``audience_exited``) treat them as they treat a
computed audience's. Adding a member already in, or removing one not in, changes nothing.

>>> await change_members(engine, workspace="default", key="vips", action="add",
...                      members=[("user_id", "ada"), ("email", "nobody@example.com")])
{'key': 'vips', 'added': 1, 'removed': 0, 'unchanged': 0,
 'results': [{'index': 0, 'profile_id': 'prf_...', 'result': 'added'}],
 'problems': [{'path': 'members.1', 'message': 'no profile with email nobody@example.com'}]}
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final, Literal

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import workspaces
from headwater.audiences import store
from headwater.audiences.conditions import is_list
from headwater.audiences.views import MemberChangeView, MembersChangedView
from headwater.errors import Conflict, NotFound
from headwater.profiles import lookups
from headwater.storage import Transaction, begin

__all__ = ["MAX_MEMBERS", "REFERENCES", "Action", "change_members", "journey_change"]

MAX_MEMBERS: Final = 1000
"""The most members one request adds or removes."""

REFERENCES: Final = ("profile_id", "user_id", "anonymous_id", "email")
"""How a request names a member: a profile id (a merged-away one names the profile it was
merged into), or an identifier of the identity graph."""

Action = Literal["add", "remove"]
_DONE: Final = {"add": "added", "remove": "removed"}


async def _list(tx: Transaction, workspace_id: int, key: str) -> store.Computation | None:
    """The audience ``key``, or None. Not locked: a member's row names its computation, so a
    delete waits for the transaction that adds one (or the add fails, the audience gone)."""
    found = await store.computations(tx, workspace_id, kind="audience", key=key)
    return found[0] if found else None


def _not_a_list(key: str) -> str:
    return f"audience {key} is computed from its condition: only a list audience's members are set"


async def _apply(
    tx: Transaction,
    computation_id: int,
    action: Action,
    members: Sequence[tuple[str, str | None]],
    *,
    at: datetime,
    cause: str,
) -> set[str]:
    """Add or remove ``(profile_id, message_id)`` members; the profile ids that changed."""
    rows = [(computation_id, pid, message) for pid, message in members]
    apply = store.add_members if action == "add" else store.remove_members
    return {pid for _, pid in await apply(tx, rows, at=at, cause=cause)}


async def change_members(
    engine: AsyncEngine,
    *,
    workspace: str,
    key: str,
    action: Action,
    members: Sequence[tuple[str, str]],
) -> MembersChangedView:
    """Add (or remove) the members named by ``(reference, value)`` (see :data:`REFERENCES`),
    cause ``manual``. Those named by nothing known are left out, each with a problem; the
    others are applied all the same. 404 for an unknown audience, 409 for a computed one."""
    wanted = [
        (kind, value.strip().lower() if kind == "email" else value) for kind, value in members
    ]
    async with engine.begin() as connection:
        tx = await begin(connection)
        ws = await workspaces.workspace_id(tx, workspace)
        audience = await _list(tx, ws, key)
        if audience is None:
            raise NotFound("audience_not_found", f"no audience {key}")
        if not is_list(audience.definition):
            raise Conflict("not_a_list", _not_a_list(key))
        found = await lookups.resolve(tx, ws, wanted)
        known = [(i, pid) for i, pid in enumerate(found) if pid is not None]
        changed = await _apply(
            tx,
            audience.id,
            action,
            [(pid, None) for _, pid in known],
            at=datetime.now(UTC),
            cause="manual",
        )
    results: list[MemberChangeView] = []
    for index, pid in known:
        result = _DONE[action] if pid in changed else "unchanged"
        changed.discard(pid)  # the same profile named twice changes once
        results.append({"index": index, "profile_id": pid, "result": result})
    done = sum(1 for r in results if r["result"] != "unchanged")
    return {
        "key": key,
        "added": done if action == "add" else 0,
        "removed": done if action == "remove" else 0,
        "unchanged": len(results) - done,
        "results": results,
        "problems": [
            {"path": f"members.{i}", "message": f"no profile with {kind} {value}"}
            for i, ((kind, value), pid) in enumerate(zip(members, found, strict=True))
            if pid is None
        ],
    }


async def journey_change(
    tx: Transaction,
    *,
    workspace_id: int,
    key: str,
    profile_id: str,
    action: Action,
    message_id: str,
    at: datetime,
) -> tuple[bool, str]:
    """A journey step's change, in the step's transaction, cause ``journey`` with the step's
    ``message_id``: ``(True, what it did)``, or ``(False, why not)`` when the audience is
    missing or is not a list. Exactly once: a step run again (same ``message_id``) whose
    change is recorded already changes nothing more, whatever happened to the list since."""
    audience = await _list(tx, workspace_id, key)
    if audience is None:
        return False, f"no audience {key}"
    if not is_list(audience.definition):
        return False, _not_a_list(key)
    if await store.change_recorded(tx, audience.id, message_id):
        return True, f"done already ({_DONE[action]})"
    changed = await _apply(
        tx, audience.id, action, [(profile_id, message_id)], at=at, cause="journey"
    )
    if changed:
        return True, f"{_DONE[action]} {'to' if action == 'add' else 'from'} {key}"
    return True, f"already {'in' if action == 'add' else 'not in'} {key}"
