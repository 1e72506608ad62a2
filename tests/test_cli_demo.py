"""``faktoora-async demo`` prints its own rate bound and how close the run came (issue 14).

The demo's sandbox runs in a process of its own with PDF workers (tests/test_sandbox_render_pool.py tests
those); here: the summary line, its arithmetic, and that every invoice got both files.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from faktoora_async.cli.demo import rate_bound


def test_demo_prints_its_rate_bound(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "faktoora_async",
            "demo",
            "--invoices",
            "30",
            "--rate",
            "50",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    match = re.search(r"rate bound: ([\d.]+) s .*this run: ([\d.]+) s = ([\d.]+)x the bound", proc.stdout)
    assert match, proc.stdout[-2000:]
    bound, wall, ratio = (float(g) for g in match.groups())
    exact = rate_bound(30, 2, rate=50.0, burst=10)  # burst: max(10, rate // 5)
    assert bound == round(exact, 1)
    assert abs(ratio * exact - wall) <= 0.06  # the printed wall time is rounded to 0.1 s
    assert len(list(out.rglob("*.pdf"))) == 30 and len(list(out.rglob("*.xml"))) == 30
