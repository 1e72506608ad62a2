"""``faktoora-async runs``: each run's progress across workers, from a SQLite file or real PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from faktoora_async.bulk.journal import Journal, Planned

CHILD = Path(__file__).with_name("_journal_child.py")


async def _journal_with_two_runs(spec: str) -> int:
    async with Journal(spec) as j:
        old = await j.begin_run(name="february.jsonl")
        await j.plan(old, [Planned("F-1", "h")])
        await j.mark_submitting(["F-1"])
        await j.mark_submitted([("F-1", "FID1")])
        await j.mark_ready("F-1")
        await j.mark_downloaded("F-1", {"xml": {"path": "F-1.xml", "sha256": "00", "size": 1}})
        await j.finish_run(old, "finished")
        run = await j.begin_run(name="march.jsonl")
        await j.plan(run, [Planned(f"M-{i}", "h", payload=b"{}") for i in range(6)])
        await j.mark_failed(["M-5"], "rejected by the server", final=True)
    return run


def _journal_with_a_live_worker(spec: str) -> tuple[int, subprocess.Popen[str]]:
    run = anyio.run(_journal_with_two_runs, spec)
    child = subprocess.Popen(
        [sys.executable, str(CHILD), spec, str(run), "hold", "--batch", "2"],
        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, cwd=CHILD.parent.parent,
    )  # fmt: skip
    assert child.stdout is not None
    assert len(json.loads(child.stdout.readline())["claimed"]) == 2
    return run, child


def test_runs_shows_progress_across_workers(journal_spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    from faktoora_async.cli import main

    run, child = _journal_with_a_live_worker(journal_spec)
    try:
        assert main(["runs", "--journal", journal_spec, "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        latest, previous = doc["runs"]
        assert latest["id"] == run and latest["name"] == "march.jsonl" and latest["state"] == "running"
        assert latest["counts"] == {"planned": 5, "failed": 1} and latest["pending"] == 5
        assert latest["claimed"] == 2
        assert [(w["name"], w["alive"], w["claimed"]) for w in latest["workers"]] == [("child-hold", True, 2)]
        assert latest["workers"][0]["pid"] == child.pid
        assert previous["state"] == "finished" and previous["done"] == 1 and previous["workers"] == []

        assert main(["runs", "--journal", journal_spec]) == 0
        text = capsys.readouterr().out
        assert f"run {run} (march.jsonl): running" in text and "child-hold" in text and "alive" in text
        child.kill()
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(30)
        assert child.stdout is not None
        child.stdout.close()


def test_runs_needs_a_journal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from faktoora_async.cli import main

    monkeypatch.delenv("FAKTOORA_JOURNAL", raising=False)
    assert main(["runs"]) == 2
    assert "no journal: pass --journal" in capsys.readouterr().err
    assert main(["runs", "--journal", str(tmp_path / "missing.sqlite")]) == 2
    assert "no such journal file" in capsys.readouterr().err
    assert not (tmp_path / "missing.sqlite").exists()  # not created by looking
    empty = tmp_path / "empty.sqlite"
    anyio.run(lambda: Journal(empty).open())
    monkeypatch.setenv("FAKTOORA_JOURNAL", str(empty))
    assert main(["runs"]) == 0
    assert "no runs in" in capsys.readouterr().out
