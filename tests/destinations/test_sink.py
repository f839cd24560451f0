"""The recording server itself: what the connector tests rely on."""

from __future__ import annotations

import httpx

from tests.destinations.sink import Reply, Sink


def test_records_requests_and_replies_as_told() -> None:
    with Sink() as sink:
        sink.handler = lambda request: Reply(
            429 if request.path == "/slow" else 200, {"ok": request.path}, {"Retry-After": "3"}
        )
        with httpx.Client(base_url=sink.url) as client:
            first = client.post("/slow?x=1", json={"a": 1}, headers={"X-Key": "k"})
            second = client.get("/fine")
    assert (first.status_code, first.headers["retry-after"], first.json()) == (
        429,
        "3",
        {"ok": "/slow"},
    )
    assert second.status_code == 200
    recorded = sink.requests[0]
    assert (recorded.method, recorded.path, recorded.query) == ("POST", "/slow", {"x": ["1"]})
    assert recorded.headers["x-key"] == "k"
    assert recorded.json() == {"a": 1}


def test_failed_checks_are_kept_and_answered_with_599() -> None:
    def check(request: object) -> Reply:
        raise AssertionError("missing api_key")

    with Sink(check) as sink, httpx.Client() as client:
        response = client.post(sink.url + "/track", content=b"{}")
    assert response.status_code == 599
    assert sink.errors == ["missing api_key"]


def test_delay_provokes_client_timeouts() -> None:
    with Sink(lambda _: Reply(delay=0.5)) as sink, httpx.Client(timeout=0.1) as client:
        try:
            client.get(sink.url)
        except httpx.ReadTimeout:
            timed_out = True
        else:
            timed_out = False
    assert timed_out


def test_requests_for_an_earlier_sink_on_the_same_port_are_strays() -> None:
    with Sink() as sink, httpx.Client() as client:
        origin = sink.url.rsplit("/", 1)[0]
        stray = client.post(origin + "/hook", json={"messageId": "old"})
        mine = client.post(sink.url + "/hook", json={"messageId": "new"})
    assert (stray.status_code, mine.status_code) == (404, 200)
    assert [(r.path, r.json()["messageId"]) for r in sink.requests] == [("/hook", "new")]
    assert [r.json()["messageId"] for r in sink.strays] == ["old"]
