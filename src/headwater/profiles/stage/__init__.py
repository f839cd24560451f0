"""The profile stage of the processor: identity resolution and profiles, over a log batch.

For each workspace in the batch:

1. take transaction locks on every identifier the batch mentions, in one global order, so
   that racing processors never create two profiles for one person; then skip events already
   linked to a profile (a redelivered batch changes nothing);
2. load the profiles owning those identifiers (``FOR UPDATE``; owners read again if a merge
   moved one while the lock was awaited) into an in-memory :class:`~headwater.identity.Graph`,
   apply the events in canonical order ``(timestamp, messageId)``, and merge traits
   last-write-wins;
3. an event older than the newest event already applied to the profiles it touches cannot be
   applied on top: its whole component is locked (every identifier it mentions) and rebuilt
   from the stored events in canonical order, so the final graph does not depend on arrival
   order (one rebuild per batch, for all its late events). Components of more than the
   stage's ``rebuild_limit`` stored events (an identifier shared by many people) are not
   rebuilt: their late events are applied in arrival order, logged and counted in
   ``headwater_identity_rebuilds_total{outcome="too_large"}``;
4. write back profiles, identifiers, merges (and redirect merged-away profiles' events and
   account links), and link each event to its profile.

Steps 1, 2 and 4 run twice. First, on a connection of its own and without waiting for any
lock, for the events connected to nothing another transaction holds; that transaction commits
at once (:func:`.locking.uncontended`). Then, in the processor's transaction and waiting
for the locks, for the rest (and step 3).

Users are resolved from every identifier but ``group_id``: a group call's ``groupId`` names an
account, and matching users on it would merge everyone in one company. Group calls build
account profiles (kind ``account``, identified by ``group_id``) with the group's traits, and
link the user's profile to the account.

The modules, by concept: :mod:`.orchestration` (:class:`ProfileStage`, the steps above in
order), :mod:`.items` (an event as the stage applies it, and new profile ids),
:mod:`.locking` (steps 1 and 2, and the early side commit), :mod:`.rebuild` (step 3) and
:mod:`.writer` (step 4).
"""

from headwater.profiles.stage.items import profile_id
from headwater.profiles.stage.orchestration import REBUILD_LIMIT, IdentityMetrics, ProfileStage

__all__ = ["REBUILD_LIMIT", "IdentityMetrics", "ProfileStage", "profile_id"]
