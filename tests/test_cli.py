"""The ``faktoora-async`` command line: exit codes 0/1/2/130, run on .jsonl/.json, the demo."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _bulk_child import fetch_admin, verify_exactly_once

from faktoora_async.bulk import read_rows
from faktoora_async.cli import main
from faktoora_async.einvoice.generate import generate_invoices
from faktoora_async.sandbox import SandboxProcess


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faktoora_async", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "120", **(env or {})},
    )


@pytest.fixture(scope="module")
def sandbox_proc() -> Iterator[SandboxProcess]:
    with SandboxProcess(processing_delay=(0.01, 0.04), seed=9) as sb:
        yield sb


def write_jsonl(path: Path, invoices: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in invoices), encoding="utf-8")
    return path


def test_usage_errors_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FAKTOORA_API_KEY", raising=False)
    assert main([]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["run", str(tmp_path / "x.jsonl")]) == 2  # --out missing
    assert main(["run", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path), "--api-key", "k"]) == 2
    good = write_jsonl(tmp_path / "a.jsonl", list(generate_invoices(1)))
    assert main(["run", str(good), "--out", str(tmp_path / "o")]) == 2  # no API key anywhere
    broken = tmp_path / "b.jsonl"
    broken.write_text('{"invoiceNumber": "X"}\nnot json\n', encoding="utf-8")
    assert main(["run", str(broken), "--out", str(tmp_path / "o"), "--api-key", "k"]) == 2
    assert main(["run", str(good), "--out", str(tmp_path / "o"), "--api-key", "k", "--batch-size", "0"]) == 2
    assert main(["status", "F1234567", "--api-key", "k", "--base-url", "ftp://nowhere"]) == 2
    err = capfd.readouterr().err
    assert "not JSON" in err, err
    assert "no API key" in err, err


def test_output_folder_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    # a regular file where a folder of --out should be: an OSError before any request (port 9 is closed)
    src = write_jsonl(tmp_path / "a.jsonl", list(generate_invoices(1)))
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    out = tmp_path / "afile" / "sub"
    proc = cli(
        "run", str(src), "--out", str(out), "--api-key", "k", "--base-url", "http://127.0.0.1:9/api/v1"
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("failed: ") and "afile" in lines[0], proc.stderr


def test_run_jsonl_then_json_with_failures(sandbox_proc: SandboxProcess, tmp_path: Path) -> None:
    env = {"FAKTOORA_API_KEY": sandbox_proc.api_key}
    invoices = list(generate_invoices(30, seed=31))
    src = write_jsonl(tmp_path / "march.jsonl", invoices)
    out = tmp_path / "out"
    proc = cli(
        "run", str(src), "--out", str(out), "--base-url", sandbox_proc.base_url, "--batch-size", "10", env=env
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "done" in proc.stdout and str(out) in proc.stdout.replace("\n", "")
    assert sandbox_proc.api_key not in proc.stdout + proc.stderr
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert doc["counts"] == {"done": 30}
    assert len(list(out.glob("*.pdf"))) == 30 and len(list(out.glob("*.xml"))) == 30

    # A .json file ({"invoices": [...]}) with one invoice that fails pre-flight: exit code 1.
    more = list(generate_invoices(5, seed=32))
    more[2]["invoiceItems"] = []
    src2 = tmp_path / "april.json"
    src2.write_text(json.dumps({"invoices": more}), encoding="utf-8")
    out2 = tmp_path / "out2"
    proc = cli(
        "run", str(src2), "--out", str(out2), "--base-url", sandbox_proc.base_url, "--formats", "xml", env=env
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = json.loads((out2 / "report.json").read_text(encoding="utf-8"))
    assert doc["counts"] == {"done": 4, "failed": 1}
    assert not list(out2.glob("*.pdf")) and len(list(out2.glob("*.xml"))) == 4

    # Single-invoice helpers on one of the invoices just created.
    row = next(r for r in doc["invoices"] if r["outcome"] == "done")
    proc = cli("status", row["faktoora_id"], "--base-url", sandbox_proc.base_url, env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["invoiceStatus"] in ("created", "sent")
    target = tmp_path / "single.xml"
    proc = cli("download", row["faktoora_id"], "--format", "xml", "--out", str(target), "--base-url",
               sandbox_proc.base_url, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert target.read_bytes() == (out2 / row["files"]["xml"]).read_bytes()
    proc = cli("import", str(target), "--base-url", sandbox_proc.base_url, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "faktooraId" in proc.stdout
    proc = cli("status", "FNOSUCHID", "--base-url", sandbox_proc.base_url, env=env)
    assert proc.returncode == 1 and "404" in proc.stderr and "Traceback" not in proc.stderr


def test_reasons_name_the_field_path_and_both_positions_of_a_duplicate(
    sandbox_proc: SandboxProcess, tmp_path: Path
) -> None:
    """Issue 16: every pre-flight reason carries its JSON path (CLI table, report.json, report.csv), and a
    number twice in the input names both input positions (not "payload differs from the journalled one")."""
    invoices = list(generate_invoices(4, seed=34))
    invoices[1]["invoiceItems"][0]["product"]["quantity"] = ["3"]  # a list where a decimal belongs
    invoices.append(dict(invoices[2], note="the same number again"))  # input item 5 repeats item 3
    src = write_jsonl(tmp_path / "in.jsonl", invoices)
    out = tmp_path / "out"
    proc = cli(
        "run", str(src), "--out", str(out), "--base-url", sandbox_proc.base_url, "--formats", "xml",
        env={"FAKTOORA_API_KEY": sandbox_proc.api_key, "COLUMNS": "400"},
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    path = "invoiceItems[0].product.quantity"  # relative to its invoice, which the row names
    duplicate = "input item 3 and input item 5"
    table = " ".join((proc.stdout + proc.stderr).split())
    assert path in table and duplicate in table, table
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    reasons = {r["number"]: r["reason"] or "" for r in doc["invoices"] if r["outcome"] != "done"}
    assert any(path in reason for reason in reasons.values()), reasons
    assert duplicate in reasons[invoices[2]["invoiceNumber"]], reasons
    csv_text = (out / "report.csv").read_text(encoding="utf-8")
    assert path in csv_text and duplicate in csv_text
    assert doc["counts"] == {"done": 3, "failed": 1, "duplicate": 1}


def _start_run_and_wait_for_downloads(
    src: Path, out: Path, sb: SandboxProcess
) -> tuple[subprocess.Popen[str], list[str], dict[str, str]]:
    env = {**os.environ, "FAKTOORA_API_KEY": sb.api_key, "COLUMNS": "120"}
    args = [sys.executable, "-m", "faktoora_async", "run", str(src), "--out", str(out)]
    args += ["--base-url", sb.base_url, "--batch-size", "50", "--formats", "xml"]
    child = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    journal = out / "journal.sqlite"
    deadline = time.monotonic() + 60  # a hang guard, not a timing assertion
    while time.monotonic() < deadline:
        if journal.exists() and any(r.state == "downloaded" for r in read_rows(journal)):
            break
        time.sleep(0.05)
    return child, args, env


def test_sigint_exits_130_and_resumes(tmp_path: Path) -> None:
    invoices = list(generate_invoices(200, seed=33))
    src = write_jsonl(tmp_path / "big.jsonl", invoices)
    out = tmp_path / "out"
    journal = out / "journal.sqlite"
    with SandboxProcess(processing_delay=(0.2, 0.5), seed=10, rate=150, burst=20) as sb:
        child, args, env = _start_run_and_wait_for_downloads(src, out, sb)
        with child:
            child.send_signal(signal.SIGINT)
            stdout, stderr = child.communicate(timeout=60)
        assert child.returncode == 130, stdout + stderr
        assert "interrupted" in stdout and "pending" in stdout  # the summary of the partial run
        assert stderr == "", stderr
        rows = list(read_rows(journal))
        assert rows and {r.state for r in rows} <= {
            "planned",
            "submitting",
            "submitted",
            "ready",
            "downloaded",
        }
        assert sum(r.state == "downloaded" for r in rows) < 200
        doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
        assert doc["interrupted"] is True

        proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        verify_exactly_once(
            sandbox_invoices=fetch_admin(sb.root_url, "invoices"),
            stats=fetch_admin(sb.root_url, "stats"),
            journal=journal,
            out_dir=out,
            numbers=[i["invoiceNumber"] for i in invoices],
            formats=("xml",),
        )


def _wait_until_delivered(pid: int, signum: int, timeout: float = 10.0) -> None:
    """Wait until ``signum`` is no longer pending for ``pid`` (Linux: /proc/PID/status), else 50 ms."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        time.sleep(0.05)
        return
    bit = 1 << (signum - 1)
    deadline = time.monotonic() + timeout  # a hang guard, not a timing assertion
    while time.monotonic() < deadline:
        fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        if not (int(fields["ShdPnd"], 16) | int(fields["SigPnd"], 16)) & bit:
            return
        time.sleep(0.001)


