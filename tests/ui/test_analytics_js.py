"""analytics.js served by Headwater, in a real Chromium: a shop's page on another origin (a
static server on 127.0.0.1) loads the SDK with the snippet the docs give (Segment's, pointed at
Headwater), or bundles the npm package as an app does, and its page, identify and track calls
land in Headwater's log; every request the page makes goes to 127.0.0.1 (nothing from a CDN)."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser

from tests.ui.conftest import World

UI = Path(__file__).parents[2] / "ui"
PACKAGE = UI / "node_modules" / "@segment" / "analytics-next"

DOC = Path(__file__).parents[2] / "docs" / "api-compatibility.md"
DOC_HOST = '"https://collect.example.com"'
DOC_KEY = '"YOUR_WRITE_KEY"'
CALLS = """<script>
analytics.identify("user-42", { plan: "pro" });
analytics.track("Order Completed", { revenue: 42 });
</script>"""


def documented_snippet() -> str:
    """The snippet docs/api-compatibility.md gives (its first ``html`` block), as a page
    pastes it: the test fills in its host and write key."""
    text = DOC.read_text()
    fence = "```html\n"
    start = text.index(fence, text.index("## analytics.js from Headwater")) + len(fence)
    snippet = text[start : text.index("```", start)]
    assert DOC_HOST in snippet, snippet
    assert DOC_KEY in snippet, snippet
    return snippet


NPM_APP = """
import { AnalyticsBrowser } from %(package)s;

const analytics = AnalyticsBrowser.load({ writeKey: %(key)s, cdnURL: %(host)s });
analytics.page();
analytics.identify("user-7", { plan: "team" });
analytics.track("Signed Up", { via: "npm" });
"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not printed."""


