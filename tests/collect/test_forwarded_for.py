"""context.ip from X-Forwarded-For, only behind a trusted proxy: the rightmost untrusted hop."""

from __future__ import annotations

import pytest

from tests.collect.helpers import Source, assert_ok, new_source
from tests.server import RunningServer


def ip_of(source: Source, forwarded: str | None, *, library: str | None = None) -> str | None:
    """Send one track through X-Forwarded-For; return the stored context.ip."""
    message_id = f"xff-{source.id}-{len(source.events())}"
    body: dict[str, object] = {"userId": "u1", "event": "Seen", "messageId": message_id}
    if library is not None:
        body["context"] = {"library": {"name": library}}
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    assert_ok(source.post("/v1/track", body, headers=headers))
    stored = {event["messageId"]: event for event in source.events()}[message_id]
    ip = stored["context"].get("ip")
    return ip if ip is None else str(ip)


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("203.0.113.1, 198.51.100.7", "198.51.100.7"),
        ("203.0.113.1, 198.51.100.7, 127.0.0.1", "198.51.100.7"),
        ("203.0.113.1,198.51.100.7 ,127.0.0.1,", "198.51.100.7"),
        ("2001:db8::1", "2001:db8::1"),
        ("127.0.0.1, 127.0.0.1", "127.0.0.1"),
        (None, "127.0.0.1"),
    ],
)
def test_behind_a_trusted_proxy_the_rightmost_untrusted_hop(
    shared: RunningServer, forwarded: str | None, expected: str
) -> None:
    # The shared server runs with HEADWATER_TRUSTED_PROXIES=127.0.0.1/32.
    client = new_source(shared, kind="client")
    assert ip_of(client, forwarded) == expected


def test_server_sources_get_no_ip_unless_a_client_library_sent_it(source: Source) -> None:
    assert ip_of(source, "198.51.100.7") is None
    assert ip_of(source, "198.51.100.7", library="analytics.js") == "198.51.100.7"
    assert ip_of(source, "198.51.100.7", library="analytics-python") is None


def test_a_given_context_ip_is_kept(shared: RunningServer) -> None:
    client = new_source(shared, kind="client")
    body = {"userId": "u1", "event": "E", "messageId": f"own-ip-{client.id}"}
    body["context"] = {"ip": "192.0.2.55"}
    assert_ok(client.post("/v1/track", body, headers={"X-Forwarded-For": "198.51.100.7"}))
    assert client.events()[0]["context"]["ip"] == "192.0.2.55"


def test_without_trusted_proxies_the_header_is_ignored(server: RunningServer) -> None:
    client = new_source(server, kind="client")
    assert ip_of(client, "198.51.100.7") == "127.0.0.1"
    assert ip_of(client, "203.0.113.1, 198.51.100.7") == "127.0.0.1"
    assert ip_of(client, None) == "127.0.0.1"
