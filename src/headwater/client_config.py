"""Where the CLI finds a running Headwater: its URL and an admin token.

``headwater serve`` writes both to the config file when its first start generates the admin
token, as ``gh`` and ``kubectl`` keep theirs; the CLI reads them unless ``--url``/``--token``
or ``HEADWATER_URL``/``HEADWATER_TOKEN`` say otherwise.

>>> path = config_path()        # $XDG_CONFIG_HOME/headwater/config.toml
>>> write_config(path, url="http://127.0.0.1:8088", token="hw_...")
>>> read_config(path).url
'http://127.0.0.1:8088'
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ClientConfig", "ConfigError", "config_path", "local_url", "read_config", "write_config"]


class ConfigError(Exception):
    """The config file exists but cannot be read or is not the expected TOML."""


@dataclass(frozen=True)
class ClientConfig:
    url: str | None = None
    token: str | None = None


def config_path(environ: Mapping[str, str] = os.environ) -> Path:
    """``$XDG_CONFIG_HOME/headwater/config.toml``; ``~/.config`` when XDG_CONFIG_HOME is unset
    (or relative, which the XDG specification says to ignore)."""
    base = environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "headwater" / "config.toml"


def local_url(host: str, port: int) -> str:
    """The URL a client on this machine uses for a server listening on ``host``: a wildcard
    address is reached through loopback."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def read_config(path: Path) -> ClientConfig:
    """The file's ``url`` and ``token``; both None when there is no file."""
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return ClientConfig()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from None
    url, token = raw.get("url"), raw.get("token")
    if not isinstance(url, str | None) or not isinstance(token, str | None):
        raise ConfigError(f"{path}: url and token are strings")
    return ClientConfig(url=url, token=token)


def write_config(path: Path, *, url: str, token: str) -> None:
    """Replace the file with ``url`` and ``token``, readable by its owner only (0600), the
    directory 0700. The file is written beside and renamed, so no reader sees half of it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # json.dumps of a str is a valid TOML basic string (the same escapes).
    text = (
        "# Written by `headwater serve` on its first start; read by the headwater CLI.\n"
        f"url = {json.dumps(url)}\ntoken = {json.dumps(token)}\n"
    )
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    os.replace(partial, path)
