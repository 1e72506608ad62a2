"""Crash safety: a runner process SIGKILLed at many points of a 1,000-invoice run resumes exactly once.

The sandbox runs in its own process (``SandboxProcess``); the runner runs in ``tests/_bulk_child.py``, which
SIGKILLs itself the moment the runner reports a chosen progress point (a real, uncatchable kill), and once
the test kills it from outside.  After every kill the next child resumes from the same journal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from _bulk_child import fetch_admin, verify_exactly_once

from faktoora_async.bulk import read_rows
from faktoora_async.sandbox import SandboxProcess

CHILD = Path(__file__).with_name("_bulk_child.py")
N = 1000
SEED = 41


def states(journal: Path) -> Counter[str]:
    return Counter(r.state for r in read_rows(journal)) if journal.exists() else Counter()


@pytest.mark.slow
def test_sigkill_at_six_points_then_resume_exactly_once(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite"
    out = tmp_path / "out"
    with SandboxProcess(processing_delay=(0.005, 0.02), seed=11) as sb:
        env = {**os.environ, "FAKTOORA_API_KEY": sb.api_key}
        base = [sys.executable, str(CHILD), "--base-url", sb.base_url, "--journal", str(journal)]
        base += ["--out", str(out), "--n", str(N), "--seed", str(SEED), "--batch-size", "100"]
        base += ["--concurrency", "16", "--formats", "xml"]  # PDFs are rendered lazily: slow, same path

        def child(kill_at: str | None) -> subprocess.CompletedProcess[str]:
            args = [*base, "--kill-at", kill_at] if kill_at else base
            return subprocess.run(args, env=env, capture_output=True, text=True, timeout=180)

        seen: list[Counter[str]] = []
        # 1: the batch is journalled `submitting` but its POST was never sent;
        # 2: the POST returned 202 but the faktooraIds were never journalled (the dangerous one);
        # 3-5: while waiting, between ready and downloaded, in the middle of downloads.
        for point in ("submitting:100", "posted:200", "submitted:300", "ready:120", "downloaded:150"):
            proc = child(point)
            assert proc.returncode == -signal.SIGKILL, (point, proc.returncode, proc.stderr[-2000:])
            seen.append(states(journal))
        assert seen[0]["submitting"] >= 100  # killed between journal write and POST
        assert seen[1]["submitting"] >= 100  # POST arrived, ids unknown to the journal
        assert any(c["ready"] for c in seen[2:]) or any(c["submitted"] for c in seen[2:])

        # 6: killed from outside at an arbitrary moment while downloads are going on.
        with subprocess.Popen(base, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as proc6:
            before = states(journal)["downloaded"]
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc6.poll() is None:
                if states(journal)["downloaded"] >= before + 100:
                    break
                time.sleep(0.02)
            proc6.send_signal(signal.SIGKILL)
            proc6.wait()
        assert proc6.returncode == -signal.SIGKILL

        final = child(None)
        assert final.returncode == 0, final.stdout[-2000:] + final.stderr[-2000:]
        verify_exactly_once(
            sandbox_invoices=fetch_admin(sb.root_url, "invoices"),
            stats=fetch_admin(sb.root_url, "stats"),
            journal=journal,
            out_dir=out,
            numbers=[f"RE-{SEED}-{i:06d}" for i in range(N)],
            formats=("xml",),
        )
