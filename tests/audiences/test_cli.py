"""``headwater audiences ...`` as a user runs it, on a fresh database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def headwater(database_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HEADWATER_DATABASE_URL": database_url,
        "HEADWATER_ADMIN_TOKEN": "t",
        "HEADWATER_DATA_DIR": str(tmp_path),
    }
    return subprocess.run(
        [sys.executable, "-m", "headwater", "audiences", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli(database_url: str, tmp_path: Path) -> None:
    definition: dict[str, Any] = {
        "version": 1,
        "condition": {"type": "trait", "trait": "plan", "operator": "equals", "value": "pro"},
    }
    path = tmp_path / "pro.json"
    path.write_text(json.dumps(definition))
    made = headwater(database_url, tmp_path, "create", "pro_users", "--file", str(path))
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["key"] == "pro_users"
    listed = json.loads(headwater(database_url, tmp_path, "list").stdout)
    assert [(a["key"], a["size"]) for a in listed] == [("pro_users", 0)]
    preview = headwater(database_url, tmp_path, "preview", "--file", str(path))
    assert json.loads(preview.stdout)["size"] == 0
    done = json.loads(headwater(database_url, tmp_path, "recompute").stdout)
    assert [(r["key"], r["entered"]) for r in done] == [("pro_users", 0)]
    exported = headwater(database_url, tmp_path, "members", "pro_users", "--csv")
    assert exported.stdout.splitlines() == ["profile_id,user_id,email,value,since"]

    path.write_text('{"version": 1, "condition": {"type": "trait", "trait": "plan"}}')
    bad = headwater(database_url, tmp_path, "create", "bad", "--file", str(path))
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["code"] == "invalid_definition"
    missing = headwater(database_url, tmp_path, "members", "nope")
    assert missing.returncode == 1
    assert json.loads(missing.stdout)["code"] == "audience_not_found"
