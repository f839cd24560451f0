"""The web app's files, served beside the APIs (:class:`headwater.api.web.WebApp`), on a
directory built by the test."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.responses import Response

from headwater.api.web import WebApp

INDEX = "<!doctype html><title>app</title>"


def _client(root: Path) -> httpx.AsyncClient:
    web = WebApp(root)

    async def app(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        if web.matches(scope):
            await web(scope, receive, send)  # type: ignore[arg-type]
        else:  # what the API answers for a path it does not have
            await Response("no such route", status_code=404)(scope, receive, send)  # type: ignore[arg-type]

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hw")


@pytest.fixture
def built(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path.parent / "secret.txt").write_text("not an asset")
    return tmp_path


async def test_every_screen_path_answers_the_app_and_assets_are_cached_for_good(
    built: Path,
) -> None:
    async with _client(built) as client:
        for path in ("/", "/login", "/w/shop/sources/3"):
            page = await client.get(path, headers={"Accept": "text/html"})
            assert page.status_code == 200
            assert page.text == INDEX
            assert page.headers["cache-control"] == "no-cache"
            assert "default-src 'self'" in page.headers["content-security-policy"]
        asset = await client.get("/assets/index-abc123.js")
        assert asset.status_code == 200
        assert "immutable" in asset.headers["cache-control"]


async def test_no_path_leaves_the_assets_directory(built: Path) -> None:
    async with _client(built) as client:
        for path in (
            "/assets/../secret.txt",
            "/assets/%2e%2e%2fsecret.txt",
            "/assets/..%2fsecret.txt",
            "/assets/",
            "/assets/nope.js",
        ):
            answer = await client.get(path)
            assert answer.status_code == 404, path
            assert "not an asset" not in answer.text


async def test_a_package_without_the_app_says_how_to_build_it(tmp_path: Path) -> None:
    async with _client(tmp_path) as client:
        page = await client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 503
    assert "./scripts/serve" in page.text


def test_the_apis_stay_the_apis() -> None:
    web = WebApp(Path("/nowhere"))

    def scope(method: str, path: str, accept: bytes = b"text/html") -> dict:  # type: ignore[type-arg]
        return {"method": method, "path": path, "headers": [(b"accept", accept)]}

    assert not web.matches(scope("GET", "/api/v1/me"))
    assert not web.matches(scope("GET", "/v1/spaces/x/collections/users/profiles/a/traits"))
    assert not web.matches(scope("GET", "/ready"))
    assert not web.matches(scope("POST", "/login"))
    assert not web.matches(scope("GET", "/", b"application/json"))
    assert web.matches(scope("GET", "/assets/x.js", b"*/*"))
