"""A source's browser plugins (device-mode destinations): kept per source, checked, listed as
analytics.js's remote plugins in the settings Headwater serves, their scripts served from the
device-mode directory. The plugins running in a page: tests/ui/test_analytics_js.py."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import Api

GREETER = {
    "name": "Greeter",
    "library_name": "greeterPlugin",
    "url": "/device-mode/greeter.js",
    "settings": {"greeting": "hello"},
}
CHAT = {
    "name": "Chat",
    "library_name": "chat_plugin$",
    "url": "https://cdn.chat.example/plugin.js",
    "settings": {},
}


def _path(source: dict[str, Any], workspace: str = "default") -> str:
    return f"/api/v1/workspaces/{workspace}/sources/{source['id']}/plugins"


def _settings(api: Api, write_key: str) -> Any:
    response = httpx.get(f"{api.server.url}/v1/projects/{write_key}/settings", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_enabled_plugins_are_listed_as_remote_plugins_in_the_settings(api: Api) -> None:
    source = api.source()
    assert api.ok("GET", _path(source)) == {"plugins": []}
    off = {**CHAT, "name": "Off", "enabled": False}
    stored = api.ok("PUT", _path(source), json={"plugins": [GREETER, CHAT, off]})
    assert [p["name"] for p in stored["plugins"]] == ["Greeter", "Chat", "Off"]
    assert stored["plugins"][0] == {**GREETER, "enabled": True}
    assert api.ok("GET", _path(source)) == stored

    body = _settings(api, source["write_key"])
    assert body["remotePlugins"] == [
        {
            "name": "Greeter",
            "creationName": "Greeter",
            "libraryName": "greeterPlugin",
            "url": f"{api.server.url}/device-mode/greeter.js",  # made absolute on Headwater
            "settings": {"greeting": "hello"},
        },
        {
            "name": "Chat",
            "creationName": "Chat",
            "libraryName": "chat_plugin$",
            "url": "https://cdn.chat.example/plugin.js",
            "settings": {},
        },
    ]
    # Named for the page's integrations option; no "type": never a classic CDN integration.
    assert body["integrations"]["Greeter"] == {"greeting": "hello"}
    assert "Off" not in body["integrations"]
    # Another source of the workspace keeps none.
    assert _settings(api, api.source()["write_key"])["remotePlugins"] == []


@pytest.mark.parametrize(
    ("plugins", "says"),
    [
        ([{**GREETER, "library_name": "not an identifier"}], "library_name"),
        ([{**GREETER, "url": "javascript:alert(1)"}], "url"),
        ([{**GREETER, "url": "/device-mode/../secret.js"}], "url"),
        ([{**GREETER, "url": "/elsewhere/greeter.js"}], "url"),
        ([GREETER, {**CHAT, "name": "Greeter"}], "another plugin has this name"),
        ([{**GREETER, "name": "Segment.io"}], "Segment"),
        ([{**GREETER, "name": ""}], "name"),
        ([{**GREETER, "settings": {"blob": "x" * 20_000}}], "settings"),
        ([{**GREETER, "settings": ["not", "an", "object"]}], "settings"),
        ([{k: v for k, v in GREETER.items() if k != "url"}], "url"),
        ([{**GREETER, "name": f"p{n}"} for n in range(21)], "at most 20"),
    ],
)
def test_a_bad_plugin_is_a_400_that_says_what_is_wrong_and_changes_nothing(
    api: Api, plugins: list[dict[str, Any]], says: str
) -> None:
    source = api.source()
    api.ok("PUT", _path(source), json={"plugins": [CHAT]})
    refused = api.error("PUT", _path(source), 400, "invalid_plugins", json={"plugins": plugins})
    assert says in refused["message"]
    assert [p["name"] for p in api.ok("GET", _path(source))["plugins"]] == ["Chat"]


def test_another_workspace_s_source_is_not_found(api: Api) -> None:
    other = api.workspace()
    source = api.source(workspace=other)
    api.ok("PUT", _path(source, other), json={"plugins": [GREETER]})
    api.error("GET", _path(source), 404, "source_not_found")
    api.error("PUT", _path(source), 404, "source_not_found", json={"plugins": []})
    assert len(api.ok("GET", _path(source, other))["plugins"]) == 1


def test_plugin_scripts_are_served_from_the_device_mode_directory_only(api: Api) -> None:
    scripts = api.server.data_dir / "device-mode"
    scripts.mkdir(exist_ok=True)
    (scripts / "served.js").write_text("window.servedPlugin = function () { return []; };")
    (api.server.data_dir / "secret.js").write_text("not for the web")
    with httpx.Client(base_url=api.server.url, timeout=30) as client:
        served = client.get("/device-mode/served.js")
        assert served.status_code == 200
        assert served.text.startswith("window.servedPlugin")
        assert served.headers["content-type"].startswith("text/javascript")
        assert served.headers["access-control-allow-origin"] == "*"
        for path in ("/device-mode/missing.js", "/device-mode/..%2Fsecret.js", "/device-mode/"):
            missing = client.get(path)
            assert missing.status_code == 404, path
            assert missing.json()["code"] == "plugin_not_found"
        assert client.post("/device-mode/served.js").status_code == 405
