"""Customer journeys: workflows of waits, branches and actions that profiles go through.

Built so far: the journey document and its node types (pure rules: parsing a draft, the checks
before publishing, where an instance continues when a live journey changes), and journeys as
the management API handles them (drafts, versions, states, files), and the runtime: the
processor's stage (entries, exits, woken waits, goals), the runner (delays, waits, splits,
sends) and the caller (webhooks), instances, steps and calls in PostgreSQL.
"""

from headwater.journeys.calls import Caller
from headwater.journeys.entries import AudienceEntries
from headwater.journeys.graph import (
    Journey,
    JourneyError,
    parse_journey,
    publish_problems,
    relocate,
)
from headwater.journeys.instances import forget_profiles
from headwater.journeys.nodes import NODE_TYPES, Duration, NodeType
from headwater.journeys.reports import journey_stats, profile_journeys
from headwater.journeys.runner import Runner
from headwater.journeys.service import (
    archive,
    create_journey,
    delete_journey,
    export_journey,
    get_journey,
    get_version,
    import_journey,
    list_journeys,
    list_versions,
    node_types,
    pause,
    publish,
    read_file,
    resume,
    save_draft,
    update_journey,
)
from headwater.journeys.stage import JourneyStage
from headwater.journeys.starts import START_LIMIT, start
from headwater.journeys.store import journey_workspaces
from headwater.journeys.tables import STEP_DAYS
from headwater.journeys.testrun import TrialSample, run_sample
from headwater.journeys.views import (
    InstanceView,
    JourneyDetailView,
    JourneyFileView,
    JourneyStatsView,
    JourneyVersionDetailView,
    JourneyVersionView,
    JourneyView,
    NodeTypeView,
    ProblemView,
    StartedView,
    TrialRunView,
)

__all__ = [
    "NODE_TYPES",
    "START_LIMIT",
    "STEP_DAYS",
    "AudienceEntries",
    "Caller",
    "Duration",
    "InstanceView",
    "Journey",
    "JourneyDetailView",
    "JourneyError",
    "JourneyFileView",
    "JourneyStage",
    "JourneyStatsView",
    "JourneyVersionDetailView",
    "JourneyVersionView",
    "JourneyView",
    "NodeType",
    "NodeTypeView",
    "ProblemView",
    "Runner",
    "StartedView",
    "TrialRunView",
    "TrialSample",
    "archive",
    "create_journey",
    "delete_journey",
    "export_journey",
    "forget_profiles",
    "get_journey",
    "get_version",
    "import_journey",
    "journey_stats",
    "journey_workspaces",
    "list_journeys",
    "list_versions",
    "node_types",
    "parse_journey",
    "pause",
    "profile_journeys",
    "publish",
    "publish_problems",
    "read_file",
    "relocate",
    "resume",
    "run_sample",
    "save_draft",
    "start",
    "update_journey",
]