@dataclass
class Shop:
    """A static site on its own origin."""

    root: Path
    url: str


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    root = tmp_path / "site"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Shop(root, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()


def _page(title: str, head: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<link rel="icon" href="data:,">{head}</head><body><h1>{title}</h1></body></html>'
    )


def _visit(browser: Browser, url: str, until: Any) -> list[str]:
    """Open ``url`` in a fresh context, wait for ``until()`` to be true, and return the URL
    of every request the page made."""
    context = browser.new_context()
    requests: list[str] = []
    errors: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(url)
        until()
    finally:
        context.close()
    assert not errors, f"the page threw: {errors}"
    return requests


def _events(world: World, workspace: str, source: dict[str, Any], count: int) -> list[Any]:
    """The source's ``count`` events, once they are all in the log."""
    path = f"/api/v1/workspaces/{workspace}/sources/{source['id']}/events"
    deadline = time.monotonic() + 60
    while len(found := world.server.api("GET", path)) < count:
        assert time.monotonic() < deadline, f"only {len(found)} events arrived: {found}"
        time.sleep(0.2)
    assert len(found) == count, found
    return [event["payload"] for event in reversed(found)]


def _check(
    events: list[Any], *, user: str, event: str, page_url: str, library_version: str
) -> None:
    by_type = {each["type"]: each for each in events}  # sent at once: any order in the log
    assert sorted(by_type) == ["identify", "page", "track"], events
    page, identify, track = by_type["page"], by_type["identify"], by_type["track"]
    assert page["context"]["page"]["url"] == page_url
    assert identify["userId"] == user
    assert track["userId"] == user
    assert track["event"] == event
    anonymous = {e["anonymousId"] for e in events}
    assert len(anonymous) == 1, anonymous
    assert None not in anonymous
    for each in events:
        library = each["context"]["library"]
        assert library["name"] == "analytics.js", library
        assert library["version"].startswith(library_version), library


def _only_local(requests: list[str]) -> None:
    hosts = {urlsplit(url).hostname for url in requests}
    assert hosts == {"127.0.0.1"}, requests


def test_the_standard_snippet_loads_analytics_js_and_sends_events_to_headwater(
    browser: Browser, world: World, shop: Shop
) -> None:
    workspace = world.workspace()
    source = world.source(workspace)
    key = str(source["write_key"])
    host = world.server.url
    snippet = documented_snippet().replace(DOC_HOST, json.dumps(host))
    (shop.root / "index.html").write_text(
        _page("Shop", snippet.replace(DOC_KEY, json.dumps(key)) + CALLS)
    )

    requests = _visit(browser, f"{shop.url}/", lambda: _events(world, workspace, source, 3))

    events = _events(world, workspace, source, 3)
    _check(
        events,
        user="user-42",
        event="Order Completed",
        page_url=f"{shop.url}/",
        library_version="next-",
    )
    assert next(e for e in events if e["type"] == "track")["properties"] == {"revenue": 42}
    _only_local(requests)
    assert f"{host}/analytics.js/v1/{key}/analytics.min.js" in requests
    assert f"{host}/v1/projects/{key}/settings" in requests
    assert {f"{host}/v1/p", f"{host}/v1/i", f"{host}/v1/t"} <= set(requests)


def test_an_app_bundling_the_npm_package_sends_events_to_headwater(
    browser: Browser, world: World, shop: Shop, tmp_path: Path
) -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed to bundle the page (it builds the web app too)"
    assert (PACKAGE / "package.json").is_file(), f"{PACKAGE} is missing: npm ci in ui/"
    workspace = world.workspace()
    source = world.source(workspace)
    host = world.server.url
    app = tmp_path / "app"
    app.mkdir()
    (app / "index.html").write_text(_page("App", '<script type="module" src="./main.js"></script>'))
    entry = PACKAGE / "dist" / "pkg" / "index.js"  # the package's "module" build
    (app / "main.js").write_text(
        NPM_APP
        % {
            "package": json.dumps(str(entry)),
            "key": json.dumps(source["write_key"]),
            "host": json.dumps(host),
        }
    )
    vite = UI / "node_modules" / "vite" / "bin" / "vite.js"
    built = subprocess.run(
        [
            node,
            str(vite),
            "build",
            str(app),
            "--outDir",
            str(shop.root),
            "--emptyOutDir",
            "--base",
            "./",
            "--logLevel",
            "warn",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr

    requests = _visit(
        browser, f"{shop.url}/index.html", lambda: _events(world, workspace, source, 3)
    )

    events = _events(world, workspace, source, 3)
    _check(
        events,
        user="user-7",
        event="Signed Up",
        page_url=f"{shop.url}/index.html",
        library_version="npm:next-",
    )
    _only_local(requests)
    assert f"{host}/v1/projects/{source['write_key']}/settings" in requests
    assert f"{host}/v1/t" in requests


PLUGIN = """
window.greeterPlugin = function (settings) {
  window.__seen = window.__seen || [];
  return {
    name: "Greeter",
    type: "destination",
    version: "1.0.0",
    isLoaded: function () { return true; },
    load: function () { return Promise.resolve(); },
    track: function (ctx) {
      window.__seen.push([ctx.event.event, settings.greeting]);
      return ctx;
    },
  };
};
"""


def test_a_source_s_browser_plugin_is_loaded_from_headwater_and_sees_the_page_s_events(
    browser: Browser, world: World, shop: Shop
) -> None:
    """A device-mode destination: its script in Headwater's device-mode directory, listed in
    the settings analytics.js reads, gets the page's track calls with its settings."""
    workspace = world.workspace()
    source = world.source(workspace)
    key = str(source["write_key"])
    host = world.server.url
    scripts = world.server.data_dir / "device-mode"
    scripts.mkdir(exist_ok=True)
    (scripts / "greeter.js").write_text(PLUGIN)
    world.server.api(
        "PUT",
        f"/api/v1/workspaces/{workspace}/sources/{source['id']}/plugins",
        json={
            "plugins": [
                {
                    "name": "Greeter",
                    "library_name": "greeterPlugin",
                    "url": "/device-mode/greeter.js",
                    "settings": {"greeting": "hello"},
                },
                {  # disabled: never loaded (its script does not even exist)
                    "name": "Off",
                    "library_name": "offPlugin",
                    "url": "/device-mode/off.js",
                    "enabled": False,
                },
            ]
        },
    )
    snippet = documented_snippet().replace(DOC_HOST, json.dumps(host))
    (shop.root / "index.html").write_text(
        _page("Shop", snippet.replace(DOC_KEY, json.dumps(key)) + CALLS)
    )
    context = browser.new_context()
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    try:
        page.goto(f"{shop.url}/")
        page.wait_for_function("window.__seen && window.__seen.length > 0", timeout=30_000)
        seen = page.evaluate("window.__seen")
        _events(world, workspace, source, 3)
    finally:
        context.close()
    assert seen == [["Order Completed", "hello"]]
    _only_local(requests)
    assert f"{host}/device-mode/greeter.js" in requests
    assert f"{host}/device-mode/off.js" not in requests
