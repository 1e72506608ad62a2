"""``faktoora-async customers import FILE.csv`` as a user runs it (a subprocess) against a sandbox process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from faktoora_async import FaktooraClient
from faktoora_async.sandbox import SandboxProcess


@pytest.fixture
def sandbox_proc() -> Iterator[SandboxProcess]:
    with SandboxProcess() as sb:
        yield sb


def cli(*args: str, sb: SandboxProcess) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faktoora_async", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "COLUMNS": "200",
            "FAKTOORA_API_KEY": sb.api_key,
            "FAKTOORA_BASE_URL": sb.base_url,
        },
    )


def customer_csv(path: Path, rows: int, *, bad_row: int | None = None) -> Path:
    lines = ["isCompany;name;address;postcode;city;customerId;extras"]
    for i in range(1, rows + 1):
        postcode = "ABCDE" if i == bad_row else f"{10000 + i:05d}"
        lines.append(f"1;Firma {i};Weg {i};{postcode};Berlin;C-{i:05d};")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def count(sb: SandboxProcess) -> int:
    async def listing() -> int:
        async with FaktooraClient(sb.api_key, base_url=sb.base_url) as c:
            return len([x async for x in c.customers.list(per_page=1000)])

    return anyio.run(listing)


def test_import_1000_rows(sandbox_proc: SandboxProcess, tmp_path: Path) -> None:
    path = customer_csv(tmp_path / "customers.csv", 1000)
    proc = cli("customers", "import", str(path), sb=sandbox_proc)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "imported 1000 customer(s) from customers.csv"
    assert count(sandbox_proc) == 1000
    again = cli("customers", "import", str(customer_csv(tmp_path / "more.csv", 2)), "--json", sb=sandbox_proc)
    assert again.returncode == 1 and "row 1" in again.stderr  # C-00001 is taken by now: the server knows
    assert count(sandbox_proc) == 1000


@pytest.mark.parametrize("check", [True, False], ids=["local-check", "server-check"])
def test_bad_row_517_creates_nothing(sandbox_proc: SandboxProcess, tmp_path: Path, check: bool) -> None:
    path = customer_csv(tmp_path / "bad.csv", 1000, bad_row=517)
    proc = cli("customers", "import", str(path), *([] if check else ["--no-check"]), sb=sandbox_proc)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert (
        lines[0].startswith("failed: bad.csv:")
        and "row 517" in lines[0]
        and "nothing was imported" in lines[0]
    )
    assert len(lines) == 2 and "row 517" in lines[1] and "postcode" in lines[1]
    assert proc.stdout == ""
    assert count(sandbox_proc) == 0


def test_json_output_and_usage_errors(sandbox_proc: SandboxProcess, tmp_path: Path) -> None:
    path = customer_csv(tmp_path / "three.csv", 3)
    proc = cli("customers", "import", str(path), "--json", sb=sandbox_proc)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["created"] == 3 and len(doc["ids"]) == 3
    missing = cli("customers", "import", str(tmp_path / "nope.csv"), sb=sandbox_proc)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    (tmp_path / "header.csv").write_text("colour,size\nred,L\n", encoding="utf-8")
    header = cli("customers", "import", str(tmp_path / "header.csv"), sb=sandbox_proc)
    assert header.returncode == 1 and "not a customer CSV" in header.stderr and "colour" in header.stderr
