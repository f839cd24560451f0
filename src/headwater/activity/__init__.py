"""Seeing the data: stored events, live feeds, rejections and counts."""

from headwater.activity.service import (
    GroupBy,
    Interval,
    LiveItem,
    counts,
    get_event,
    latest,
    list_rejections,
    watch,
)
from headwater.activity.views import CountView, EventView, FateView, RejectionView

__all__ = [
    "CountView",
    "EventView",
    "FateView",
    "GroupBy",
    "Interval",
    "LiveItem",
    "RejectionView",
    "counts",
    "get_event",
    "latest",
    "list_rejections",
    "watch",
]
