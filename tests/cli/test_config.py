"""How the CLI finds Headwater: never by creating one. ``serve``'s first start writes the config
file the CLI reads; flags beat the environment, which beats the file."""

from __future__ import annotations

import functools
import os
import re
import stat
import threading
import tomllib
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from headwater.client_config import (
    ConfigError,
    config_path,
    local_url,
    read_config,
    write_config,
)
from tests.cli.conftest import Cli, Serve, clean_env
from tests.server import free_port


def test_a_command_with_no_server_configured_creates_nothing(tmp_path: Path) -> None:
    workdir, home, config = tmp_path / "cwd", tmp_path / "home", tmp_path / "config"
    workdir.mkdir()
    home.mkdir()
    done = Cli(clean_env(config, HOME=str(home)), workdir).run("sources", "list")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "no Headwater server is configured" in done.stderr
    assert "HEADWATER_URL" in done.stderr
    assert "headwater serve" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list(workdir.iterdir()), "the CLI created files where it ran"
    assert not list(home.iterdir())
    assert not config.exists()


def test_a_server_that_is_not_running_is_named_with_how_to_start_it(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    cli = Cli(clean_env(tmp_path / "config"), tmp_path)
    done = cli.run("events", "stats", "--url", url, "--token", "some-token")
    assert done.returncode == 1
    assert f"cannot reach Headwater at {url}" in done.stderr
    assert "headwater serve" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_writes_the_config_on_first_start_and_the_cli_uses_it(
    database_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    env = clean_env(config, HEADWATER_DATABASE_URL=database_url)  # no admin token set
    serve = Serve(tmp_path / "data", tmp_path / "serve.log", env)
    try:
        serve.wait_ready()
        printed = re.search(r"API token\s+(hw_\S+)", serve.output())
        assert printed, serve.output()
        path = config / "headwater" / "config.toml"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert tomllib.loads(path.read_text()) == {"url": serve.url, "token": printed[1]}

        workdir = tmp_path / "cwd"
        workdir.mkdir()
        cli = Cli(clean_env(config), workdir)  # no --url, --token or HEADWATER_URL/TOKEN
        listed = cli.run("sources", "list", "--json").json()
        assert [s["name"] for s in listed] == ["default"]
        assert not list(workdir.iterdir())

        # The environment beats the file; a flag beats the environment.
        wrong = clean_env(config, HEADWATER_TOKEN="not-the-token")
        refused = Cli(wrong, workdir).run("sources", "list")
        assert refused.returncode == 1
        assert "invalid_token" in refused.stderr
        flagged = Cli(wrong, workdir).run("sources", "list", "--json", "--token", printed[1])
        assert flagged.json() == listed
        elsewhere = Cli(clean_env(config, HEADWATER_URL="http://127.0.0.1:9"), workdir)
        assert "http://127.0.0.1:9" in elsewhere.run("sources", "list").stderr
        response = httpx.get(f"{serve.url}/api/v1/workspaces/default/sources", timeout=10)
        assert response.status_code == 401
    finally:
        serve.terminate()


def test_config_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "xdg" / "headwater" / "config.toml"
    assert read_config(path).url is None
    write_config(path, url="http://h:1", token='t"\\\n\u00e9')
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    found = read_config(path)
    assert (found.url, found.token) == ("http://h:1", 't"\\\n\u00e9')
    write_config(path, url="http://h:2", token="u")
    assert read_config(path).url == "http://h:2"
    assert os.listdir(path.parent) == ["config.toml"]


def test_an_unreadable_config_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("url = [")
    with pytest.raises(ConfigError, match=re.escape(str(path))):
        read_config(path)
    path.write_text("url = 3")
    with pytest.raises(ConfigError):
        read_config(path)


def test_config_path_follows_xdg() -> None:
    assert config_path({"XDG_CONFIG_HOME": "/x"}) == Path("/x/headwater/config.toml")
    home = Path.home() / ".config" / "headwater" / "config.toml"
    assert config_path({}) == home
    assert config_path({"XDG_CONFIG_HOME": "relative"}) == home


def test_local_url_reaches_wildcard_addresses_through_loopback() -> None:
    assert local_url("0.0.0.0", 8088) == "http://127.0.0.1:8088"
    assert local_url("::", 80) == "http://[::1]:80"
    assert local_url("10.0.0.5", 1) == "http://10.0.0.5:1"


def test_a_url_that_is_not_headwater_gets_a_plain_answer(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "api" / "v1").mkdir(parents=True)
    (site / "api" / "v1" / "workspaces").write_text("<html>a web page</html>")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(site))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as web:
        threading.Thread(target=web.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{web.server_address[1]}"
            cli = Cli(clean_env(tmp_path / "config"), tmp_path)
            page, missing = (
                cli.run(*command, "--url", url, "--token", "t")
                for command in (["sources", "list"], ["events", "stats", "--workspace", "default"])
            )
        finally:
            web.shutdown()
    assert page.returncode == 1
    assert "not JSON: is the URL Headwater's?" in page.stderr
    assert missing.returncode == 1
    assert "HTTP 404" in missing.stderr
    assert "Traceback" not in page.stderr + missing.stderr
