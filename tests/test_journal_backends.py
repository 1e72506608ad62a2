"""One suite, both journal backends (SQLite file, real PostgreSQL): states, runs, migrations, claims, leases.

Every test takes ``journal_spec`` (tests/_services.py): a SQLite path, then a fresh PostgreSQL database.
Other workers are real other processes (tests/_journal_child.py) or other journal objects with their own
connections; nothing is mocked.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import pytest

from faktoora_async import errors
from faktoora_async.bulk import RunReport
from faktoora_async.bulk.journal import Journal, JournalError, Planned, SQLiteJournal, open_journal
from faktoora_async.bulk.report import JournalRows

pytestmark = pytest.mark.anyio

CHILD = Path(__file__).with_name("_journal_child.py")
FILES = {"xml": {"path": "x.xml", "sha256": "00", "size": 1}}


def planned(n: int, *, prefix: str = "RE-", payload: bool = True) -> list[Planned]:
    body = (lambda i: b'{"n": %d}' % i) if payload else (lambda i: None)
    return [Planned(f"{prefix}{i:05d}", f"hash-{i}", payload=body(i)) for i in range(n)]


async def new_run(spec: str, entries: list[Planned]) -> int:
    async with Journal(spec) as j:
        run = await j.begin_run(name="march")
        for start in range(0, len(entries), 500):
            await j.plan(run, entries[start : start + 500])
    return run


class Child:
    """A worker in its own process, speaking JSON lines."""

    def __init__(self, spec: str, run: int, mode: str, *, lease: float = 30.0, batch: int = 10) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), spec, str(run), mode, "--lease", str(lease), "--batch", str(batch)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent,
        )  # fmt: skip

    def event(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, f"child exited with {self.proc.wait()}"
        event: dict[str, Any] = json.loads(line)
        return event

    def events(self) -> list[dict[str, Any]]:
        assert self.proc.stdout is not None
        out = [json.loads(line) for line in self.proc.stdout]
        assert self.proc.wait(60) == 0
        return out

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


# -- states and runs ----------------------------------------------------------------------------------------


async def test_plan_transitions_and_resume(journal_spec: str) -> None:
    async with Journal(journal_spec) as j:
        run = await j.begin_run()
        res = await j.plan(
            run, [Planned("A-1", "h1"), Planned("A-2", "h2"), Planned("A-3", "h3", (("BR-16", "no lines"),))]
        )
        assert [r.kind for r in res] == ["new", "new", "new"]
        assert [r.row.state for r in res] == ["planned", "planned", "failed"]
        assert res[2].row.rule_ids == ("BR-16",) and res[2].row.final
        assert await j.mark_submitting(["A-1", "A-2"]) == ["A-1", "A-2"]
        await j.mark_submitted([("A-1", "FAAAAAA1")])
        await j.mark_ready("A-1")
        await j.mark_downloaded("A-1", {"pdf": {"path": "A-1.pdf", "sha256": "00", "size": 1}})
        await j.mark_failed(["A-2"], "timeout", final=False)
        # The same number again in the same run is a repeat; a changed payload is a conflict.
        again = await j.plan(run, [Planned("A-1", "h1"), Planned("A-2", "other"), Planned("A-9", "h9"),
                                   Planned("A-9", "h9")])  # fmt: skip
        assert [r.kind for r in again] == ["repeat", "conflict", "new", "repeat"]
        await j.finish_run(run, "finished")
        one = await j.get("A-1")
        assert one is not None and one.state == "downloaded" and one.faktoora_id == "FAAAAAA1"
        assert one.files["pdf"]["path"] == "A-1.pdf" and one.attempts == 1 and one.submitted_at is not None
        two = await j.get("A-2")
        assert two is not None and two.state == "failed" and not two.final and two.reason == "timeout"

    # A second run (resume) sees the rows as known, with their state; nothing is planned twice.
    async with Journal(journal_spec) as j:
        run2 = await j.begin_run()
        assert run2 != run
        res = await j.plan(run2, [Planned("A-1", "h1"), Planned("A-2", "h2"), Planned("A-4", "h4")])
        assert [r.kind for r in res] == ["known", "known", "new"]
        assert res[0].row.state == "downloaded"
        assert await j.counts(run2) == {"downloaded": 1, "failed": 1, "planned": 1}
        assert await j.counts() == {"downloaded": 1, "failed": 2, "planned": 2}
        assert await j.extra_counts(run) == {"conflict": 1}
        extras = await j.fetch_extras(run)
        assert extras[0][:2] == ("A-2", "conflict")
        rows = await j.fetch_run_rows(run2, after="A-1", limit=1)
        assert [r.number for r in rows] == ["A-2"]
        info = await j.run_info(run)
        assert info is not None and info.outcome == "finished" and info.finished_at is not None


async def test_planning_the_same_input_twice_plans_nothing_twice(journal_spec: str) -> None:
    entries = planned(300)
    first = await new_run(journal_spec, entries)
    async with Journal(journal_spec) as j:
        second = await j.begin_run(name="march")
        results = await j.plan(second, entries)
        assert Counter(r.kind for r in results) == {"known": 300}
        assert await j.counts() == {"planned": 300}
        assert await j.counts(second) == {"planned": 300} and await j.counts(first) == {}
        assert await j.find_run("march") == second and await j.find_run("april") is None


async def test_report_rows_stream_from_either_backend(journal_spec: str, tmp_path: Path) -> None:
    async with Journal(journal_spec) as j:
        run = await j.begin_run()
        await j.plan(run, [Planned("B-2", "h2"), Planned("B-1", "h1", (("BR-16", "no lines"),))])
        await j.mark_submitting(["B-2"])
        await j.add_extra(run, "=X()", "conflict", "a different payload")
        source = j.row_source(run, chunk=1)
    rows = JournalRows(source, run, interrupted=False)
    report = RunReport(run, tmp_path, tmp_path / "j", {"failed": 3}, rows, {}, 0.0, 0.0)
    assert [(r.number, r.outcome, r.state) for r in report.rows] == [
        ("B-1", "failed", "failed"),
        ("B-2", "failed", "submitting"),
        ("=X()", "conflict", "not journalled"),
    ]
    json_path, _ = report.write()
    assert [i["number"] for i in json.loads(json_path.read_text())["invoices"]] == ["B-1", "B-2", "=X()"]


# -- schema and migrations ----------------------------------------------------------------------------------


async def test_schema_is_created_then_reopened_idempotently(journal_spec: str) -> None:
    async with Journal(journal_spec) as j:
        first = await j.schema_version()
        run = await j.begin_run()
        await j.plan(run, planned(3))
    assert first >= 1
    # Several openers at once (their own connections): one creates, the others find it made.
    journals = [Journal(journal_spec) for _ in range(4)]
    async with anyio.create_task_group() as tg:
        for journal in journals:
            tg.start_soon(journal.open)
    try:
        assert {await journal.schema_version() for journal in journals} == {first}
        assert await journals[0].counts() == {"planned": 3}
    finally:
        for journal in journals:
            await journal.aclose()


async def test_concurrent_first_opens_of_an_empty_database(journal_spec: str) -> None:
    journals = [Journal(journal_spec) for _ in range(5)]
    async with anyio.create_task_group() as tg:
        for journal in journals:
            tg.start_soon(journal.open)
    try:
        versions = {await journal.schema_version() for journal in journals}
        assert len(versions) == 1
        runs = [await journal.begin_run() for journal in journals]
        assert len(set(runs)) == 5
    finally:
        for journal in journals:
            await journal.aclose()


async def test_a_newer_schema_is_refused(journal_spec: str) -> None:
    async with Journal(journal_spec) as j:
        version = await j.schema_version()
    if journal_spec.startswith("postgresql"):
        import psycopg

        with psycopg.connect(journal_spec, autocommit=True) as conn:
            conn.execute("INSERT INTO faktoora.journal_schema VALUES (%s, 0)", (version + 1,))
    else:
        import sqlite3

        with sqlite3.connect(journal_spec) as conn:
            conn.execute("INSERT INTO journal_schema VALUES (?, 0)", (version + 1,))
        conn.close()
    with pytest.raises(JournalError, match=f"version {version + 1}, newer than this faktoora-async supports"):
        await Journal(journal_spec).open()


# -- claims and leases --------------------------------------------------------------------------------------


async def test_claims_hand_out_each_row_once_with_its_payload(journal_spec: str) -> None:
    run = await new_run(journal_spec, planned(25))
    async with Journal(journal_spec) as a, Journal(journal_spec) as b:
        async with a.worker(run, name="a") as wa, b.worker(run, name="b") as wb:
            first = await wa.claim(10)
            second = await wb.claim(100)
            assert [c.row.number for c in first] == [f"RE-{i:05d}" for i in range(10)]
            assert [c.row.number for c in second] == [f"RE-{i:05d}" for i in range(10, 25)]
            assert first[3].payload == b'{"n": 3}' and first[3].claims == 1
            assert first[3].row.state == "planned"
            assert await wa.claim(10) == [] and await wb.claim(10) == []
            info = await a.run_info(run)
            assert info is not None and info.claimed == 25 and info.alive_workers == 2
            assert sorted((w.name, w.claimed) for w in info.workers) == [("a", 10), ("b", 15)]
            # Finishing a row releases it; giving rows back makes them claimable again.
            await a.mark_downloaded(first[0].row.number, FILES)
            assert await wa.release([c.row.number for c in first[1:4]]) == 3
            again = await wb.claim(10)
            assert [c.row.number for c in again] == [c.row.number for c in first[1:4]]
            assert again[0].claims == 2
        # Leaving the worker block releases everything it still held.
        async with a.worker(run, name="c") as wc:
            assert len(await wc.claim(100)) == 24
        runs = await a.runs()
        assert runs[0].id == run and not any(w.alive for w in runs[0].workers) and runs[0].claimed == 0


async def test_what_may_be_claimed(journal_spec: str) -> None:
    async with Journal(journal_spec) as j:
        run = await j.begin_run()
        p = b"{}"
        entries = [Planned(f"C-{k}", "h", payload=p) for k in range(1, 8)]
        entries[1] = Planned("C-2", "h")  # no payload journalled
        entries[4] = Planned("C-5", "h", (("BR-1", "x"),), payload=p)
        entries[6] = Planned("C-7", "h")
        await j.plan(run, entries)
        await j.mark_submitting(["C-3", "C-4", "C-6", "C-7"])
        await j.mark_submitted([("C-3", "F3"), ("C-7", "F7")])
        await j.mark_downloaded("C-3", FILES)
        await j.mark_failed(["C-4"], "timeout", final=False)
        await j.mark_failed(["C-6"], "rejected", final=True)
        async with j.worker(run) as w:
            # C-1 planned with payload; C-2 planned without one (cannot be sent by a worker); C-3 done;
            # C-4 failed retryably in this run (not again in this run); C-5/C-6 final failures;
            # C-7 submitted (has its id, needs no payload).
            assert [c.row.number for c in await w.claim(100)] == ["C-1", "C-7"]
        # A later run over the same rows takes the retryable failure up again.
        run2 = await j.begin_run()
        await j.plan(run2, [Planned(f"C-{i}", "h") for i in range(1, 8)])
        async with j.worker(run2) as w:
            assert [c.row.number for c in await w.claim(100)] == ["C-1", "C-4", "C-7"]


async def test_concurrent_claimers_in_other_processes_never_share_a_row(journal_spec: str) -> None:
    n = 1200
    run = await new_run(journal_spec, planned(n))
    children = [Child(journal_spec, run, "drain", batch=7) for _ in range(4)]
    try:
        claimed: list[list[str]] = []
        for child in children:
            events = child.events()
            assert events[-1] == {"done": True}
            claimed.append([n for e in events[:-1] for n in e["claimed"]])
    finally:
        for child in children:
            child.kill()
    everything = [n for numbers in claimed for n in numbers]
    assert len(everything) == n and len(set(everything)) == n  # every row once, none twice
    assert sum(1 for numbers in claimed if numbers) >= 2  # they really ran side by side
    async with Journal(journal_spec) as j:
        assert await j.counts(run) == {"downloaded": n}


async def test_rows_of_a_killed_worker_are_reclaimed_after_its_lease(journal_spec: str) -> None:
    run = await new_run(journal_spec, planned(40))
    lease = 3.0
    child = Child(journal_spec, run, "hold", lease=lease, batch=25)
    try:
        held = child.event()["claimed"]
        assert len(held) == 25
        os.kill(child.proc.pid, signal.SIGKILL)
    finally:
        child.kill()
    killed_at = time.monotonic()
    async with Journal(journal_spec) as j, j.worker(run, name="survivor") as w:
        first = await w.claim(100)
        if time.monotonic() - killed_at < lease / 2:  # surely inside the dead worker's lease
            assert [c.row.number for c in first] == [f"RE-{i:05d}" for i in range(25, 40)]
        info = await j.run_info(run)
        assert info is not None and info.workers[0].name == "child-hold"
        reclaimed = [c for c in first if c.row.number in held]
        deadline = time.monotonic() + 60
        while len(reclaimed) < len(held):
            assert time.monotonic() < deadline, "the dead worker's rows were never reclaimed"
            await anyio.sleep(0.2)
            reclaimed += await w.claim(100)
        assert sorted(c.row.number for c in reclaimed) == sorted(held)
        assert {c.claims for c in reclaimed} == {2}
        info = await j.run_info(run)
        assert info is not None and [w.alive for w in info.workers] == [False, True]
        assert info.claimed == 40


async def test_a_paused_worker_whose_rows_were_taken_over_is_fenced(journal_spec: str) -> None:
    run = await new_run(journal_spec, planned(5))
    lease = 2.0
    child = Child(journal_spec, run, "stall", lease=lease, batch=5)
    try:
        held = child.event()["claimed"]
        os.kill(child.proc.pid, signal.SIGSTOP)  # a frozen process (GC pause, partition): no renewals
        async with Journal(journal_spec) as j, j.worker(run, name="taker") as w:
            taken: list[str] = []
            deadline = time.monotonic() + 60
            while len(taken) < 5:
                assert time.monotonic() < deadline
                await anyio.sleep(0.2)
                taken += [c.row.number for c in await w.claim(100)]
            assert await j.mark_submitting(taken[:2]) == taken[:2]
            os.kill(child.proc.pid, signal.SIGCONT)
            assert child.proc.stdin is not None
            child.proc.stdin.write("go\n")
            child.proc.stdin.flush()
            # The old worker wakes up and tries to POST: the journal lets it mark none of them.
            assert child.event() == {"marked": []}
            row = await j.get(taken[0])
            assert row is not None and row.attempts == 1
        assert sorted(held) == sorted(taken)
    finally:
        child.kill()


async def test_the_lease_is_renewed_while_the_worker_lives(journal_spec: str) -> None:
    run = await new_run(journal_spec, planned(3))
    lease = 3.0  # renewed every second: only an event loop stalled for 2 s could let it lapse
    async with Journal(journal_spec) as a, Journal(journal_spec) as b, a.worker(run, lease=lease) as wa:
        assert len(await wa.claim(3)) == 3
        claimed_at = time.monotonic()
        for _ in range(600):  # until well past the first lease (at most 60 s)
            if wa.renewals >= 3 and time.monotonic() - claimed_at > lease + 1:
                break
            await anyio.sleep(0.1)
        async with b.worker(run) as wb:
            assert await wb.claim(3) == []
        assert not wa.lost.is_set()


async def test_marks_without_a_worker_are_not_fenced(journal_spec: str) -> None:
    run = await new_run(journal_spec, planned(2))
    async with Journal(journal_spec) as j:
        assert await j.mark_submitting(["RE-00000", "RE-00001"]) == ["RE-00000", "RE-00001"]
        with pytest.raises(RuntimeError, match="already has an active worker"):
            async with j.worker(run), j.worker(run):
                pass
        with pytest.raises(JournalError, match="no run 999"):
            async with j.worker(999):
                pass


# -- specs ----------------------------------------------------------------------------------------------


def test_open_journal_picks_the_backend_and_hides_passwords(tmp_path: Path) -> None:
    assert isinstance(open_journal(tmp_path / "j.sqlite"), SQLiteJournal)
    assert isinstance(Journal(str(tmp_path / "j.sqlite")), SQLiteJournal)
    assert open_journal("sqlite:///" + str(tmp_path / "k.sqlite")).display == str(tmp_path / "k.sqlite")
    pytest.importorskip("psycopg")
    pg = open_journal("postgresql://bob:s3cret@db.example:5432/ledger?schema=tenant_a")
    assert type(pg).__name__ == "PostgresJournal" and isinstance(pg, Journal)
    assert "s3cret" not in repr(pg) and "s3cret" not in pg.display and "bob:***@db.example" in pg.display
    with pytest.raises(errors.ConfigurationError, match="unsupported journal URL scheme 'mysql'"):
        open_journal("mysql://x/y")
    with pytest.raises(errors.ConfigurationError, match="schema name"):
        open_journal("postgresql://x/y?schema=Robert');DROP")


async def test_an_unreachable_postgres_is_one_clear_error_without_the_password() -> None:
    pytest.importorskip("psycopg")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    journal = open_journal(f"postgresql://bob:s3cret@127.0.0.1:{port}/x", connect_timeout=2)
    with pytest.raises(JournalError) as info:
        await journal.open()
    assert "cannot open the journal postgresql://bob:***@127.0.0.1" in str(info.value)
    assert "s3cret" not in str(info.value)


# -- PostgreSQL only ----------------------------------------------------------------------------------------


async def test_postgres_survives_its_connections_being_killed(postgres_url: str) -> None:
    import psycopg

    run = await new_run(postgres_url, planned(3))
    async with Journal(postgres_url) as j:
        assert await j.mark_submitting(["RE-00000"]) == ["RE-00000"]
        dbname = postgres_url.rsplit("/", 1)[1]
        with psycopg.connect(postgres_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (dbname,),
            ).fetchone()
        assert killed is not None and killed[0] >= 1
        # The pooled connection is dead: the next statements go through on a fresh one.
        await j.mark_submitted([("RE-00000", "F0")])
        row = await j.get("RE-00000")
        assert row is not None and row.state == "submitted" and row.faktoora_id == "F0"
        assert (await j.run_info(run)) is not None


async def test_postgres_claim_sees_rows_of_a_worker_registered_during_it(postgres_url: str) -> None:
    """A claim statement works on the snapshot taken when it started.  A worker that registers and claims
    a row after that moment is invisible to it; when the claim then reaches the row (locked and changed
    meanwhile, so PostgreSQL re-reads its newest version), the row must still count as held.

    The interleaving is made exact with a trigger that holds the first claimer on an advisory lock after
    its first row, so the second worker registers and claims while the first statement is under way."""
    import psycopg

    run = await new_run(postgres_url, planned(4))
    gate = 7_701_001
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(
            "CREATE FUNCTION faktoora.hold_claim() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN PERFORM pg_advisory_lock_shared({gate}); PERFORM pg_advisory_unlock_shared({gate});"
            " RETURN NEW; END $$"
        )
        async with Journal(postgres_url) as ja, ja.worker(run, name="early") as early:
            admin.execute(  # only the early worker's claims wait at the gate
                "CREATE TRIGGER hold_claim BEFORE UPDATE ON faktoora.invoices FOR EACH ROW"
                f" WHEN (NEW.claimed_by = '{early.id}' AND OLD.claimed_by IS NULL)"
                " EXECUTE FUNCTION faktoora.hold_claim()"
            )
            admin.execute("SELECT pg_advisory_lock(%s)", (gate,))
            async with anyio.create_task_group() as tg:
                first: list[list[str]] = []
                claimed = anyio.Event()

                async def claim_early() -> None:
                    first.append([c.row.number for c in await early.claim(2)])
                    claimed.set()

                tg.start_soon(claim_early)
                for _ in range(500):  # until the early claim waits at the gate, holding RE-00000
                    waiting = admin.execute(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    ).fetchone()
                    if waiting is not None and waiting[0] > 0:
                        break
                    await anyio.sleep(0.02)
                else:
                    pytest.fail("the early claim never reached the gate")
                async with Journal(postgres_url) as jb, jb.worker(run, name="late") as late:
                    try:
                        second = [c.row.number for c in await late.claim(1)]
                    finally:  # never leave the early claim waiting at the gate (the test would hang)
                        admin.execute("SELECT pg_advisory_unlock(%s)", (gate,))
                    assert second == ["RE-00001"]  # RE-00000 is locked by the early claim: skipped
                    with anyio.fail_after(30):
                        await claimed.wait()
                    assert first == [["RE-00000", "RE-00002"]]  # not RE-00001: the late worker holds it
                    assert late.held == {"RE-00001"} and early.held == {"RE-00000", "RE-00002"}
                    info = await ja.run_info(run)
                    assert info is not None
                    assert sorted(w.claimed for w in info.workers) == [1, 2]


async def test_postgres_schemas_keep_journals_apart(postgres_url: str) -> None:
    a = postgres_url + "?schema=tenant_a"
    b = postgres_url + "?schema=tenant_b"
    await new_run(a, planned(4))
    await new_run(b, planned(2, prefix="B-"))
    async with Journal(a) as ja, Journal(b) as jb:
        assert await ja.counts() == {"planned": 4} and await jb.counts() == {"planned": 2}
        assert (await ja.get("B-00000")) is None


async def test_worker_batches_share_a_run_and_end_when_it_is_done(journal_spec: str) -> None:
    n = 300
    run = await new_run(journal_spec, planned(n))
    got: dict[str, list[str]] = {"a": [], "b": []}
    joined: list[str] = []
    both_joined = anyio.Event()

    async def work(name: str) -> None:
        async with Journal(journal_spec) as j, j.worker(run, name=name) as w:
            # both workers are registered before either claims: otherwise one may do all 300 rows while
            # the other is still opening its journal (seen once in CI, SQLite, a loaded machine)
            joined.append(name)
            if len(joined) == 2:
                both_joined.set()
            await both_joined.wait()
            async for batch in w.batches(20, idle=0.1):
                for claim in batch:
                    got[name].append(claim.row.number)
                    await j.mark_downloaded(claim.row.number, FILES)

    with anyio.fail_after(120):
        async with anyio.create_task_group() as tg:
            tg.start_soon(work, "a")
            tg.start_soon(work, "b")
    everything = got["a"] + got["b"]
    assert len(everything) == n and len(set(everything)) == n and got["a"] and got["b"]


async def test_worker_claims_wait_for_room_for_a_min_batch(journal_spec: str) -> None:
    """Rows finishing one by one do not make one-row claims (each would be a POST of its own: a 4-worker
    run sent 2,917 POSTs for 4,000 invoices): while the worker holds rows it claims once ``min_batch``
    fit under ``max_held``."""
    run = await new_run(journal_spec, planned(120))
    sizes: list[int] = []
    async with Journal(journal_spec) as j, j.worker(run, name="w") as w:
        held: list[str] = []
        done = anyio.Event()

        async def finish_one_by_one() -> None:
            while not done.is_set() or held:
                if held:
                    await j.mark_downloaded(held.pop(0), FILES)
                await anyio.sleep(0.005)

        with anyio.fail_after(120):
            async with anyio.create_task_group() as tg:
                tg.start_soon(finish_one_by_one)
                async for batch in w.batches(20, idle=0.05, max_held=20, min_batch=10):
                    sizes.append(len(batch))
                    held.extend(c.row.number for c in batch)
                done.set()
        assert await j.counts(run) == {"downloaded": 120}
    assert sum(sizes) == 120 and sizes[0] == 20
    assert all(n >= 10 for n in sizes[:-1]), sizes  # (the last claim takes what is left)


async def test_worker_batches_wait_for_a_dead_workers_rows(journal_spec: str) -> None:
    run = await new_run(journal_spec, planned(30))
    child = Child(journal_spec, run, "hold", lease=2.0, batch=10)
    try:
        held = child.event()["claimed"]
        os.kill(child.proc.pid, signal.SIGKILL)
    finally:
        child.kill()
    seen: list[str] = []
    async with Journal(journal_spec) as j, j.worker(run) as w:
        with anyio.fail_after(120):
            async for batch in w.batches(50, idle=0.2):
                for claim in batch:
                    seen.append(claim.row.number)
                    await j.mark_downloaded(claim.row.number, FILES)
        assert await j.counts(run) == {"downloaded": 30}
    assert sorted(seen) == [f"RE-{i:05d}" for i in range(30)] and set(held) <= set(seen)


async def test_a_worker_joining_while_the_run_is_planned_waits_for_its_rows(journal_spec: str) -> None:
    """A worker that catches up with the planner waits for the rest of the input instead of ending (a CI
    run once saw a joined worker end with 135 of 160 invoices "did not finish" while they were planned)."""
    async with Journal(journal_spec) as j:
        run = await j.begin_run(name="april")
        await j.set_planning(run, True)
        await j.plan(run, planned(5))
    seen: list[str] = []
    caught_up = anyio.Event()

    async def work() -> None:
        async with Journal(journal_spec) as j, j.worker(run, name="early") as w:
            async for batch in w.batches(10, idle=0.05):
                for claim in batch:
                    seen.append(claim.row.number)
                    await j.mark_downloaded(claim.row.number, FILES)
                if len(seen) == 5:
                    caught_up.set()  # the worker has done all there is so far

    async def plan_the_rest() -> None:
        async with Journal(journal_spec) as j:
            await caught_up.wait()
            await anyio.sleep(0.3)  # several idle looks of the worker while nothing is claimable
            await j.plan(run, planned(20)[5:])
            await j.set_planning(run, False)
            info = await j.run_info(run)
            assert info is not None and info.outcome is None

    with anyio.fail_after(120):  # a hang guard, not a timing assertion
        async with anyio.create_task_group() as tg:
            tg.start_soon(work)
            tg.start_soon(plan_the_rest)
    assert sorted(seen) == [f"RE-{i:05d}" for i in range(20)]
    async with Journal(journal_spec) as j:
        assert await j.counts(run) == {"downloaded": 20}
