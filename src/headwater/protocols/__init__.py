"""Tracking plans (Segment Protocols): plans and their versions, enforcement in the processor,
violations, the quarantine, observed schemas and typed code generation."""

from headwater.protocols.codegen import generate
from headwater.protocols.formats import dump
from headwater.protocols.plan import Enforcement, PlanDocument, PlanError, parse_plan
from headwater.protocols.quality import (
    draft_plan,
    forward,
    observed_fields,
    observed_schema,
    quarantine,
    replay,
    violations,
)
from headwater.protocols.records import forget_records, governed
from headwater.protocols.service import (
    connect_source,
    create_plan,
    delete_plan,
    diff,
    disconnect_source,
    export_plan,
    get_plan,
    import_plan,
    list_connections,
    list_plans,
    read_document,
    update_plan,
    versions,
)
from headwater.protocols.stage import ProtocolStage
from headwater.protocols.store import (  # retention: each owner forgets its own rows
    forget_governed,
    governed_between,
)
from headwater.protocols.tables import QUARANTINE_DAYS
from headwater.protocols.views import (
    ConnectionView,
    DocumentView,
    ObservedEventView,
    ObservedFieldView,
    PlanDiffView,
    PlanView,
    PlanWithDocumentView,
    QuarantinedView,
    ResentView,
    VersionView,
    ViolationsView,
)

__all__ = [
    "QUARANTINE_DAYS",
    "ConnectionView",
    "DocumentView",
    "Enforcement",
    "ObservedEventView",
    "ObservedFieldView",
    "PlanDiffView",
    "PlanDocument",
    "PlanError",
    "PlanView",
    "PlanWithDocumentView",
    "ProtocolStage",
    "QuarantinedView",
    "ResentView",
    "VersionView",
    "ViolationsView",
    "connect_source",
    "create_plan",
    "delete_plan",
    "diff",
    "disconnect_source",
    "draft_plan",
    "dump",
    "export_plan",
    "forget_governed",
    "forget_records",
    "forward",
    "generate",
    "get_plan",
    "governed",
    "governed_between",
    "import_plan",
    "list_connections",
    "list_plans",
    "observed_fields",
    "observed_schema",
    "parse_plan",
    "quarantine",
    "read_document",
    "replay",
    "update_plan",
    "versions",
    "violations",
]
