"""Audiences and computed traits: the condition language, evaluation in real time (a
pipeline stage after profiles) and in batch (SQL), the change log that feeds activation."""

from headwater.audiences.service import (
    create,
    delete,
    get,
    list_computations,
    members,
    memberships,
    preview,
    recompute,
    recompute_due,
    update,
)
from headwater.audiences.stage import AudienceStage

__all__ = [
    "AudienceStage",
    "create",
    "delete",
    "get",
    "list_computations",
    "members",
    "memberships",
    "preview",
    "recompute",
    "recompute_due",
    "update",
]
