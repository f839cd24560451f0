"""Customer journeys: workflows of waits, branches and actions that profiles go through.

What exists so far is the journey document and its node types (pure rules): parsing a draft,
the checks before publishing, and where an instance continues when a live journey changes.
"""

from headwater.journeys.graph import (
    Journey,
    JourneyError,
    parse_journey,
    publish_problems,
    relocate,
)
from headwater.journeys.nodes import NODE_TYPES, NodeType

__all__ = [
    "NODE_TYPES",
    "Journey",
    "JourneyError",
    "NodeType",
    "parse_journey",
    "publish_problems",
    "relocate",
]
