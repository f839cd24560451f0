"""Privacy: forgetting a person (regulations: deletion and suppression), subject access,
consent, PII rules and retention.

Privacy sits above the capabilities whose data it reaches (it erases and exports a person
from each of them through their faces) and below the composition root.
"""

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
from headwater.privacy.person import Person, SubjectType, person_of
from headwater.privacy.views import ExportFilesView, ExportView

__all__ = [
    "KEEP",
    "Download",
    "ExportFilesView",
    "ExportView",
    "Exporter",
    "FileFormat",
    "Person",
    "SubjectType",
    "create_export",
    "get_export",
    "list_exports",
    "open_download",
    "person_of",
]
