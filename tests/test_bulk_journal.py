"""The bulk journal on its own: states, resume classification, conflicts; plus report files."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
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


async def _big_journal(path: Path, n: int) -> int:
    """A journal whose run has ``n`` invoices: every 10th downloaded, most failed, a few left submitted."""
    nums = [f"RE-2026-{i:06d}" for i in range(n)]
    async with Journal(path) as j:
        run = await j.begin_run()
        for start in range(0, n, 5000):
            chunk = nums[start : start + 5000]
            await j.plan(run, [Planned(x, f"{x}-hash") for x in chunk])
            await j.mark_submitting(chunk)
            await j.mark_submitted([(x, f"F{x[-6:]}") for x in chunk])
            await j.mark_failed(
                [x for k, x in enumerate(chunk) if k % 10 not in (0, 9)],
                "download of xml failed after 5 tries: ReadError: connection reset by peer",
                final=False,
            )
        for x in nums[::10]:
            await j.mark_downloaded(
                x,
                {
                    "pdf": {"path": f"{x}.pdf", "sha256": "ab" * 32, "size": 20_000},
                    "xml": {"path": f"{x}.xml", "sha256": "cd" * 32, "size": 4_000},
                },
            )
        await j.add_extra(run, "=HYPERLINK()", "conflict", "a different payload is already journalled")
        await j.finish_run(run, "interrupted")
    return run


async def test_report_of_a_big_run_is_streamed_in_bounded_memory(tmp_path: Path) -> None:
    import tracemalloc

    from faktoora_async.bulk.report import JournalRows, outcome_counts

    n = 50_000
    path = tmp_path / "journal.sqlite"
    run = await _big_journal(path, n)
    async with Journal(path) as j:
        counts = outcome_counts(await j.counts(run), await j.extra_counts(run), interrupted=True)
    assert counts == {"done": 5_000, "failed": 40_000, "pending": 5_000, "conflict": 1}
    out = tmp_path / "out"
    report = RunReport(
        run_id=run,
        out_dir=out,
        journal=path,
        counts=counts,
        rows=JournalRows(path, run, interrupted=True),
        requests={"create": 500},
        polls_per_invoice=1.0,
        wall_time=1.0,
        interrupted=True,
    )
    assert report.total == n + 1 and not report.ok

    tracemalloc.start()
    try:
        json_path, csv_path = report.write()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Holding the 50,001 rows as ReportRows plus the JSON blob (the old way) peaks at ~60 MB here;
    # streaming needs a chunk of rows and the file buffers.
    assert peak < 20 * 2**20, f"report.write() peaked at {peak / 2**20:.1f} MiB"

    assert sorted(p.name for p in out.iterdir()) == ["report.csv", "report.json"]  # no temp files left
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    assert doc["total"] == n + 1 and doc["counts"] == counts and doc["interrupted"] is True
    invoices = doc["invoices"]
    assert len(invoices) == n + 1
    assert [r["number"] for r in invoices[:n]] == [f"RE-2026-{i:06d}" for i in range(n)]
    assert invoices[0]["outcome"] == "done"
    assert invoices[0]["files"] == {"pdf": "RE-2026-000000.pdf", "xml": "RE-2026-000000.xml"}
    assert invoices[0]["sha256"]["xml"] == "cd" * 32
    assert invoices[1]["outcome"] == "failed" and invoices[1]["reason"].startswith("download of xml")
    assert invoices[9]["outcome"] == "pending" and invoices[9]["faktoora_id"] == "F000009"
    assert invoices[-1] == {
        "number": "=HYPERLINK()", "outcome": "conflict", "state": "not journalled", "faktoora_id": None,
        "files": {}, "sha256": {}, "reason": "a different payload is already journalled", "rule_ids": [],
        "attempts": 0,
    }  # fmt: skip
    with csv_path.open(newline="", encoding="utf-8") as fh:
        lines = list(csv.DictReader(fh))
    assert len(lines) == n + 1
    assert [r["invoice_number"] for r in lines[:n]] == [r["number"] for r in invoices[:n]]
    assert lines[0]["xml_sha256"] == "cd" * 32 and lines[0]["attempts"] == "1"
    assert lines[-1]["invoice_number"] == "'=HYPERLINK()"  # formula protection kept
    # Rows are streamed on demand too, and the failures list only what did not end done.
    assert sum(1 for _ in report.iter_rows()) == n + 1
    assert sum(1 for _ in report.iter_failed()) == n + 1 - 5_000


async def test_report_rows_read_from_the_journal(tmp_path: Path) -> None:
    from faktoora_async.bulk.report import JournalRows

    path = tmp_path / "j.sqlite"
    async with Journal(path) as j:
        run = await j.begin_run()
        await j.plan(run, [Planned("A-1", "h1"), Planned("A-2", "h2", (("BR-16", "no lines"),))])
        await j.mark_submitting(["A-1"])
    rows = JournalRows(path, run, interrupted=False)
    report = RunReport(run, tmp_path, path, {"failed": 2}, rows, {}, 0.0, 0.0)
    assert [(r.number, r.outcome, r.rule_ids) for r in report.rows] == [
        ("A-1", "failed", ()),
        ("A-2", "failed", ("BR-16",)),
    ]
    assert report.rows[0].reason == "did not finish (left in submitting)"
    assert [r.outcome for r in JournalRows(path, run, interrupted=True)] == ["pending", "failed"]
    assert report.total == 2 and not report.ok and len(report.failed) == 2


def test_report_write_failure_keeps_the_old_files(tmp_path: Path) -> None:
    good = RunReport(
        1, tmp_path, tmp_path / "j", {"done": 1}, [ReportRow("A", "done", "downloaded")], {}, 0, 0
    )
    good.write()
    before = (tmp_path / "report.json").read_bytes(), (tmp_path / "report.csv").read_bytes()

    class Broken:
        def __iter__(self) -> Iterator[ReportRow]:
            yield ReportRow("B", "done", "downloaded")
            raise OSError("disk on fire")

    bad = RunReport(2, tmp_path, tmp_path / "j", {"done": 2}, Broken(), {}, 0, 0)
    with pytest.raises(OSError, match="disk on fire"):
        bad.write()
    assert ((tmp_path / "report.json").read_bytes(), (tmp_path / "report.csv").read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.csv", "report.json"]


async def test_a_journal_of_the_first_release_is_migrated_in_place(tmp_path: Path) -> None:
    import sqlite3

    from faktoora_async.bulk.journal.migrations import SQLITE_MIGRATIONS

    path = tmp_path / "old.sqlite"
    version_1 = dict(SQLITE_MIGRATIONS)[1]  # the first release's schema, which had no version table
    with sqlite3.connect(path) as conn:
        for statement in version_1:
            conn.execute(statement)
        conn.execute("INSERT INTO runs (started_at) VALUES (1.0)")
        conn.execute(
            "INSERT INTO invoices (number, payload_hash, state, faktoora_id, attempts, run_id, created_at,"
            " updated_at) VALUES ('OLD-1', 'h', 'submitted', 'F1', 1, 1, 1.0, 1.0)"
        )
    conn.close()
    async with Journal(path) as j:
        assert await j.schema_version() == SQLITE_MIGRATIONS[-1][0]
        row = await j.get("OLD-1")
        assert row is not None and row.state == "submitted" and row.faktoora_id == "F1"
        run = await j.begin_run(name="resume")
        assert [r.kind for r in await j.plan(run, [Planned("OLD-1", "h")])] == ["known"]
        async with j.worker(run) as w:  # the new columns work on the old rows
            assert [c.row.number for c in await w.claim(10)] == ["OLD-1"]
    async with Journal(path) as j:  # opening again applies nothing twice
        assert await j.schema_version() == SQLITE_MIGRATIONS[-1][0]
    with sqlite3.connect(path) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM journal_schema ORDER BY version")]
    conn.close()
    assert versions == [v for v, _ in SQLITE_MIGRATIONS]
