"""Regulations as Segment's Public API states them, and the rules that decide them (pure).

A regulation names up to :data:`MAX_SUBJECTS` subjects (user ids or anonymous ids) and one type,
which says what happens to each subject's person (every identifier the identity graph ties to
the id, ``privacy.person``):

================================  ========  =====  ===================  ==========
type                              suppress  erase  forward to vendors   unsuppress
================================  ========  =====  ===================  ==========
``SUPPRESS_WITH_DELETE``          yes       yes    yes
``SUPPRESS_WITH_DELETE_INTERNAL`` yes       yes    no
``SUPPRESS_ONLY``                 yes
``DELETE_ONLY``                             yes    yes
``DELETE_INTERNAL``                         yes    no
``UNSUPPRESS``                                                         yes
================================  ========  =====  ===================  ==========

"Internal" is Headwater's own stores (Segment's: its own systems). Segment's
``DELETE_ARCHIVE_ONLY`` (its archive of raw data) has no separate store here: the log is
erased with the rest, so the type is refused rather than half done.

Statuses are Segment's: a regulation is ``INITIALIZED`` until its job first runs, ``RUNNING``
until every subject ends, then ``FINISHED`` (every subject and every destination done),
``FAILED`` (none done), or ``PARTIAL_SUCCESS`` (some done, some failed).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Final, Literal

from headwater.errors import BadRequest

__all__ = [
    "CREATE_TYPES",
    "MAX_SUBJECTS",
    "MAX_SUBJECT_CHARS",
    "PENDING",
    "REGULATION_TYPES",
    "START_DELAY",
    "STATUSES",
    "SUBJECT_KINDS",
    "SUBJECT_TYPES",
    "Request",
    "erases",
    "forwards",
    "internal_status",
    "new_regulation_id",
    "overall",
    "parse_request",
    "subject_digest",
    "suppresses",
    "target_status",
    "unsuppresses",
]

REGULATION_TYPES: Final = (
    "DELETE_ARCHIVE_ONLY",
    "DELETE_INTERNAL",
    "DELETE_ONLY",
    "SUPPRESS_ONLY",
    "SUPPRESS_WITH_DELETE",
    "SUPPRESS_WITH_DELETE_INTERNAL",
    "UNSUPPRESS",
)
"""Every type Segment names (its list answers may carry any)."""

CREATE_TYPES: Final = frozenset(REGULATION_TYPES) - {"DELETE_ARCHIVE_ONLY"}
"""The types a regulation may be created with (see the module)."""

SUBJECT_TYPES: Final = ("USER_ID", "ANONYMOUS_ID")
"""Segment's ``USER_ID``, and ``ANONYMOUS_ID`` (Headwater's: a person known only by a device).
Segment's ``OBJECT_ID`` (cloud sources' objects) has no counterpart here."""

STATUSES: Final = (
    "FAILED",
    "FINISHED",
    "INITIALIZED",
    "INVALID",
    "NOT_SUPPORTED",
    "PARTIAL_SUCCESS",
    "RUNNING",
)
PENDING: Final = frozenset({"INITIALIZED", "RUNNING"})

SUBJECT_KINDS: Final = {"USER_ID": "user_id", "ANONYMOUS_ID": "anonymous_id"}
"""The identity graph's kind of each subject type (what a subject's digest is taken of)."""

START_DELAY: Final = timedelta(seconds=5)
"""How long a new regulation waits before its job starts: the time to delete one made by
mistake (only an ``INITIALIZED`` regulation can be deleted, as at Segment). The named ids of
a suppressing regulation are suppressed at once all the same."""

MAX_SUBJECTS: Final = 5000
"""Segment's limit of ids per call."""
MAX_SUBJECT_CHARS: Final = 512
"""The longest identifier the identity graph holds (identity rules' default ``max_length``)."""

_ID_ALPHABET: Final = string.ascii_letters + string.digits


