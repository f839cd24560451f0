"""Reading CSV, JSON Lines and Parquet in batches, with bad rows kept apart."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from headwater.imports.reader import BadRow, format_of, read_batches


def test_format_from_content_type_then_suffix() -> None:
    assert format_of("a.csv", None) == "csv"
    assert format_of("a.NDJSON", None) == "jsonl"
    assert format_of("a.bin", "application/vnd.apache.parquet") == "parquet"
    assert format_of("a.txt", "text/csv; charset=utf-8") == "csv"
    assert format_of("a.txt", "application/octet-stream") is None


def test_csv_in_batches_with_skip_and_short_rows(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("\ufeffid,name\n1,Ann\n2,\n3\n4,Dan\n5,Eve\n", encoding="utf-8")
    batches = list(read_batches(path, "csv", batch_rows=2))
    assert [len(b) for b in batches] == [2, 2, 1]
    rows = [row for batch in batches for row in batch]
    assert rows[0] == {"id": "1", "name": "Ann"}
    assert rows[1] == {"id": "2", "name": None}
    assert isinstance(rows[2], BadRow)
    resumed = [row for batch in read_batches(path, "csv", batch_rows=2, skip=3) for row in batch]
    assert resumed == [{"id": "4", "name": "Dan"}, {"id": "5", "name": "Eve"}]


def test_jsonl_rows_keep_their_types_and_bad_lines_are_rows(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"a": 1, "b": true}\nnot json\n[1]\n\n{"a": 2.5}\n')
    rows = [row for batch in read_batches(path, "jsonl", batch_rows=10) for row in batch]
    assert rows[0] == {"a": 1, "b": True}
    assert [type(r) for r in rows[1:4]] == [BadRow, BadRow, BadRow]
    assert rows[4] == {"a": 2.5}


def test_parquet_values_become_json_values(tmp_path: Path) -> None:
    path = tmp_path / "rows.parquet"
    table = pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int64()),
            "at": pa.array(
                [datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)] * 3, pa.timestamp("ms", "UTC")
            ),
            "day": pa.array([date(2026, 1, 2)] * 3),
            "ok": pa.array([True, False, None]),
        }
    )
    pq.write_table(table, path, row_group_size=2)
    batches = list(read_batches(path, "parquet", batch_rows=2, skip=1))
    assert [len(b) for b in batches] == [2]
    assert batches[0][0] == {
        "id": 2,
        "at": "2026-01-02T03:04:05.000Z",
        "day": "2026-01-02",
        "ok": False,
    }


def test_a_file_that_is_not_its_format_raises_value_error(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    path.write_bytes(b"id,name\n1,a\n")
    with pytest.raises(ValueError, match="Parquet"):
        list(read_batches(path, "parquet", batch_rows=10))


def test_nul_characters_become_the_replacement_character(tmp_path: Path) -> None:
    csv_path = tmp_path / "nul.csv"
    csv_path.write_text("id,name\n1,a\x00b\n", encoding="utf-8")
    assert next(read_batches(csv_path, "csv", batch_rows=5)) == [{"id": "1", "name": "a\ufffdb"}]
    jsonl_path = tmp_path / "nul.jsonl"
    jsonl_path.write_bytes(b'{"name": "a\\u0000b"}\n')
    assert next(read_batches(jsonl_path, "jsonl", batch_rows=5)) == [{"name": "a\ufffdb"}]
