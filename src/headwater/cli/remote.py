"""The CLI's way to a running Headwater: its management API, by URL and admin token.

Where the URL and token come from, first found wins (each on its own):

1. ``--url`` / ``--token``;
2. ``HEADWATER_URL`` / ``HEADWATER_TOKEN``;
3. the config file ``headwater serve`` writes on first start
   (``$XDG_CONFIG_HOME/headwater/config.toml``, by default ``~/.config/headwater/config.toml``);
4. for the URL only, ``http://127.0.0.1:8088`` (what ``headwater serve`` listens on).

Nothing here opens a database or creates files: without a token the command stops with a
message saying how to give one.

>>> with remote(url=None, token=None, json_out=False) as api:
...     api.get("/api/v1/workspaces")
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

import httpx
import typer

from headwater.cli.output import fail, print_json
from headwater.client_config import ConfigError, config_path, read_config

__all__ = ["DEFAULT_URL", "Api", "ServerError", "Token", "Url", "decoded", "remote", "segment"]

DEFAULT_URL = "http://127.0.0.1:8088"
Url = Annotated[
    str | None,
    typer.Option(
        "--url", help="Headwater's URL (HEADWATER_URL, then the config file)", show_default=False
    ),
]
Token = Annotated[
    str | None,
    typer.Option(
        "--token", help="an admin token (HEADWATER_TOKEN, then the config file)", show_default=False
    ),
]


class ServerError(Exception):
    """The server answered with an error: ``body`` is its JSON error (or one made for it)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message", f"HTTP {status}"))
        self.status = status
        self.body = body


@dataclass
class Api:
    """An httpx client on the server's base URL with the admin token; JSON in and out."""

    url: str
    client: httpx.Client

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params)

    def post(self, path: str, body: Any = None, **params: Any) -> Any:
        return self.call("POST", path, json=body, params=params)

    def text(self, path: str, **params: Any) -> str:
        """GET a document as the server wrote it (an export, generated code, CSV)."""
        response = self._send("GET", path, params=params)
        if response.status_code >= 400:
            decoded(response)  # raises the server's error
        return response.text

    def call(self, method: str, path: str, **options: Any) -> Any:
        """Send one request; its decoded JSON answer (None for a 204).

        Raises :class:`ServerError` for a 4xx/5xx or an answer that is not JSON, httpx's
        errors when the server is away.
        """
        return decoded(self._send(method, path, **options))

    def _send(self, method: str, path: str, **options: Any) -> httpx.Response:
        params = {k: v for k, v in (options.pop("params", None) or {}).items() if v is not None}
        return self.client.request(method, path, params=params, **options)


def segment(value: str) -> str:
    """``value`` (a slug, a key, a message id) as one URL path segment."""
    return quote(value, safe="")


def decoded(response: httpx.Response) -> Any:
    """The answer's JSON (None for a 204); :class:`ServerError` when it is an error, or when
    it is not JSON (the URL is not Headwater's)."""
    body = _json(response)
    if response.status_code >= 400:
        if not isinstance(body, dict) or "message" not in body:
            text = response.text.strip()[:200] or response.reason_phrase
            body = {"success": False, "code": f"http_{response.status_code}", "message": text}
        raise ServerError(response.status_code, body)
    if response.status_code == 204:
        return None
    if body is _NOT_JSON:
        kind = response.headers.get("content-type", "no content type")
        message = f"{response.url} answered {kind}, not JSON: is the URL Headwater's?"
        raise ServerError(response.status_code, {"code": "not_headwater", "message": message})
    return body


_NOT_JSON = object()


def _json(response: httpx.Response) -> Any:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return _NOT_JSON
    try:
        return response.json()
    except ValueError:
        return _NOT_JSON


def _settings(url: str | None, token: str | None) -> tuple[str, str | None, str]:
    """The URL, the token and where the token came from (for messages)."""
    url = url or os.environ.get("HEADWATER_URL") or None
    token_from = "--token" if token else "HEADWATER_TOKEN"
    token = token or os.environ.get("HEADWATER_TOKEN") or None
    if url is None or token is None:
        path = config_path()
        try:
            stored = read_config(path)
        except ConfigError as error:
            fail(str(error), code=2)
        if token is None and stored.token:
            token, token_from = stored.token, str(path)
        url = url or stored.url
    url = url or DEFAULT_URL
    if "://" not in url:  # "localhost:8088", as people type it
        url = f"http://{url}"
    return url.rstrip("/"), token, token_from


@contextmanager
def remote(*, url: str | None, token: str | None, json_out: bool) -> Iterator[Api]:
    """An :class:`Api` for the configured server; a server error or an unreachable server
    ends the command with a message on stderr (with ``json_out``, the JSON error on stdout
    too) and exit status 1, never a traceback."""
    base, secret, token_from = _settings(url, token)
    if secret is None:
        fail(
            "no Headwater server is configured: pass --url and --token, set HEADWATER_URL and "
            f"HEADWATER_TOKEN, or start one with `headwater serve` (its first start writes "
            f"{config_path()} for the CLI)",
            code=2,
        )
    headers = {"Authorization": f"Bearer {secret}", "User-Agent": "headwater-cli"}
    timeout = httpx.Timeout(10.0, read=300.0)
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=timeout) as client:
            yield Api(base, client)
    except ServerError as error:
        if json_out:
            print_json(error.body)
        fail(_explain(error, token_from))
    except (httpx.ConnectError, httpx.ConnectTimeout) as error:
        fail(
            f"cannot reach Headwater at {base} ({error}). Is it running? Start it with "
            "`headwater serve`, or point the CLI at it with --url or HEADWATER_URL."
        )
    except httpx.TimeoutException:
        fail(f"Headwater at {base} did not answer in time")
    except (httpx.RequestError, httpx.InvalidURL) as error:
        fail(f"cannot talk to Headwater at {base}: {error}")


def _explain(error: ServerError, token_from: str) -> str:
    body = error.body
    words = f"{body.get('message')} ({body.get('code')}, HTTP {error.status})"
    for problem in body.get("errors") or body.get("problems") or []:
        if isinstance(problem, dict):
            where = problem.get("field") or problem.get("path") or ""
            words += f"\n  {where}: {problem.get('message')}"
    if error.status == 401:
        words += f"\nthe admin token came from {token_from}"
    return words
