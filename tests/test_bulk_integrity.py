"""Never a wrong file, never a wall of tracebacks (issue 16): integrity and permanent errors of bulk runs.

Real parts only: the CLI in a child process, sandboxes in their own processes (restarted on the same
port), a real aiohttp server in the test for a hostile server, real file systems (an immutable folder,
a full tmpfs) where the machine allows them.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from faktoora_async import FaktooraClient
from faktoora_async.bulk import BulkRunner, read_rows
from faktoora_async.bulk.verify import UNKNOWN, document_number
from faktoora_async.einvoice.generate import generate_invoices
from faktoora_async.sandbox import Sandbox, SandboxProcess


def _cli(
    *args: str, env: dict[str, str], umask: int | None = None, timeout: float = 240
) -> subprocess.Popen[str]:
    def child_setup() -> None:
        if umask is not None:
            os.umask(umask)

    return subprocess.Popen(
        [sys.executable, "-m", "faktoora_async", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "120", **env},
        preexec_fn=child_setup,
    )


def _finish(proc: subprocess.Popen[str], timeout: float = 240) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def _jsonl(path: Path, invoices: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in invoices), encoding="utf-8")
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_numbers(sb: SandboxProcess) -> list[str]:
    """Every invoice number the sandbox holds (one entry per stored invoice)."""
    import urllib.request

    numbers: list[str] = []
    page = 1
    while True:
        req = urllib.request.Request(
            f"{sb.base_url}/invoices?page={page}&perPage=1000", headers={"X-API-KEY": sb.api_key}
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            body = json.loads(resp.read())
        numbers += [item["invoiceNumber"] for item in body["data"]]
        if page >= body["meta"]["totalPages"]:
            return numbers
        page += 1


def _files_hold_their_invoice(out: Path, journal: Path | None = None) -> tuple[int, list[str]]:
    """(files checked, files whose document is another invoice)."""
    wrong: list[str] = []
    checked = 0
    rows = {r.number: r for r in read_rows(journal or out / "journal.sqlite")}
    by_file = {Path(f["path"]).name: number for number, r in rows.items() for f in r.files.values()}
    for path in sorted(out.iterdir()):
        if path.suffix not in (".xml", ".pdf"):
            continue
        number = by_file.get(path.name)
        found = document_number(path, path.suffix[1:])
        checked += 1
        if found != UNKNOWN and found != number:
            wrong.append(f"{path.name} holds {found}")
    return checked, wrong


def _wait_for_files(
    out: Path, suffix: str, count: int, proc: subprocess.Popen[str], limit: float = 120
) -> None:
    end = time.monotonic() + limit  # a hang guard, not a timing assertion
    while time.monotonic() < end:
        assert proc.poll() is None, "the run ended before it could be interrupted"
        if out.is_dir() and sum(1 for p in out.iterdir() if p.suffix == suffix) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} {suffix} files after {limit} s")


# ------------------------------------------------------------------------------------------ integrity


def test_resume_after_a_sandbox_restart_never_keeps_another_invoices_document(tmp_path: Path) -> None:
    """Interrupt a CLI run, restart the sandbox (same port, same seed), resume: every file holds its own
    invoice, every number is on the final server exactly once."""
    count = 120
    src = _jsonl(tmp_path / "in.jsonl", list(generate_invoices(count, seed=77)))
    out = tmp_path / "out"
    port = _free_port()
    key = "sk_test_restart_0123456789abcdef"
    env = {"FAKTOORA_API_KEY": key}
    first = SandboxProcess(key, port=port, seed=7, processing_delay=(0.05, 0.4))
    first.start()
    try:
        args = ("run", str(src), "--out", str(out), "--base-url", first.base_url, "--concurrency", "4")
        proc = _cli(*args, env=env)
        _wait_for_files(out, ".xml", 25, proc)
        proc.send_signal(signal.SIGINT)
        code, _, _ = _finish(proc)
        assert code == 130
    finally:
        first.stop()
    done_before = sum(1 for r in read_rows(out / "journal.sqlite") if r.state == "downloaded")
    assert 0 < done_before < count
    with SandboxProcess(key, port=port, seed=7, processing_delay=(0.05, 0.4)) as second:
        code, stdout, stderr = _finish(_cli(*args, env=env))
        assert code == 0, stdout + stderr
        numbers = _server_numbers(second)
    rows = list(read_rows(out / "journal.sqlite"))
    assert len(rows) == count and all(r.state == "downloaded" for r in rows)
    checked, wrong = _files_hold_their_invoice(out)
    assert checked == 2 * count and wrong == []
    # the invoices the first server had not finished were created again on the second, once each
    assert len(numbers) == len(set(numbers)) == count - done_before
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["counts"].get("done") == count


def _swapping_proxy(upstream: str, swaps: dict[str, str]) -> web.Application:
    """A proxy to a real sandbox that, for the invoice numbers in ``swaps``, answers the file of another
    invoice: ``{"A": "B"}`` serves B's document when A's is asked for.  It learns which faktooraId has
    which number from the ``POST /invoices`` traffic it forwards."""
    app = web.Application()
    ids: dict[str, str] = {}  # invoice number -> faktooraId

    async def forward(request: web.Request) -> web.StreamResponse:
        path = request.match_info["tail"]
        body = await request.read()
        parts = path.split("/")
        by_id = {fid: number for number, fid in ids.items()}
        if request.method == "GET" and len(parts) == 3 and parts[1] == "invoices" and parts[2] in by_id:
            other = swaps.get(by_id[parts[2]])
            if other is not None and other in ids:
                path = f"{parts[0]}/invoices/{ids[other]}"
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with (
            aiohttp.ClientSession() as session,
            session.request(request.method, f"{upstream}/{path}", params=request.query, data=body,
                            headers=headers) as resp,
        ):  # fmt: skip
            answer = await resp.read()
            if request.method == "POST" and path.endswith("/invoices") and resp.status == 202:
                sent = json.loads(body)["invoices"]
                for invoice, created in zip(sent, json.loads(answer), strict=True):
                    ids[invoice["invoiceNumber"]] = created["faktooraId"]
            keep = {k: v for k, v in resp.headers.items() if k.lower() in ("content-type", "retry-after")}
            return web.Response(body=answer, status=resp.status, headers=keep)

    app.router.add_route("*", "/api/{tail:.*}", forward)
    return app


@pytest.fixture
async def swapping() -> AsyncIterator[tuple[Sandbox, dict[str, str], str]]:
    async with Sandbox(processing_delay=(0.0, 0.02), seed=4) as sb:
        swaps: dict[str, str] = {}
        upstream = sb.base_url.rsplit("/api/", 1)[0] + "/api"
        runner = web.AppRunner(_swapping_proxy(upstream, swaps))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            yield sb, swaps, f"http://127.0.0.1:{port}/api/v1"
        finally:
            await runner.cleanup()


@pytest.mark.anyio
async def test_a_document_of_another_invoice_is_never_kept(
    swapping: tuple[Sandbox, dict[str, str], str], tmp_path: Path
) -> None:
    sb, swaps, url = swapping
    invoices = list(generate_invoices(6, seed=8))
    victim, other = invoices[0]["invoiceNumber"], invoices[1]["invoiceNumber"]
    swaps[victim] = other  # the server answers the victim's id with the other invoice's documents
    out = tmp_path / "out"
    async with FaktooraClient(sb.api_key, base_url=url) as client:
        runner = BulkRunner(client, journal=tmp_path / "j.sqlite", out_dir=out, formats=("xml", "pdf"))
        report = await runner.run(invoices)
    rows = {r.number: r for r in report.rows}
    assert rows[victim].outcome == "failed" and "wrong document" in (rows[victim].reason or ""), rows[victim]
    assert not any(p.name.startswith(victim) for p in out.iterdir()), "the wrong file was kept"
    assert all(rows[i["invoiceNumber"]].outcome == "done" for i in invoices[1:])
    assert report.wait_stats["wrong_documents"] >= 1 and report.wait_stats["relocated"] >= 1
    checked, wrong = _files_hold_their_invoice(out, tmp_path / "j.sqlite")
    assert checked == 2 * (len(invoices) - 1) and wrong == []
    assert len(sb.stats()["requests"]) > 0


# ------------------------------------------------------------------------------------------ permanent errors


@pytest.fixture(scope="module")
def sandbox_proc() -> Iterator[SandboxProcess]:
    with SandboxProcess(processing_delay=(0.01, 0.05), seed=12) as sb:
        yield sb


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("failed: "), err
    return lines[0]


def _assert_resumable(journal: Path, count: int) -> None:
    rows = list(read_rows(journal))
    assert len(rows) == count, "every input invoice is journalled: nothing lost"


class _Forbidding(http.server.BaseHTTPRequestHandler):
    """A server that answers every request with faktoora's 403 error body (a key without the right)."""

    def _forbid(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"code": "FORBIDDEN", "statusCode": 403, "message": "Forbidden resource"}).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _forbid

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def forbidding_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Forbidding)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("bad-key", "API key"),
        ("forbidden", "may not do this"),
        ("closed-port", "cannot connect"),
        ("dns", "cannot connect"),
    ],
)
def test_a_permanent_error_stops_the_run_with_one_line(
    sandbox_proc: SandboxProcess, forbidding_url: str, tmp_path: Path, case: str, needle: str
) -> None:
    count = 30
    src = _jsonl(tmp_path / "in.jsonl", list(generate_invoices(count, seed=31)))
    out = tmp_path / "out"
    url = {
        "bad-key": sandbox_proc.base_url,
        "forbidden": forbidding_url,
        "closed-port": f"http://127.0.0.1:{_free_port()}/api/v1",
        "dns": "http://faktoora-sandbox.invalid/api/v1",
    }[case]
    key = "sk_test_not_the_sandbox_key_123" if case == "bad-key" else sandbox_proc.api_key
    started = time.monotonic()
    code, _, err = _finish(
        _cli("run", str(src), "--out", str(out), "--base-url", url, env={"FAKTOORA_API_KEY": key})
    )
    elapsed = time.monotonic() - started
    assert code == 1, err
    line = _one_line(err)
    assert needle in line and "run the same command again" in line, line
    _assert_resumable(out / "journal.sqlite", count)
    assert elapsed < 120  # a hang guard: one request's retries, not one per invoice
    # the cause fixed, the same command carries on
    fixed = _cli(
        "run", str(src), "--out", str(out), "--base-url", sandbox_proc.base_url,
        env={"FAKTOORA_API_KEY": sandbox_proc.api_key},
    )  # fmt: skip
    code, stdout, err = _finish(fixed)
    assert code == 0, stdout + err
    assert all(r.state == "downloaded" for r in read_rows(out / "journal.sqlite"))


