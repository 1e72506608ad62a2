"""The bulk journal on its own: states, resume classification, conflicts; plus report files."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from faktoora_async.bulk import Journal, ReportRow, RunReport, file_stem, payload_hash, read_rows
from faktoora_async.bulk.journal import Planned

pytestmark = pytest.mark.anyio


async def test_plan_and_transitions(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    async with Journal(path) as j:
        run = await j.begin_run()
        res = await j.plan(
            run,
            [Planned("A-1", "h1"), Planned("A-2", "h2"), Planned("A-3", "h3", (("BR-16", "no lines"),))],
        )
        assert [r.kind for r in res] == ["new", "new", "new"]
        assert [r.row.state for r in res] == ["planned", "planned", "failed"]
        assert res[2].row.rule_ids == ("BR-16",) and res[2].row.final
        await j.mark_submitting(["A-1", "A-2"])
        await j.mark_submitted([("A-1", "FAAAAAA1")])
        await j.mark_ready("A-1")
        await j.mark_downloaded("A-1", {"pdf": {"path": "A-1.pdf", "sha256": "00", "size": 1}})
        await j.mark_failed(["A-2"], "timeout", final=False)
        # The same number again in the same run is a repeat; a changed payload is a conflict.
        again = await j.plan(run, [Planned("A-1", "h1"), Planned("A-2", "other")])
        assert [r.kind for r in again] == ["repeat", "conflict"]
        await j.finish_run(run, "finished")

    rows = {r.number: r for r in read_rows(path)}
    assert rows["A-1"].state == "downloaded" and rows["A-1"].faktoora_id == "FAAAAAA1"
    assert rows["A-1"].files["pdf"]["path"] == "A-1.pdf" and rows["A-1"].attempts == 1
    assert rows["A-2"].state == "failed" and not rows["A-2"].final and rows["A-2"].reason == "timeout"

    # A second run (resume) sees the rows as known, with their state.
    async with Journal(path) as j:
        run2 = await j.begin_run()
        assert run2 != run
        res = await j.plan(run2, [Planned("A-1", "h1"), Planned("A-2", "h2"), Planned("A-4", "h4")])
        assert [r.kind for r in res] == ["known", "known", "new"]
        assert res[0].row.state == "downloaded"
        assert (await j.counts(run2)) == {"downloaded": 1, "failed": 1, "planned": 1}
        extras = await j.fetch_extras(run)
        assert extras and extras[0][0] == "A-2" and extras[0][1] == "conflict"


def test_payload_hash_is_canonical() -> None:
    a = {"invoiceNumber": "X", "items": [{"price": Decimal("1.50")}], "currency": "EUR"}
    b = {"currency": "EUR", "items": [{"price": Decimal("1.50")}], "invoiceNumber": "X"}
    assert payload_hash(a) == payload_hash(b)
    assert payload_hash(a) != payload_hash({**a, "currency": "CHF"})


@pytest.mark.parametrize("number", ["../../etc/passwd", "A/B", "..", "a\x00b", "C:\\x", ".hidden", "ä€"])
def test_file_stem_never_escapes(tmp_path: Path, number: str) -> None:
    stem = file_stem(number)
    target = (tmp_path / f"{stem}.pdf").resolve()
    assert target.parent == tmp_path.resolve()
    assert "/" not in stem and "\\" not in stem and not stem.startswith(".")
    assert file_stem("A/1") != file_stem("A_1")


def test_report_files(tmp_path: Path) -> None:
    rows = [
        ReportRow(
            "R-1", "done", "downloaded", "F1234567", {"pdf": "R-1.pdf"}, {"pdf": "ab" * 32}, attempts=1
        ),
        ReportRow("=cmd()", "failed", "failed", reason="pre-flight: BR-16", rule_ids=("BR-16",)),
    ]
    report = RunReport(
        run_id=1,
        out_dir=tmp_path,
        journal=tmp_path / "j.sqlite",
        counts={"done": 1, "failed": 1},
        rows=rows,
        requests={"create": 1},
        polls_per_invoice=1.0,
        wall_time=0.5,
    )
    json_path, csv_path = report.write()
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    assert doc["counts"] == {"done": 1, "failed": 1}
    assert doc["invoices"][1]["rule_ids"] == ["BR-16"]
    with csv_path.open(newline="", encoding="utf-8") as fh:
        lines = list(csv.DictReader(fh))
    assert lines[0]["pdf_sha256"] == "ab" * 32
    assert lines[1]["invoice_number"] == "'=cmd()"  # no spreadsheet formula injection
    assert not report.ok
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.csv", "report.json"]