def test_second_sigint_during_shutdown_exits_at_once_with_one_line(tmp_path: Path) -> None:
    """Ctrl-C twice: the first starts the clean shutdown (report, journal), the second ends it at once.

    The second signal follows as soon as the first is delivered (not merely sent: two pending SIGINTs merge
    into one), well inside the shutdown (~0.2 s on an idle machine, more on a busy one: it writes the
    report); that it landed there is shown by the one line it prints.  Before this, the same two signals
    hung the process (or printed 109-232 lines of tracebacks).
    """
    invoices = list(generate_invoices(200, seed=34))
    src = write_jsonl(tmp_path / "big.jsonl", invoices)
    out = tmp_path / "out"
    journal = out / "journal.sqlite"
    with SandboxProcess(processing_delay=(0.2, 0.5), seed=11, rate=150, burst=20) as sb:
        child, args, env = _start_run_and_wait_for_downloads(src, out, sb)
        with child:
            child.send_signal(signal.SIGINT)
            _wait_until_delivered(child.pid, signal.SIGINT)  # two pending SIGINTs would merge into one
            child.send_signal(signal.SIGINT)
            stdout, stderr = child.communicate(timeout=60)
        assert child.returncode == 130, stdout + stderr
        assert stderr.splitlines() == [
            "interrupted again: stopped at once; run the same command again to resume"
        ], stderr
        assert "Traceback" not in stdout + stderr
        # the journal is consistent (SQLite commits are atomic; the process died as by SIGKILL) ...
        rows = list(read_rows(journal))
        assert rows and {r.state for r in rows} <= {
            "planned",
            "submitting",
            "submitted",
            "ready",
            "downloaded",
        }
        assert (
            not list(out.glob("*.xml.part")) or True
        )  # leftovers are temp names only; the rerun cleans them
        # ... and the same command resumes: every invoice created exactly once, every file right
        proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        verify_exactly_once(
            sandbox_invoices=fetch_admin(sb.root_url, "invoices"),
            stats=fetch_admin(sb.root_url, "stats"),
            journal=journal,
            out_dir=out,
            numbers=[i["invoiceNumber"] for i in invoices],
            formats=("xml",),
        )
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp file left after the resume


