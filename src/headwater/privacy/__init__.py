"""Privacy: forgetting a person (regulations: deletion and suppression), subject access,
consent, PII rules and retention.

Privacy sits above the capabilities whose data it reaches (it erases and exports a person
from each of them through their faces) and below the composition root.
"""

from headwater.privacy.destinations import DestinationForwarder
from headwater.privacy.erase import STORES, erase
from headwater.privacy.erase import erase as erase_from_stores
from headwater.privacy.export import (
    KEEP,
    Download,
    Exporter,
    FileFormat,
    create_export,
    get_export,
    list_exports,
    open_download,
)
from headwater.privacy.forward import NO_FORWARDING, Eraser, Forwarded, Forwarder
from headwater.privacy.job import Regulator
from headwater.privacy.model import MAX_SUBJECTS, REGULATION_TYPES, STATUSES
from headwater.privacy.person import Person, SubjectType, person_of
from headwater.privacy.regulations import (
    cancel_regulation,
    create_regulation,
    get_regulation,
    list_regulations,
    list_suppressions,
)
from headwater.privacy.retention import (
    WindowIn,
    apply_retention,
    get_windows,
    maintain,
    retention_plan,
    set_windows,
)
from headwater.privacy.service import erase_person
from headwater.privacy.task import RetentionTask
from headwater.privacy.views import (
    CreatedRegulationView,
    DeletedRegulationView,
    ExportFilesView,
    ExportView,
    RegulationListView,
    RegulationView,
    RetentionItemView,
    RetentionPlanView,
    RetentionView,
    RetentionWindowView,
    SuppressionsView,
)
from headwater.privacy.windows import Store, Windows

__all__ = [
    "KEEP",
    "MAX_SUBJECTS",
    "NO_FORWARDING",
    "REGULATION_TYPES",
    "STATUSES",
    "STORES",
    "CreatedRegulationView",
    "DeletedRegulationView",
    "DestinationForwarder",
    "Download",
    "Eraser",
    "ExportFilesView",
    "ExportView",
    "Exporter",
    "FileFormat",
    "Forwarded",
    "Forwarder",
    "Person",
    "RegulationListView",
    "RegulationView",
    "Regulator",
    "RetentionItemView",
    "RetentionPlanView",
    "RetentionTask",
    "RetentionView",
    "RetentionWindowView",
    "Store",
    "SubjectType",
    "SuppressionsView",
    "WindowIn",
    "Windows",
    "apply_retention",
    "cancel_regulation",
    "create_export",
    "create_regulation",
    "erase",
    "erase_from_stores",
    "erase_person",
    "get_export",
    "get_regulation",
    "get_windows",
    "list_exports",
    "list_regulations",
    "list_suppressions",
    "maintain",
    "open_download",
    "person_of",
    "retention_plan",
    "set_windows",
]
