"""What the management API answers about privacy: subject access exports."""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict

__all__ = ["ExportFilesView", "ExportView"]


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
