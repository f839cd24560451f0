"""analytics.js hosted by Headwater (:mod:`headwater.api.browser_sdk`): the settings the SDK
reads, on a real server; the bundles, from the web app built into the package (``./scripts/test``
builds it); and, on a directory the test lays out, what a package without them answers."""

from __future__ import annotations

from datetime import UTC, datetime
from ipaddress import IPv4Network, ip_network
from pathlib import Path

import httpx
import pytest

from headwater.api.browser_sdk import BrowserSdk
from headwater.workspaces import Source
from tests.api.conftest import Api, unique
from tests.server import ADMIN_TOKEN

ORIGIN = "http://shop.example"


def _settings(api: Api, write_key: str, **headers: str) -> httpx.Response:
    return httpx.get(
        f"{api.server.url}/v1/projects/{write_key}/settings", headers=headers, timeout=30
    )


def test_settings_send_events_back_to_headwater_and_list_no_device_mode_integration(
    api: Api,
) -> None:
    source = api.source()
    response = _settings(api, source["write_key"], Origin=ORIGIN)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == "public, max-age=60"
    body = response.json()
    host = api.server.url.removeprefix("http://")
    assert body["integrations"] == {
        "Segment.io": {
            "apiKey": source["write_key"],
            "apiHost": f"{host}/v1",
            "protocol": "http",
            "unbundledIntegrations": [],
            "addBundledMetadata": True,
            "maybeBundledConfigIds": {},
        }
    }
    assert body["metrics"] == {"sampleRate": 0}  # the SDK reports nothing to a third party
    assert body["remotePlugins"] == []
    # nothing else: the source's name, workspace and id, and every token, stay private
    assert set(body) == {
        "integrations",
        "plan",
        "analyticsNextEnabled",
        "middlewareSettings",
        "enabledMiddleware",
        "metrics",
        "legacyVideoPluginsEnabled",
        "remotePlugins",
    }
    assert source["name"] not in response.text
    assert ADMIN_TOKEN not in response.text


def test_an_unknown_or_disabled_write_key_is_a_404_that_a_page_can_read(api: Api) -> None:
    unknown = _settings(api, unique("nope"), Origin=ORIGIN)
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "unknown_write_key"
    assert unknown.headers["access-control-allow-origin"] == "*"
    assert unknown.headers["cache-control"] == "no-store"

    source = api.source()
    path = f"/api/v1/workspaces/default/sources/{source['id']}"
    api.ok("PATCH", path, json={"enabled": False})
    disabled = _settings(api, source["write_key"])
    assert disabled.status_code == 404
    assert disabled.json()["code"] == "unknown_write_key"


def test_settings_answer_a_cors_preflight_and_refuse_writes(api: Api) -> None:
    url = f"{api.server.url}/v1/projects/{api.source()['write_key']}/settings"
    preflight = httpx.options(
        url,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-custom",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"] == "x-custom"
    refused = httpx.post(url, json={})
    assert refused.status_code == 405
    assert refused.json()["code"] == "method_not_allowed"


def test_the_bundle_is_the_npm_package_s_standalone_build(api: Api) -> None:
    root = BrowserSdk.of_package(sources=_no_source, public_url=None).root
    assert (root / "standalone.js").is_file(), f"analytics.js is not built ({root})"
    standalone = (root / "standalone.js").read_bytes()
    for path in (
        "/analytics.js/v1/any-write-key/analytics.min.js",
        "/analytics.js/analytics.min.js",
    ):
        response = httpx.get(f"{api.server.url}{path}", headers={"Accept": "*/*"})
        assert response.status_code == 200, path
        assert response.content == standalone
        assert response.headers["content-type"] == "text/javascript; charset=utf-8"
        assert response.headers["cache-control"] == "public, max-age=3600"
        assert response.headers["access-control-allow-origin"] == "*"
    chunk = next(root.glob("*.bundle.*.js")).name
    response = httpx.get(f"{api.server.url}/analytics-next/bundles/{chunk}")
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]
    umd = httpx.get(f"{api.server.url}/analytics-next/bundles/index.js")
    assert umd.status_code == 200
    assert b"AnalyticsBrowser" in umd.content