def _can(command: list[str]) -> bool:
    return subprocess.run(command, capture_output=True).returncode == 0


def test_an_unwritable_output_folder_stops_the_run_with_one_line(
    sandbox_proc: SandboxProcess, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    if os.geteuid() != 0 or not _can(["chattr", "+i", str(out)]):
        os.chmod(out, 0o500)
        if os.access(out, os.W_OK):
            pytest.skip("cannot make a folder unwritable here (no chattr, and root ignores modes)")
    try:
        src = _jsonl(tmp_path / "in.jsonl", list(generate_invoices(10, seed=32)))
        journal = tmp_path / "journal.sqlite"
        args = (
            "run",
            str(src),
            "--out",
            str(out),
            "--journal",
            str(journal),
            "--base-url",
            sandbox_proc.base_url,
        )
        code, _, err = _finish(_cli(*args, env={"FAKTOORA_API_KEY": sandbox_proc.api_key}))
        assert code == 1, err
        line = _one_line(err)
        assert str(out) in line and "writable" in line, line
    finally:
        subprocess.run(["chattr", "-i", str(out)], capture_output=True)
        os.chmod(out, 0o755)
    code, stdout, err = _finish(_cli(*args, env={"FAKTOORA_API_KEY": sandbox_proc.api_key}))
    assert code == 0, stdout + err


def test_a_full_disk_stops_the_run_with_one_line(sandbox_proc: SandboxProcess, tmp_path: Path) -> None:
    out = tmp_path / "small"
    out.mkdir()
    if os.geteuid() != 0 or not _can(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(out)]):
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        count = 40  # ~40 x (PDF ~50 KB + XML ~8 KB): far more than 400 KB
        src = _jsonl(tmp_path / "in.jsonl", list(generate_invoices(count, seed=33)))
        journal = tmp_path / "journal.sqlite"
        args = (
            "run",
            str(src),
            "--out",
            str(out),
            "--journal",
            str(journal),
            "--base-url",
            sandbox_proc.base_url,
        )
        code, _, err = _finish(_cli(*args, env={"FAKTOORA_API_KEY": sandbox_proc.api_key}))
        assert code == 1, err
        line = _one_line(err)
        assert "No space left on device" in line and "run the same command again" in line, line
        assert not [p.name for p in out.iterdir() if p.name.endswith(".part")], "no temp file left behind"
        _assert_resumable(journal, count)
        subprocess.run(["mount", "-o", "remount,size=20m", str(out)], check=True)
        code, stdout, err = _finish(_cli(*args, env={"FAKTOORA_API_KEY": sandbox_proc.api_key}))
        assert code == 0, stdout + err
        assert all(r.state == "downloaded" for r in read_rows(journal))
    finally:
        subprocess.run(["umount", str(out)], capture_output=True)


# ------------------------------------------------------------------------------------------ file modes


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_every_file_a_run_writes_honours_the_umask(
    sandbox_proc: SandboxProcess, tmp_path: Path, umask: int, mode: int
) -> None:
    src = _jsonl(tmp_path / "in.jsonl", list(generate_invoices(5, seed=34 + umask)))
    out = tmp_path / "out"
    proc = _cli("run", str(src), "--out", str(out), "--base-url", sandbox_proc.base_url,
                env={"FAKTOORA_API_KEY": sandbox_proc.api_key}, umask=umask)  # fmt: skip
    code, stdout, err = _finish(proc)
    assert code == 0, stdout + err
    files = [p for p in out.rglob("*") if p.is_file()]
    kinds = {p.suffix for p in files}
    assert {".pdf", ".xml", ".json", ".csv", ".sqlite"} <= kinds, kinds
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in files}
    assert set(modes.values()) == {mode}, modes
