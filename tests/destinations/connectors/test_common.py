"""The shared connector rules: merging the results of several requests for one batch."""

from __future__ import annotations

from headwater.connectors._common import Part, combine, partial, stable_uuid
from headwater.connectors.base import Outcome, SendResult

DELIVERED = SendResult(outcome=Outcome.DELIVERED)


def test_one_request_for_the_whole_batch_is_its_result() -> None:
    result = SendResult(outcome=Outcome.RETRY, retry_after=3.0, error="HTTP 503")
    assert combine([Part([0, 1], result)], {}) is result


def test_a_retryable_request_retries_the_batch_except_permanent_failures() -> None:
    parts = [
        Part([0], DELIVERED),
        Part([1, 2], SendResult(outcome=Outcome.RETRY, retry_after=2.0, error="HTTP 429")),
        Part([3], SendResult(outcome=Outcome.RETRY, retry_after=9.0, error="HTTP 503")),
        Part([4], SendResult(outcome=Outcome.FAILED, error="HTTP 401")),
    ]
    result = combine(parts, {5: "not supported"})
    assert (result.outcome, result.retry_after, result.error) == (Outcome.RETRY, 9.0, "HTTP 429")
    assert result.failed == {4: "HTTP 401", 5: "not supported"}


def test_per_event_failures_map_back_to_batch_indexes() -> None:
    some = partial(DELIVERED, {1: "bad time"}, 2)
    every = partial(DELIVERED, {0: "bad name"}, 1)
    result = combine([Part([3, 5], some), Part([4], every)], {0: "no email"})
    assert result.outcome is Outcome.DELIVERED
    assert result.failed == {0: "no email", 5: "bad time", 4: "bad name"}


def test_nothing_delivered_is_a_failure() -> None:
    refused_only = combine([], {0: "no email", 1: "no email"})
    failed = combine([Part([1], SendResult(outcome=Outcome.FAILED, error="HTTP 400"))], {0: "x"})
    assert (refused_only.outcome, refused_only.error) == (Outcome.FAILED, "no email")
    assert (failed.outcome, failed.error, failed.failed) == (
        Outcome.FAILED,
        "HTTP 400",
        {0: "x", 1: "HTTP 400"},
    )


def test_stable_uuid_keeps_uuids_and_derives_the_rest() -> None:
    given = "5f0c6b1e-8a4e-4f43-9d55-2a4b1f7c9e10"
    assert stable_uuid(given) == given
    assert stable_uuid("ajs-abc") == stable_uuid("ajs-abc") != stable_uuid("ajs-abd")
