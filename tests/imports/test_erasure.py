"""Deleting a person removes them from file imports: the row errors that quote them, the
sample rows that hold them, and every upload of the workspace not yet running (ended, its
file deleted by the next sweep); other people's errors stay."""

from __future__ import annotations

import pytest

from headwater import imports, privacy
from headwater.errors import Conflict
from headwater.log import PostgresLog
from headwater.storage import begin
from tests.imports.local import Local, local

__all__ = ["local"]

_DONE = (
    "user_id,event,timestamp\n"
    "carl@example.com,Paid,yesterday\n"
    "bob@example.com,Paid,2026-01-02T03:04:05Z\n"
    "ana@example.com,Paid,ana@example.com\n"
)
"""Ana's row has her email in the timestamp column: its error quotes it."""

_WAITING = "user_id,event\nana@example.com,Signed up\ndan@example.com,Signed up\n"


async def _forget(local: Local, values: list[str]) -> dict[str, int]:
    async with local.engine.connect() as connection:
        tx = await begin(connection)
        counts = await imports.forget_person(tx, local.source.workspace_id, values)
        await connection.commit()
    return counts


async def test_a_person_leaves_row_errors_samples_and_waiting_uploads(local: Local) -> None:
    done = await local.run_to_end((await local.upload(_DONE))["id"])
    assert [e["row"] for e in done["errors"]] == [1, 3]
    assert "ana@example.com" in done["errors"][1]["message"]
    waiting = await local.upload(_WAITING)
    assert [row["user_id"] for row in waiting["sample"]] == ["ana@example.com", "dan@example.com"]
    path = local.settings.resolved_data_dir() / "imports" / f"{waiting['id']}.csv"
    assert path.exists()

    counts = await _forget(local, ["ana@example.com", "profile-123"])

    assert counts == {"import_errors": 1, "import_samples": 1, "import_uploads": 1}
    assert [e["row"] for e in (await local.job(done["id"]))["errors"]] == [1]
    ended = await local.job(waiting["id"])
    assert ended["status"] == "failed"
    assert ended["failure"] == imports.ERASED_UPLOAD
    assert ended["sample"] == []
    await local.importer.sweep()
    assert not path.exists()
    assert await _forget(local, ["ana@example.com"]) == dict.fromkeys(imports.FORGOTTEN, 0)


async def test_an_erased_upload_cannot_be_started(local: Local) -> None:
    waiting = await local.upload(_WAITING)
    await _forget(local, ["someone.else@example.com"])
    job = await local.job(waiting["id"])
    assert (job["status"], job["sample"]) == ("failed", [])
    with pytest.raises(Conflict) as refused:
        await local.importer.start(workspace=local.workspace, job_id=waiting["id"], mapping=None)
    assert refused.value.code == "import_ended"


async def test_a_regulation_s_erase_reaches_the_imports(local: Local) -> None:
    await local.upload(_WAITING)
    log = PostgresLog(local.engine, local.settings.log_partitions)
    try:
        removed = await privacy.erase_person(
            local.engine,
            log,
            workspace_id=local.source.workspace_id,
            subject_type="USER_ID",
            subject_id="ana@example.com",
        )
    finally:
        await log.close()
    assert list(removed) == list(privacy.STORES)
    assert {name: removed[name] for name in imports.FORGOTTEN} == {
        "import_errors": 0,
        "import_samples": 1,
        "import_uploads": 1,
    }
