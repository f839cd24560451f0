"""The file of a multipart/form-data body: streamed out of it whatever the chunking, through
the API as httpx and curl send it, and malformed bodies answered with 400 JSON errors."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from headwater.errors import BadRequest
from headwater.imports import boundary_of, file_part
from tests.imports.conftest import client
from tests.server import ADMIN_TOKEN, RunningServer

_FILE = b"user_id,event\r\nu-1,Signed up\r\n--not-the-boundary\r\nu-2,Paid\r\n"
_BODY = (
    b"preamble\r\n--XyZ\r\n"
    b'Content-Disposition: form-data; name="note"\r\n\r\nhello\r\n--XyZ\r\n'
    b'Content-Disposition: form-data; name="file"; filename="people.csv"\r\n'
    b"Content-Type: text/csv\r\n\r\n" + _FILE + b"\r\n--XyZ--\r\n"
)


async def _chunks(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def _read(body: bytes, size: int) -> tuple[str, str | None, bytes]:
    part = await file_part(_chunks(body, size), b"XyZ")
    return part.file_name, part.content_type, b"".join([c async for c in part.chunks])


@pytest.mark.parametrize("size", [1, 2, 3, 7, 16, 64, len(_BODY)])
async def test_the_file_comes_out_whole_whatever_the_chunks(size: int) -> None:
    assert await _read(_BODY, size) == ("people.csv", "text/csv", _FILE)


@pytest.mark.parametrize(
    "body",
    [
        b"--XyZ\r\n" + b'Content-Disposition: form-data; name="a"\r\n\r\n1\r\n--XyZ--\r\n',
        b"--XyZ\r\n" + b'Content-Disposition: form-data; name="f"; filename="a.csv"\r\n\r\nab',
        b"no boundary at all",
    ],
    ids=["no file part", "no closing boundary", "no boundary"],
)
async def test_malformed_bodies_are_bad_requests(body: bytes) -> None:
    with pytest.raises(BadRequest):
        await _read(body, 5)


def test_boundary_of_reads_the_content_type() -> None:
    assert boundary_of('multipart/form-data; boundary="a b"') == b"a b"
    assert boundary_of("text/csv") is None
    with pytest.raises(BadRequest):
        boundary_of("multipart/form-data")


def test_a_form_upload_through_the_api(imports_server: RunningServer) -> None:
    workspace, _, source_id = imports_server.new_workspace()
    with client(imports_server) as http:
        answer = http.post(
            f"/workspaces/{workspace}/imports",
            params={"source_id": source_id, "kind": "events"},
            files={"file": ("orders.csv", b"user_id,event\nu-1,Paid\nu-2,Paid\n", "text/csv")},
        )
        assert answer.status_code == 201, answer.text
        job = answer.json()
        assert (job["file_name"], job["format"], job["rows_total"]) == ("orders.csv", "csv", 2)
        broken = http.post(
            f"/workspaces/{workspace}/imports",
            params={"source_id": source_id, "kind": "events"},
            content=b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--b--\r\n",
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )
        assert broken.status_code == 400
        assert broken.json()["code"] == "invalid_multipart"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_dash_f(imports_server: RunningServer, tmp_path: Path) -> None:
    workspace, _, source_id = imports_server.new_workspace()
    path = tmp_path / "people.jsonl"
    path.write_text('{"user_id": "u-1", "event": "Paid"}\n')
    url = f"{imports_server.url}/api/v1/workspaces/{workspace}/imports"
    done = subprocess.run(
        [
            "curl", "-sS", "-H", f"Authorization: Bearer {ADMIN_TOKEN}",
            "-F", f"file=@{path}", f"{url}?source_id={source_id}&kind=events",
        ],
        capture_output=True, check=True, text=True,
    )  # fmt: skip
    assert '"format":"jsonl"' in done.stdout.replace(" ", ""), done.stdout
