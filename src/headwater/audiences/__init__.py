"""Audiences and computed traits: the condition language, evaluation in real time (a
pipeline stage after profiles) and in batch (SQL), list audiences (members set explicitly),
the change log that feeds activation."""

from headwater.audiences.lists import MAX_MEMBERS, REFERENCES, change_members, journey_change
from headwater.audiences.reads import profile_traits
from headwater.audiences.relay import Enqueue, Relay
from headwater.audiences.scheduler import Scheduler
from headwater.audiences.service import (
    Interval,
    change_totals,
    changes,
    create,
    delete,
    get,
    list_computations,
    members,
    memberships,
    preview,
    recompute,
    recompute_due,
    recompute_order,
    update,
)
from headwater.audiences.stage import AudienceStage
from headwater.audiences.store import forget_profiles
from headwater.audiences.values import decode as decode_json
from headwater.audiences.values import encode as encode_json
from headwater.audiences.views import (
    ChangesPage,
    ChangeTotalView,
    ChangeView,
    ComputationDeletedView,
    ComputationView,
    Exact,
    MemberChangeView,
    MembersChangedView,
    MembershipsView,
    MembersPage,
    MemberView,
    PreviewView,
    RecomputedView,
    RecomputeStepView,
)

__all__ = [
    "MAX_MEMBERS",
    "REFERENCES",
    "AudienceStage",
    "ChangeTotalView",
    "ChangeView",
    "ChangesPage",
    "ComputationDeletedView",
    "ComputationView",
    "Enqueue",
    "Exact",
    "Interval",
    "MemberChangeView",
    "MemberView",
    "MembersChangedView",
    "MembersPage",
    "MembershipsView",
    "PreviewView",
    "RecomputeStepView",
    "RecomputedView",
    "Relay",
    "Scheduler",
    "change_members",
    "change_totals",
    "changes",
    "create",
    "decode_json",
    "delete",
    "encode_json",
    "forget_profiles",
    "get",
    "journey_change",
    "list_computations",
    "members",
    "memberships",
    "preview",
    "profile_traits",
    "recompute",
    "recompute_due",
    "recompute_order",
    "update",
]
