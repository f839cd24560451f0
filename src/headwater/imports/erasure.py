"""Forgetting a person in file imports: the row errors and sample rows kept with jobs, and
the uploads still waiting to be started.

>>> await forget_person(tx, workspace_id, ["ana@example.com", "u-1"])
{'import_errors': 1, 'import_samples': 2, 'import_uploads': 1}

A job keeps the first row errors of its file (:data:`store.ERRORS_KEPT`: row, column and the
reason, which may quote a cell) and, until it ends, a few sample rows (shown while the mapping
is chosen): both are matched against the person's values, the errors by substring (a reason
may quote a value inside its text), the samples by any cell equal to one, ignoring case.

An uploaded file that is not yet running (``uploaded`` or ``queued``) may hold the person's
rows, and nothing short of reading it whole says whether it does: every such job of the
workspace is ended (failed, :data:`ERASED_UPLOAD` its reason) in the erase's transaction, so
it can never run, and its file is removed by the imports task's next sweep
(:meth:`Importer.sweep`). The team uploads the file again, without the person. An import
already running is data arriving after the deletion, as a tracking call is: suppression
(``SUPPRESS_WITH_DELETE``) keeps its rows of the person out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from headwater.storage import Transaction, holds_any, removed

__all__ = ["ERASED_UPLOAD", "FORGOTTEN", "forget_person"]

ERASED_UPLOAD: Final = (
    "a deletion request was carried out before this import started, and the file may hold"
    " that person's rows: upload it again without them"
)

FORGOTTEN: Final = ("import_errors", "import_samples", "import_uploads")
"""The counts :func:`forget_person` returns, in this order."""

_SHORTEST: Final = 5
"""Values shorter than this are not looked for inside a reason's text (``u-1`` would match
too much); whole-cell matches of the samples use every value."""

_FORGET_ERRORS = """
WITH hit AS (
  SELECT id, jsonb_array_length(errors) AS before FROM import_jobs
  WHERE workspace_id = $1 AND errors <> '[]'::jsonb
    AND EXISTS (SELECT 1 FROM jsonb_array_elements(errors) AS e(item), unnest($2::text[]) AS v
                WHERE strpos(lower(e.item::text), v) > 0)
  FOR UPDATE)
UPDATE import_jobs j SET errors = (
  SELECT coalesce(jsonb_agg(e.item ORDER BY e.n), '[]'::jsonb)
  FROM jsonb_array_elements(j.errors) WITH ORDINALITY AS e(item, n)
  WHERE NOT EXISTS (SELECT 1 FROM unnest($2::text[]) AS v WHERE strpos(lower(e.item::text), v) > 0))
FROM hit WHERE j.id = hit.id
RETURNING hit.before - jsonb_array_length(j.errors)
"""

_FORGET_SAMPLES = f"""
WITH hit AS (
  SELECT id, jsonb_array_length(columns -> 'sample') AS before FROM import_jobs
  WHERE workspace_id = $1 AND columns -> 'sample' <> '[]'::jsonb
    AND {holds_any("columns -> 'sample'", "$2::text[]")}
  FOR UPDATE)
UPDATE import_jobs j SET columns = jsonb_set(j.columns, '{{sample}}', (
  SELECT coalesce(jsonb_agg(s.item ORDER BY s.n), '[]'::jsonb)
  FROM jsonb_array_elements(j.columns -> 'sample') WITH ORDINALITY AS s(item, n)
  WHERE NOT {holds_any("s.item", "$2::text[]")}))
FROM hit WHERE j.id = hit.id
RETURNING hit.before - jsonb_array_length(j.columns -> 'sample')
"""

_END_UPLOADS = """
UPDATE import_jobs SET status = 'failed', failure = $2, finished_at = now(),
  columns = jsonb_set(columns, '{sample}', '[]'::jsonb)
WHERE workspace_id = $1 AND status IN ('uploaded', 'queued')
"""


async def forget_person(
    tx: Transaction, workspace_id: int, values: Sequence[str]
) -> dict[str, int]:
    """Remove a person (``values``: their identifiers and profile ids, lower case) from the
    workspace's imports, within ``tx``: row errors removed (``import_errors``), sample rows
    removed (``import_samples``), and uploads not yet running ended (``import_uploads``;
    their files go at the imports task's next sweep). A second call removes nothing."""
    lowered = sorted({value.lower() for value in values})
    quoted = [value for value in lowered if len(value) >= _SHORTEST]
    errors = sum(row[0] for row in await tx.driver.fetch(_FORGET_ERRORS, workspace_id, quoted))
    samples = sum(row[0] for row in await tx.driver.fetch(_FORGET_SAMPLES, workspace_id, lowered))
    uploads = removed(await tx.driver.execute(_END_UPLOADS, workspace_id, ERASED_UPLOAD))
    return {"import_errors": errors, "import_samples": samples, "import_uploads": uploads}
