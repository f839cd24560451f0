"""Routing: which destinations get each event, in what shape (pure rules), the processor's
routing stage that enqueues the result, and replay (routing again, or dead letters requeued).

What other packages may use: the routing stage (for the processor) and replay (for the
management API and the CLI).
"""

from headwater.routing.replay import replay
from headwater.routing.stage import RoutingStage

__all__ = ["RoutingStage", "replay"]
