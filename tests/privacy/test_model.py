"""The rules of regulations, without a database: what a create body must be, and how the
subjects' statuses make the regulation's."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.errors import BadRequest
from headwater.privacy import model


def _body(**changes: Any) -> dict[str, Any]:
    return {
        "regulationType": "SUPPRESS_WITH_DELETE",
        "subjectType": "USER_ID",
        "subjectIds": ["u-1"],
        **changes,
    }


def test_a_segment_body_is_parsed_and_repeated_ids_count_once() -> None:
    parsed = model.parse_request(_body(subjectIds=["u-1", "u-2", "u-1"]))
    assert (parsed.regulation_type, parsed.subject_type) == ("SUPPRESS_WITH_DELETE", "USER_ID")
    assert parsed.subject_ids == ["u-1", "u-2"]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"regulationType": "FORGET"}, "invalid_regulation_type"),
        ({"regulationType": "DELETE_ARCHIVE_ONLY"}, "invalid_regulation_type"),
        ({"subjectType": "OBJECT_ID"}, "invalid_subject_type"),
        ({"subjectType": None}, "invalid_subject_type"),
        ({"subjectIds": []}, "invalid_subject_ids"),
        ({"subjectIds": "u-1"}, "invalid_subject_ids"),
        ({"subjectIds": ["u-1", ""]}, "invalid_subject_ids"),
        ({"subjectIds": [7]}, "invalid_subject_ids"),
        ({"subjectIds": ["x" * 513]}, "invalid_subject_ids"),
        ({"subjectIds": [f"u-{i}" for i in range(5001)]}, "too_many_subject_ids"),
    ],
)
def test_bad_bodies_are_refused_with_a_code(changes: dict[str, Any], code: str) -> None:
    with pytest.raises(BadRequest) as raised:
        model.parse_request(_body(**changes))
    assert raised.value.code == code


def test_five_thousand_ids_are_allowed() -> None:
    ids = [f"u-{i}" for i in range(model.MAX_SUBJECTS)]
    assert len(model.parse_request(_body(subjectIds=ids)).subject_ids) == 5000


def test_what_each_type_does() -> None:
    done = {
        kind: (model.suppresses(kind), model.erases(kind), model.forwards(kind))
        for kind in model.CREATE_TYPES
    }
    assert done == {
        "SUPPRESS_WITH_DELETE": (True, True, True),
        "SUPPRESS_WITH_DELETE_INTERNAL": (True, True, False),
        "SUPPRESS_ONLY": (True, False, False),
        "DELETE_ONLY": (False, True, True),
        "DELETE_INTERNAL": (False, True, False),
        "UNSUPPRESS": (False, False, False),
    }
    assert [kind for kind in model.CREATE_TYPES if model.unsuppresses(kind)] == ["UNSUPPRESS"]


@pytest.mark.parametrize(
    ("statuses", "started", "expected"),
    [
        (["INITIALIZED", "INITIALIZED"], False, "INITIALIZED"),
        (["FINISHED", "RUNNING"], True, "RUNNING"),
        (["FINISHED", "FINISHED"], True, "FINISHED"),
        (["FAILED", "FAILED"], True, "FAILED"),
        (["FINISHED", "FAILED"], True, "PARTIAL_SUCCESS"),
        (["FINISHED", "PARTIAL_SUCCESS"], True, "PARTIAL_SUCCESS"),
        (["NOT_SUPPORTED"], True, "NOT_SUPPORTED"),
        (["NOT_SUPPORTED", "FINISHED"], True, "FINISHED"),
    ],
)
def test_the_overall_status(statuses: list[str], started: bool, expected: str) -> None:
    assert model.overall(statuses, started=started) == expected


def test_a_subject_is_partly_done_when_a_destination_failed() -> None:
    assert model.target_status("FINISHED", ["FINISHED", "FAILED"]) == "PARTIAL_SUCCESS"
    assert model.target_status("FINISHED", ["RUNNING"]) == "RUNNING"
    assert model.target_status("FINISHED", []) == "FINISHED"


@pytest.mark.parametrize(
    ("stage", "status", "work", "expected"),
    [
        ("ended", "PARTIAL_SUCCESS", {"internal": "FINISHED"}, "FINISHED"),
        ("ended", "FINISHED", {"internal": "NOT_SUPPORTED"}, "NOT_SUPPORTED"),
        ("forward", "RUNNING", {"internal": "FINISHED", "identifiers": []}, "FINISHED"),
        ("erase", "RUNNING", {"internal": "FINISHED"}, "RUNNING"),
        ("resolve", "INITIALIZED", {"subject": "u"}, "INITIALIZED"),
        ("ended", "FAILED", None, "FAILED"),  # ended before the job kept it
        ("ended", "FAILED", {"internal": "bogus"}, "FAILED"),
    ],
)
def test_headwaters_own_status_ignores_the_destinations(
    stage: str, status: str, work: dict[str, object] | None, expected: str
) -> None:
    assert model.internal_status(stage, status, work) == expected


def test_regulation_ids_look_like_segments() -> None:
    ids = {model.new_regulation_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 27 and i.isalnum() for i in ids)