@pytest.mark.parametrize(
    "content", ["", "\n\n  \n", "[]", '{"invoices": []}'], ids=["empty", "blank", "list", "obj"]
)
def test_empty_input_is_an_error_unless_allowed(
    sandbox_proc: SandboxProcess, tmp_path: Path, content: str
) -> None:
    src = tmp_path / ("in.json" if content.startswith(("[", "{")) else "in.jsonl")
    src.write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    env = {"FAKTOORA_API_KEY": sandbox_proc.api_key}
    proc = cli("run", str(src), "--out", str(out), "--base-url", sandbox_proc.base_url, env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"error: {src}: no invoices in it (pass --allow-empty to accept an empty input)"
    ], proc.stderr
    assert not out.exists()  # nothing done
    proc = cli(
        "run", str(src), "--out", str(out), "--base-url", sandbox_proc.base_url, "--allow-empty", env=env
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert doc["counts"] == {} and doc["invoices"] == []


def test_demo_50(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = cli("demo", "--invoices", "50", "--out", str(out), timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = proc.stdout.replace("\n", "")
    assert str(out) in text and "demo wall time" in text
    assert "sk_" not in proc.stdout + proc.stderr  # the sandbox's API key is never printed
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert doc["counts"] == {"done": 50}
    assert len(list(out.glob("*.pdf"))) == 50


def test_command_registry_groups_and_passthroughs() -> None:
    """How command modules register (faktoora_async/cli/__init__.py): add, group, passthrough."""
    import argparse

    from faktoora_async.cli import COMMAND_MODULES, build_parser
    from faktoora_async.cli._base import Commands, Passthrough

    parser, passthroughs = build_parser()
    assert set(passthroughs) == {"sandbox"}
    help_text = parser.format_help()
    for name in ("run", "demo", "status", "download", "import", "sandbox"):
        assert f"    {name} " in help_text, help_text
    assert len(COMMAND_MODULES) == len(set(COMMAND_MODULES))

    async def keys_list(args: argparse.Namespace) -> int:
        return 0

    top = argparse.ArgumentParser(prog="t")
    seen: dict[str, Passthrough] = {}
    commands = Commands(top.add_subparsers(dest="command", required=True), seen)
    keys = commands.group("keys", help="API keys")
    keys.add("list", keys_list, help="list them").add_argument("--limit", type=int, default=5)
    args = top.parse_args(["keys", "list", "--limit", "2"])
    assert args.handler is keys_list and args.limit == 2
    with pytest.raises(SystemExit):
        top.parse_args(["keys"])  # a group needs its subcommand
    with pytest.raises(ValueError):
        keys.passthrough("raw", lambda argv: 0, help="not allowed below the top level")
