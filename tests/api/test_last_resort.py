"""The last resort: an error no route expected answers a JSON 500 that names nothing of its
cause, and the cause is logged. (No input is known to reach it: tests/api/test_fuzz.py looks.)"""

from __future__ import annotations

import logging

import httpx
import pytest

from headwater.api.app import create_app
from headwater.settings import Settings


async def test_an_unexpected_error_is_a_json_500_without_its_cause(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings)

    # A route of the real application that fails as no route should: the cause carries a
    # detail that must not reach the client.
    @app.api.get("/api/v1/failing")
    async def failing() -> None:
        raise RuntimeError("password=hunter2 in a connection string")

    # the route needs no runtime, so the application's lifespan is not started
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    with caplog.at_level(logging.ERROR):
        async with httpx.AsyncClient(transport=transport, base_url="http://headwater") as client:
            response = await client.get("/api/v1/failing")

    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "success": False,
        "code": "internal_error",
        "message": "an unexpected error; it has been logged",
    }
    assert "hunter2" not in response.text
    assert any(
        "GET /api/v1/failing" in record.getMessage() and record.exc_info
        for record in caplog.records
    )
