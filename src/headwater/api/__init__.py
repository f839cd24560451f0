"""The HTTP edge: the tracking API and the management API."""

from headwater.api.app import HeadwaterApp, create_app
from headwater.api.runtime import Runtime

__all__ = ["HeadwaterApp", "Runtime", "create_app"]