def test_no_path_leaves_the_bundle_directory(api: Api) -> None:
    for path in (
        "/analytics-next/bundles/..%2fversion.json",
        "/analytics-next/bundles/version.json",
        "/analytics-next/bundles/.hidden.js",
        "/analytics-next/bundles/nope.js",
        "/analytics-next/bundles/",
    ):
        response = httpx.get(f"{api.server.url}{path}")
        assert response.status_code == 404, path
        assert response.json()["success"] is False


async def _no_source(write_key: str) -> Source | None:
    return None


async def _a_source(write_key: str) -> Source:
    return Source(
        id=1,
        workspace_id=1,
        workspace="default",
        name="web",
        write_key=write_key,
        kind="client",
        strict=False,
        enabled=True,
        created_at=datetime.now(UTC),
    )


def _client(sdk: BrowserSdk) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=sdk), base_url="http://hw:8088")


async def test_a_package_built_without_the_sdk_answers_503_with_what_to_do(
    tmp_path: Path,
) -> None:
    async with _client(BrowserSdk(tmp_path, sources=_no_source, public_url=None)) as client:
        for path in ("/analytics.js/v1/k/analytics.min.js", "/analytics-next/bundles/index.js"):
            response = await client.get(path)
            assert response.status_code == 503
            assert response.json()["code"] == "sdk_not_built"
            assert "./scripts/serve" in response.json()["message"]


@pytest.mark.parametrize(
    ("public_url", "protocol", "api_host"),
    [
        (None, "http", "hw:8088/v1"),
        ("https://cdp.example.com", "https", "cdp.example.com/v1"),
        ("https://example.com/headwater/", "https", "example.com/headwater/v1"),
    ],
)
async def test_the_api_host_is_the_public_url_or_else_the_request_s_host(
    tmp_path: Path, public_url: str | None, protocol: str, api_host: str
) -> None:
    sdk = BrowserSdk(tmp_path, sources=_a_source, public_url=public_url)
    async with _client(sdk) as client:
        body = (await client.get("/v1/projects/k/settings")).json()
    assert body["integrations"]["Segment.io"]["protocol"] == protocol
    assert body["integrations"]["Segment.io"]["apiHost"] == api_host


async def test_a_host_header_that_is_no_host_name_is_a_400(tmp_path: Path) -> None:
    sdk = BrowserSdk(tmp_path, sources=_a_source, public_url=None)
    async with _client(sdk) as client:
        response = await client.get("/v1/projects/k/settings", headers={"Host": "a b/<x>"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_host"


@pytest.mark.parametrize(
    ("proxies", "protocol", "api_host"),
    [
        ([ip_network("127.0.0.0/8")], "https", "cdp.example.com/v1"),
        ([], "http", "hw:8088/v1"),  # the peer is no trusted proxy: its headers are not read
        ([ip_network("10.0.0.0/8")], "http", "hw:8088/v1"),
    ],
)
async def test_behind_a_trusted_proxy_the_api_host_is_the_one_it_forwards(
    tmp_path: Path, proxies: list[IPv4Network], protocol: str, api_host: str
) -> None:
    """A TLS-terminating proxy talks to Headwater over HTTP: without its forwarded headers the
    browser would be told to send events to http://, which an https page may not call."""
    sdk = BrowserSdk(tmp_path, sources=_a_source, public_url=None, trusted_proxies=proxies)
    forwarded = {"X-Forwarded-Proto": "https, http", "X-Forwarded-Host": "cdp.example.com"}
    async with _client(sdk) as client:  # the ASGI client's peer is 127.0.0.1
        body = (await client.get("/v1/projects/k/settings", headers=forwarded)).json()
    assert body["integrations"]["Segment.io"]["protocol"] == protocol
    assert body["integrations"]["Segment.io"]["apiHost"] == api_host
