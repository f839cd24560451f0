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

__all__ = ["GroupBy", "Interval", "counts", "follow", "get_event", "latest", "list_rejections"]
