"""report.json and report.csv: one pass over the rows, the layout of ``json.dumps(doc, indent=1)``.

The report of a 2,000-invoice run used to take ~0.3 s after the last response (``dataclasses.asdict``
deep-copying every row, the pure-Python indenting encoder, the journal read twice); it is written in one
pass with msgspec now, and these tests pin that the bytes did not change.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterator
from pathlib import Path

from faktoora_async.bulk.report import ReportRow, RunReport, _row_dict

ROWS = [
    ReportRow("RE-1", "done", "downloaded", "fid-1", {"pdf": "RE-1.pdf", "xml": "RE-1.xml"},
              {"pdf": "ab" * 32, "xml": "cd" * 32}, None, (), 1),
    ReportRow("Ä/\"quote\"\\\u2028", "failed", "failed", None, {}, {}, "=1+2 <reason> ü\n2nd line",
              ("BR-CO-10", "BR-16"), 3),
    ReportRow("RE-3", "pending", "not journalled", reason="-negative"),
]  # fmt: skip


class _Once:
    """Rows that may be read only once (a journal stream read twice would fail this)."""

    def __init__(self) -> None:
        self.reads = 0

    def __iter__(self) -> Iterator[ReportRow]:
        self.reads += 1
        assert self.reads == 1, "the rows were read more than once"
        return iter(ROWS)


def _report(rows: object, out: Path) -> RunReport:
    return RunReport(
        run_id=7, out_dir=out, journal=out / "j.sqlite", counts={"done": 1, "failed": 1, "pending": 1},
        rows=rows, requests={"create": 1}, polls_per_invoice=1.25, wall_time=2.5,  # type: ignore[arg-type]
    )  # fmt: skip


def test_a_row_dict_is_dataclasses_asdict() -> None:
    for row in ROWS:
        expected = dataclasses.asdict(row)
        expected["rule_ids"] = list(row.rule_ids)
        assert _row_dict(row) == expected
        assert list(_row_dict(row)) == [f.name for f in dataclasses.fields(ReportRow)]


def test_report_json_is_the_indent_1_dump_of_the_whole_document(tmp_path: Path) -> None:
    report = _report(ROWS, tmp_path)
    doc = {
        **report.summary(),
        "out_dir": str(tmp_path),
        "journal_path": str(tmp_path / "j.sqlite"),
        "invoices": [_row_dict(r) for r in ROWS],
    }
    assert report.to_json_bytes() == json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
    empty = _report([], tmp_path)
    assert json.loads(empty.to_json_bytes())["invoices"] == []


def test_write_reads_the_rows_once_and_writes_both_files(tmp_path: Path) -> None:
    rows = _Once()
    json_path, csv_path = _report(rows, tmp_path).write()
    assert rows.reads == 1
    assert json_path.read_bytes() == _report(ROWS, tmp_path).to_json_bytes()
    assert csv_path.read_bytes() == _report(ROWS, tmp_path).to_csv_bytes()
    table = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    assert [r[0] for r in table[1:]] == ["RE-1", ROWS[1].number, "RE-3"]
    assert table[2][-1].startswith("'=") and table[3][-1] == "'-negative"  # formula cells defused
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.csv", "report.json"]  # no temp files
