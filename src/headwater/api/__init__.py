"""The HTTP edge: the tracking API, the management API and the Profile API."""

from headwater.api.app import HeadwaterApp, create_app

__all__ = ["HeadwaterApp", "create_app"]
