"""segment-analytics-python (gzip off and on) and rudder-sdk-python against ``headwater serve``.

Both SDKs post ``{"batch": [...], "sentAt": ..., "writeKey"?: ...}`` to ``{host}/v1/batch`` with
HTTP Basic auth (the write key as user). What each adds to a message is in ``SEGMENT`` and
``RUDDERSTACK`` below; the tests check every stored field against it.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, Protocol

import pytest
from rudderstack.analytics.client import Client as RudderClient
from rudderstack.analytics.version import VERSION as RUDDER_VERSION
from segment.analytics.client import Client as SegmentClient
from segment.analytics.version import VERSION as SEGMENT_VERSION

from tests.e2e.expect import (
    Call,
    Sdk,
    assert_deduplicated,
    assert_stored,
    duplicate_probe,
    sdk_calls,
)
from tests.server import RunningServer

pytestmark = pytest.mark.e2e

SEGMENT = Sdk(
    library={"name": "analytics-python", "version": SEGMENT_VERSION},
    null_category=True,
)
# RudderStack's Python SDK is a fork of Segment's: same library name, its own version.
RUDDERSTACK = Sdk(
    library={"name": "analytics-python", "version": RUDDER_VERSION},
    extra={"channel": "server"},
    default_integrations={"All": True},
    null_category=True,
    identify_traits_in_context=True,
)

_FLUSH_SECONDS = 20


class PythonClient(Protocol):
    """What both SDKs' ``Client`` classes offer (they share an ancestor)."""

    def identify(self, **kwargs: Any) -> Any: ...
    def track(self, **kwargs: Any) -> Any: ...
    def page(self, **kwargs: Any) -> Any: ...
    def screen(self, **kwargs: Any) -> Any: ...
    def group(self, **kwargs: Any) -> Any: ...
    def alias(self, **kwargs: Any) -> Any: ...
    def flush(self) -> None: ...
    def join(self) -> None: ...


def send(client: PythonClient, call: Call) -> None:
    """Make ``call`` through the SDK's own method for its type."""
    call = copy.deepcopy(call)  # both SDKs write into the context dict they are given
    kind = call["type"]
    kwargs: dict[str, Any] = {
        "message_id": call["messageId"],
        "context": call.get("context"),
        "integrations": call.get("integrations"),
        "timestamp": datetime.fromisoformat(call["timestamp"]),
        "user_id": call.get("userId"),
    }
    if kind == "alias":
        kwargs["previous_id"] = call["previousId"]
    else:
        kwargs["anonymous_id"] = call.get("anonymousId")
    if kind in ("identify", "group"):
        kwargs["traits"] = call.get("traits")
    if kind == "group":
        kwargs["group_id"] = call["groupId"]
    if kind == "track":
        kwargs["event"] = call["event"]
    if kind in ("track", "page", "screen"):
        kwargs["properties"] = call.get("properties")
    if kind in ("page", "screen"):
        kwargs["name"] = call.get("name")
        kwargs["category"] = call.get("category")
    getattr(client, kind)(**kwargs)


def flush(client: PythonClient) -> datetime:
    """Flush the SDK's queue, failing rather than hanging; return when it was done."""
    worker = threading.Thread(target=client.flush, daemon=True)
    worker.start()
    worker.join(_FLUSH_SECONDS)
    assert not worker.is_alive(), f"the SDK did not flush within {_FLUSH_SECONDS} s"
    return datetime.now(UTC)


@pytest.fixture
def errors() -> list[str]:
    """What the SDK reported through ``on_error``: must stay empty."""
    return []


def _on_error(errors: list[str]) -> Callable[[Exception, list[Any]], None]:
    def record(error: Exception, batch: list[Any]) -> None:
        errors.append(f"{error!r} for {len(batch)} messages")

    return record


def _round_trip(client: PythonClient, server: RunningServer, sdk: Sdk, prefix: str) -> None:
    calls = sdk_calls(prefix)
    started = datetime.now(UTC)
    for call in calls:
        send(client, call)
    acked = flush(client)
    send(client, duplicate_probe(prefix, attempt=1))
    flush(client)
    send(client, duplicate_probe(prefix, attempt=2))
    flush(client)

    for call in calls:
        assert_stored(server, call, sdk, sent_after=started, acked_before=acked)
    assert_deduplicated(server, duplicate_probe(prefix, attempt=1))


@pytest.fixture
def segment_client(
    request: pytest.FixtureRequest, server: RunningServer, errors: list[str]
) -> Iterator[PythonClient]:
    client = SegmentClient(
        server.write_key,
        host=server.url,
        gzip=request.param,
        max_retries=1,
        upload_interval=0.05,
        timeout=10,
        on_error=_on_error(errors),
    )
    yield client
    client.join()


@pytest.mark.parametrize("segment_client", [False, True], ids=["plain", "gzip"], indirect=True)
def test_segment_python_sdk(
    segment_client: PythonClient, server: RunningServer, errors: list[str]
) -> None:
    _round_trip(segment_client, server, SEGMENT, "segment-py")
    assert errors == []


@pytest.fixture
def rudder_client(server: RunningServer, errors: list[str]) -> Iterator[PythonClient]:
    client = RudderClient(
        server.write_key,
        host=server.url,
        max_retries=1,
        upload_interval=0.05,
        timeout=10,
        on_error=_on_error(errors),
    )
    assert client.gzip, "rudder-sdk-python gzips by default"
    yield client
    client.join()


def test_rudderstack_python_sdk(
    rudder_client: PythonClient, server: RunningServer, errors: list[str]
) -> None:
    _round_trip(rudder_client, server, RUDDERSTACK, "rudder-py")
    assert errors == []
