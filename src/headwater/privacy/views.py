"""What the management API answers about privacy: the regulations API, in Segment's Public API
shapes (``{"data": ...}``), subject access exports, and retention (times in
:func:`~headwater.spec.format_timestamp`'s form).

Regulation subjects are shown as the id only to a caller who names the id (``subjectId``);
otherwise as the digest Headwater keeps, ``hmac-sha256:<hex>`` (the id itself is not kept)."""

from __future__ import annotations

from typing import Literal, NotRequired

from typing_extensions import TypedDict

__all__ = [
    "CreatedRegulationView",
    "DeletedRegulationView",
    "DestinationStatusView",
    "ExportFilesView",
    "ExportView",
    "PaginationView",
    "RegulationEntryView",
    "RegulationListView",
    "RegulationView",
    "RetentionItemView",
    "RetentionPlanView",
    "RetentionView",
    "RetentionWindowView",
    "StreamStatusView",
    "SuppressedView",
    "SuppressionsView",
    "TargetView",
]


class CreatedRegulationView(TypedDict):
    data: CreatedData


class CreatedData(TypedDict):
    regulateId: str


class DestinationStatusView(TypedDict):
    """One destination's part of a regulation (Segment's ``DestinationStatusV1``);
    ``headwater`` is Headwater's own stores."""

    name: str
    id: str
    status: str
    errString: str
    finishedAt: str


class StreamStatusView(TypedDict):
    id: str
    destinationStatus: list[DestinationStatusView]


class TargetView(TypedDict):
    """A subject's own status (Headwater's addition: a status per subject)."""

    subject: str
    status: str
    errString: str
    finishedAt: str | None
    removed: dict[str, int]


class RegulationBody(TypedDict):
    id: str
    workspaceId: str
    overallStatus: str
    finishedAt: NotRequired[str]
    createdAt: str
    streamStatus: list[StreamStatusView]
    regulationType: str
    subjectType: str
    targets: list[TargetView]


class RegulationData(TypedDict):
    regulation: RegulationBody


class RegulationView(TypedDict):
    data: RegulationData


class RegulationEntryView(TypedDict):
    id: str
    subjectType: str
    subjects: list[str]
    status: str
    createdAt: str
    regulationType: str
    finishedAt: NotRequired[str]


class PaginationView(TypedDict):
    current: str
    next: NotRequired[str | None]
    previous: NotRequired[str | None]
    totalEntries: int


class RegulationListData(TypedDict):
    regulations: list[RegulationEntryView]
    pagination: PaginationView


class RegulationListView(TypedDict):
    data: RegulationListData


class SuppressedView(TypedDict):
    subjectType: str
    subjectIds: list[str]


class SuppressionsData(TypedDict):
    suppressed: list[SuppressedView]
    pagination: PaginationView


class SuppressionsView(TypedDict):
    data: SuppressionsData


class DeletedData(TypedDict):
    status: str


class DeletedRegulationView(TypedDict):
    data: DeletedData


class ExportFilesView(TypedDict):
    """The sizes in bytes of a finished export's files (null before it is done, and once its
    files expired)."""

    json: int | None
    csv: int | None


class ExportView(TypedDict):
    """A subject access export: whom it is about, its state (``failed`` with the ``reason``),
    what each section holds once done, and until when its files can be downloaded."""

    id: int
    subject_type: Literal["USER_ID", "ANONYMOUS_ID"]
    subject_id: str
    status: Literal["queued", "running", "done", "failed"]
    reason: str | None
    requested_by: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    expires_at: str | None
    expired: bool
    counts: dict[str, int] | None
    files: ExportFilesView
    downloads: int
    last_downloaded_at: str | None


class RetentionWindowView(TypedDict):
    """One window: the store, the source it is for (None: the workspace's), its days."""

    store: str
    source_id: int | None
    days: int
    updated_at: str


class RetentionView(TypedDict):
    """A workspace's windows, and the install's default for stores and sources without one
    (None: keep everything)."""

    workspace: str
    default_days: int | None
    windows: list[RetentionWindowView]


class RetentionItemView(TypedDict):
    """One thing retention drops or deletes, in one day partition of a store (``partition``,
    holding the rows from ``start`` to ``end``). ``drop_partition``: the whole day goes;
    ``rows`` counts the workspace's rows in it. ``delete_rows``: the rows of one source
    (``source_id``: events, rejections, quarantine), destination (``destination_id``:
    delivery logs) or journey (``journey_id``: journey history) are deleted from that day, which
    stays for the others."""

    store: str
    action: Literal["drop_partition", "delete_rows"]
    partition: str
    start: str
    end: str
    source_id: int | None
    destination_id: int | None
    journey_id: int | None
    rows: int


class RetentionPlanView(TypedDict):
    """What retention would do now (``dry_run``) or did, for one workspace (every workspace's
    when ``workspace`` is None: the background task's report)."""

    workspace: str | None
    as_of: str
    dry_run: bool
    items: list[RetentionItemView]
    rows: int
