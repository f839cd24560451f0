"""Seeing the data: stored events, live feeds, rejections and counts."""

from headwater.activity.service import (
    GroupBy,
    Interval,
    counts,
    follow,
    get_event,
    latest,
    list_rejections,
)
from headwater.activity.views import CountView, EventView, RejectionView

__all__ = [
    "CountView",
    "EventView",
    "GroupBy",
    "Interval",
    "RejectionView",
    "counts",
    "follow",
    "get_event",
    "latest",
    "list_rejections",
]