def new_regulation_id() -> str:
    """A new regulation id: 27 random letters and digits, the form of Segment's ids."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(27))


def suppresses(regulation_type: str) -> bool:
    return regulation_type in (
        "SUPPRESS_ONLY",
        "SUPPRESS_WITH_DELETE",
        "SUPPRESS_WITH_DELETE_INTERNAL",
    )


def erases(regulation_type: str) -> bool:
    return regulation_type in (
        "SUPPRESS_WITH_DELETE",
        "SUPPRESS_WITH_DELETE_INTERNAL",
        "DELETE_ONLY",
        "DELETE_INTERNAL",
    )


def forwards(regulation_type: str) -> bool:
    """Is the deletion forwarded to the destinations that can delete (not "internal")?"""
    return regulation_type in ("SUPPRESS_WITH_DELETE", "DELETE_ONLY")


def unsuppresses(regulation_type: str) -> bool:
    return regulation_type == "UNSUPPRESS"


class Request:
    """A create request, checked: its type, subject type and distinct subject ids in order."""

    __slots__ = ("regulation_type", "subject_ids", "subject_type")

    def __init__(
        self, regulation_type: str, subject_type: Literal["USER_ID", "ANONYMOUS_ID"], ids: list[str]
    ) -> None:
        self.regulation_type = regulation_type
        self.subject_type: Literal["USER_ID", "ANONYMOUS_ID"] = subject_type
        self.subject_ids = ids


def parse_request(body: Any) -> Request:
    """Segment's create body (``regulationType``, ``subjectType``, ``subjectIds``), checked;
    ``BadRequest`` naming what is wrong. Repeated ids count once."""
    if not isinstance(body, dict):
        raise BadRequest("invalid_body", "the body must be a JSON object")
    regulation_type = body.get("regulationType")
    if regulation_type not in CREATE_TYPES:
        allowed = ", ".join(sorted(CREATE_TYPES))
        raise BadRequest(
            "invalid_regulation_type",
            f"regulationType must be one of {allowed} (got {_shown(regulation_type)})",
        )
    subject_type = body.get("subjectType")
    if subject_type not in SUBJECT_TYPES:
        raise BadRequest(
            "invalid_subject_type",
            f"subjectType must be USER_ID or ANONYMOUS_ID (got {_shown(subject_type)})",
        )
    ids = body.get("subjectIds")
    if not isinstance(ids, list) or not ids:
        raise BadRequest("invalid_subject_ids", "subjectIds must be a non-empty array of ids")
    if len(ids) > MAX_SUBJECTS:
        raise BadRequest(
            "too_many_subject_ids",
            f"subjectIds holds {len(ids)} ids; at most {MAX_SUBJECTS} per call",
        )
    for index, value in enumerate(ids):
        if not isinstance(value, str) or not value.strip():
            raise BadRequest(
                "invalid_subject_ids", f"subjectIds[{index}] must be a non-empty string"
            )
        if len(value) > MAX_SUBJECT_CHARS:
            raise BadRequest(
                "invalid_subject_ids",
                f"subjectIds[{index}] is longer than {MAX_SUBJECT_CHARS} characters",
            )
    return Request(regulation_type, subject_type, list(dict.fromkeys(ids)))


def subject_digest(digest: bytes) -> str:
    """A subject's digest as the API and the audit trail show it (never the id itself).

    >>> subject_digest(bytes.fromhex("00ff"))
    'hmac-sha256:00ff'
    """
    return f"hmac-sha256:{digest.hex()}"


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def target_status(internal: str, destinations: Iterable[str]) -> str:
    """A subject's status from its own (Headwater's stores) and its destinations' statuses."""
    statuses = [internal, *destinations]
    if any(status in PENDING for status in statuses):
        return "RUNNING"
    return _combined(statuses)


_OWN_STAGES: Final = frozenset({"resolve", "suppress", "unsuppress", "erase"})
"""The stages of a subject that work on Headwater's own stores; ``forward`` and ``done`` come
after them."""


def internal_status(stage: str, status: str, work: Mapping[str, Any] | None) -> str:
    """Headwater's own stores' part of a subject: the subject's status while its own stages
    run, then the status they ended with (``work["internal"]``, which the job keeps when the
    subject ends), whatever its destinations did. A subject that ended without it (an older
    record) shows its own status.

    >>> internal_status("ended", "PARTIAL_SUCCESS", {"internal": "FINISHED"})
    'FINISHED'
    >>> internal_status("erase", "RUNNING", {"internal": "FINISHED"})
    'RUNNING'
    """
    if stage in _OWN_STAGES or not work:
        return status
    own = work.get("internal")
    return own if isinstance(own, str) and own in STATUSES else status


def overall(statuses: Sequence[str], *, started: bool) -> str:
    """A regulation's status from its subjects' (Segment's rules: see the module)."""
    if any(status in PENDING for status in statuses):
        return "RUNNING" if started else "INITIALIZED"
    return _combined(list(statuses))


def _combined(statuses: list[str]) -> str:
    done = [s for s in statuses if s != "NOT_SUPPORTED"]
    if not done:
        return "NOT_SUPPORTED"
    if all(status == "FINISHED" for status in done):
        return "FINISHED"
    if all(status in ("FAILED", "INVALID") for status in done):
        return "FAILED"
    return "PARTIAL_SUCCESS"
