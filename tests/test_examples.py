"""Every example runs as written against the sandbox.

* ``fastapi_app.py`` runs under a real uvicorn server on loopback (in-process, against a sandbox started by
  the test, which delivers real webhooks to it) and once more as a script (``python examples/...``, with
  its own embedded sandbox);
* the other scripts run as subprocesses, pointed at the test's sandbox through ``FAKTOORA_BASE_URL`` /
  ``FAKTOORA_API_KEY`` (or with those unset, so they start their own embedded sandbox).
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import anyio
import pytest
from _bulk_child import fetch_admin, verify_exactly_once
from anyio.abc import Process

from faktoora_async import FaktooraClient
from faktoora_async.bulk import read_rows
from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
STATUS_ROUTE = "GET /api/v2/invoices/{faktooraId}/status"
POST_INVOICES = "POST /api/v1/invoices"


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"faktoora_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def example_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAKTOORA_", "PUBLIC_URL", "PORT"))}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


async def run_example(script: str, *args: str, cwd: Path, **env: str) -> tuple[int, str]:
    with anyio.fail_after(180):  # a hang guard, not a timing assertion
        proc = await anyio.run_process(
            [sys.executable, str(EXAMPLES / script), *args], cwd=cwd, env=example_env(**env), check=False
        )
    output = proc.stdout.decode() + proc.stderr.decode()
    return proc.returncode, output


def _count(stats: dict[str, Any], route: str) -> int:
    return sum(stats["requests"].get(route, {}).values())


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


# ------------------------------------------------------------------------------------------ FastAPI
SECRET = "s3cret-of-the-fastapi-example"


async def _wait_healthy(http: aiohttp.ClientSession, base: str, proc: Process) -> None:
    with anyio.fail_after(60):  # a hang guard, not a timing assertion
        while True:
            assert proc.returncode is None, "the app exited before it answered"
            try:
                async with http.get(f"{base}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await anyio.sleep(0.1)


async def test_fastapi_example_under_uvicorn_with_sandbox_webhooks(tmp_path: Path) -> None:
    """``uvicorn examples.fastapi_app:app`` as a real process, fed real webhooks by the test's sandbox.

    Its access log (uvicorn's default) is kept and read: the webhook secret is never in it.
    """
    async with Sandbox(processing_delay=(0.8, 1.2)) as sb:
        probe = _free_socket()
        port = probe.getsockname()[1]
        probe.close()
        me = f"http://127.0.0.1:{port}"
        env = example_env(FAKTOORA_BASE_URL=sb.base_url, FAKTOORA_API_KEY=sb.api_key, PUBLIC_URL=me)
        env["FAKTOORA_WEBHOOK_SECRET"] = SECRET
        log = tmp_path / "uvicorn.log"
        cmd = [sys.executable, "-m", "uvicorn", "examples.fastapi_app:app", "--host", "127.0.0.1"]
        with log.open("wb") as out:
            async with await anyio.open_process(
                [*cmd, "--port", str(port)], cwd=EXAMPLES.parent, env=env, stdout=out, stderr=out
            ) as proc:
                try:
                    async with aiohttp.ClientSession() as http:
                        await _wait_healthy(http, me, proc)
                        await _drive_fastapi_example(me, sb, http)
                finally:
                    proc.send_signal(signal.SIGINT)
                    with anyio.fail_after(30):
                        await proc.wait()
        assert proc.returncode == 0, log.read_text()
        # the lifespan removed its subscriptions on shutdown
        async with FaktooraClient(sb.api_key, base_url=sb.base_url) as client:
            assert [s async for s in client.webhooks.list()] == []
    text = log.read_text()
    deliveries = [line for line in text.splitlines() if "POST /webhooks/faktoora?token=***" in line]
    assert len(deliveries) >= 3, text  # the access log was on: two real deliveries and the forged one
    assert any('HTTP/1.1" 200' in line for line in deliveries) and any(" 401" in line for line in deliveries)
    assert SECRET not in text and "forged" not in text, text


async def _drive_fastapi_example(me: str, sb: Sandbox, http: aiohttp.ClientSession) -> None:
    # two invoices: a generated demo one and one with an explicit JSON payload
    async with http.post(f"{me}/invoices") as resp:
        assert resp.status == 202, await resp.text()
        first = await resp.json()
    payload = generate_invoice(3, seed=77)
    async with http.post(f"{me}/invoices", json=payload) as resp:
        assert resp.status == 202, await resp.text()
        second = await resp.json()
    assert second["invoiceNumber"] == payload["invoiceNumber"]
    gets_before = _count(sb.stats(), STATUS_ROUTE)
    for created in (first, second):
        async with http.get(f"{me}/invoices/{created['faktooraId']}/pdf") as resp:
            assert resp.status == 200, await resp.text()
            assert resp.headers["Content-Type"] == "application/pdf"
            assert resp.headers["X-Invoice-Status"] in ("created", "sent")
            pdf = await resp.read()
            assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-1024:]
    status_gets = _count(sb.stats(), STATUS_ROUTE) - gets_before
    # errors map to HTTP answers
    async with http.get(f"{me}/invoices/FNOSUCH00/pdf") as resp:
        assert resp.status == 404
    bad = dict(payload, invoiceNumber="RE-bad", issueDate="31.12.2026")
    async with http.post(f"{me}/invoices", json=bad) as resp:
        assert resp.status == 422
        assert "issueDate" in (await resp.json())["detail"]
    async with http.post(
        f"{me}/invoices", data=b"{not json", headers={"Content-Type": "application/json"}
    ) as r:
        assert r.status == 400
    # a forged webhook is refused and changes nothing
    forged = {"event": "invoice.status", "faktooraId": first["faktooraId"], "status": "sent",
              "timestamp": "2030-01-01T00:00:00Z"}  # fmt: skip
    async with http.post(f"{me}/webhooks/faktoora?token=forged", json=forged) as resp:
        assert resp.status == 401
    async with http.get(f"{me}/healthz") as resp:
        health = (await resp.json())["webhooks"]
    # the sandbox delivered real webhooks to the app, and the app's receiver applied them
    delivered = [e for e in sb.webhook_log if e["ok"] and e["target"].startswith(me)]
    assert {e["faktooraId"] for e in delivered} >= {first["faktooraId"], second["faktooraId"]}
    assert health["applied"] >= 2 and health["rejected"] == 1, health
    print(f"FastAPI example: {status_gets} status GETs for 2 waits; webhooks {health}")


async def test_fastapi_example_runs_as_a_script(tmp_path: Path) -> None:
    probe = _free_socket()
    port = probe.getsockname()[1]
    probe.close()
    base = f"http://127.0.0.1:{port}"
    env = example_env(PORT=str(port))
    async with await anyio.open_process(
        [sys.executable, str(EXAMPLES / "fastapi_app.py")], cwd=tmp_path, env=env
    ) as proc:
        try:
            async with aiohttp.ClientSession() as http:
                with anyio.fail_after(60):
                    while True:
                        try:
                            async with http.get(f"{base}/healthz") as resp:
                                if resp.status == 200:
                                    break
                        except aiohttp.ClientConnectionError:
                            pass
                        await anyio.sleep(0.1)
                async with http.post(f"{base}/invoices") as resp:
                    assert resp.status == 202
                    fid = (await resp.json())["faktooraId"]
                with anyio.fail_after(60):
                    async with http.get(f"{base}/invoices/{fid}/pdf") as resp:
                        assert resp.status == 200
                        assert (await resp.read()).startswith(b"%PDF-")
                async with http.get(f"{base}/healthz") as resp:
                    assert (await resp.json())["webhooks"]["applied"] >= 1
        finally:
            proc.send_signal(signal.SIGINT)
            with anyio.fail_after(30):
                await proc.wait()
    assert proc.returncode == 0


# ------------------------------------------------------------------------------------------ scripts
async def test_month_end_example_runs_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    async with Sandbox(processing_delay=(0.05, 0.2)) as sb:
        env = {"FAKTOORA_BASE_URL": sb.base_url, "FAKTOORA_API_KEY": sb.api_key, "COUNT": "25"}
        env |= {"OUT_DIR": str(out), "JOURNAL": str(tmp_path / "journal.sqlite"), "SEED": "5"}
        rc, output = await run_example("month_end.py", cwd=tmp_path, **env)
        assert rc == 0, output
        assert "25 invoices: {'done': 25}" in output
        posts = _count(sb.stats(), POST_INVOICES)
        assert posts == 2  # batch_size=20
        assert sb.stats()["invoicesStored"] == 25
        # a second run resumes from the journal: nothing is created twice
        rc, output = await run_example("month_end.py", cwd=tmp_path, **env)
        assert rc == 0, output
        assert _count(sb.stats(), POST_INVOICES) == posts
        assert sb.stats()["invoicesStored"] == 25
    report = json.loads((out / "report.json").read_text())
    assert report  # written by the runner
    assert len(list(out.rglob("*.pdf"))) == 25 and len(list(out.rglob("*.xml"))) == 25


def _journal_states(journal: Path) -> Counter[str]:
    return Counter(r.state for r in read_rows(journal)) if journal.exists() else Counter()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def _stderr_of(proc: Process) -> str:
    assert proc.stderr is not None
    chunks = [chunk async for chunk in proc.stderr]
    return b"".join(chunks).decode()


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "Ctrl-C"])
async def test_month_end_example_with_its_own_sandbox_resumes_after_a_kill(
    tmp_path: Path, how: signal.Signals
) -> None:
    """The documented "kill it and run it again", with no FAKTOORA_* set: the script's own sandbox.

    The sandbox runs in a process of its own (examples/_sandbox_host.py) that outlives the killed script,
    so the second run resumes against the invoices the first one created: each exactly once.  SIGKILL
    leaves no chance to clean up; Ctrl-C (SIGINT, which a terminal sends to the script's process group,
    not to the sandbox's own session) ends the script with exit code 130 and one line.
    """
    count, seed = 200, 8
    out = tmp_path / "out"
    journal = out / "journal.sqlite"
    env = {"COUNT": str(count), "OUT_DIR": str(out), "SEED": str(seed), "KEEP_SANDBOX": "1"}
    host_pid: int | None = None
    try:
        script = [sys.executable, str(EXAMPLES / "month_end.py")]
        async with await anyio.open_process(script, cwd=tmp_path, env=example_env(**env)) as proc:
            with anyio.fail_after(120):  # a hang guard, not a timing assertion
                while not (await anyio.to_thread.run_sync(_journal_states, journal))["downloaded"]:
                    assert proc.returncode is None, "the first run ended before it was killed"
                    await anyio.sleep(0.05)
            proc.send_signal(how)
            await proc.wait()
            stderr = await _stderr_of(proc)
        if how == signal.SIGINT:
            assert proc.returncode == 130, stderr
            assert stderr == "interrupted: run the script again to resume\n", stderr
        states = _journal_states(journal)
        assert 0 < states["downloaded"] < count, states  # killed in the middle
        info = json.loads((out / "journal.sqlite.sandbox.json").read_text(encoding="utf-8"))
        host_pid = int(info["pid"])
        assert _alive(host_pid), "the sandbox died with the script"

        rc, output = await run_example("month_end.py", cwd=tmp_path, **env)
        assert rc == 0, output
        assert f"resuming with the sandbox of the earlier run (pid {host_pid}," in output
        assert f"{count} invoices: {{'done': {count}}}" in output
        verify_exactly_once(
            sandbox_invoices=fetch_admin(info["root_url"], "invoices?withPdf=1"),
            stats=fetch_admin(info["root_url"], "stats"),
            journal=journal,
            out_dir=out,
            numbers=[generate_invoice(i, seed=seed)["invoiceNumber"] for i in range(count)],
        )

        # Once more without KEEP_SANDBOX: nothing left to do, and the sandbox is stopped at the end.
        del env["KEEP_SANDBOX"]
        rc, output = await run_example("month_end.py", cwd=tmp_path, **env)
        assert rc == 0, output
        assert output.rstrip().endswith("all done: sandbox stopped"), output
        assert not _alive(host_pid)
        assert not (out / "journal.sqlite.sandbox.json").exists()  # it held the sandbox's key
    finally:
        if host_pid is not None and _alive(host_pid):
            os.kill(host_pid, signal.SIGTERM)


async def test_import_and_inspect_example_with_a_real_file(tmp_path: Path, samples_dir: Path) -> None:
    # a KoSIT test-suite UBL invoice that passes EN 16931 and XRechnung 3.0 (../shared/samples/INDEX.md)
    sample = (
        samples_dir
        / "itplr-kosit+xrechnung-testsuite/src/test/business-cases/standard/01.01a-INVOICE_ubl.xml"
    )
    async with Sandbox() as sb:
        env = {"FAKTOORA_BASE_URL": sb.base_url, "FAKTOORA_API_KEY": sb.api_key}
        rc, output = await run_example("import_and_inspect.py", str(sample), cwd=tmp_path, **env)
        assert _count(sb.stats(), "POST /api/v1/import/outgoing") == 1
    assert rc == 0, output
    assert "imported 01.01a-INVOICE_ubl.xml as F" in output
    assert "status: overall=accepted" in output
    assert output.count("\nline ") == 2 and "\ntax S 7%: 22.04 on 314.86" in output
    assert "grand total 336.90 EUR" in output and "payment means 58: DE79000000001234567890" in output


async def test_import_and_inspect_example_with_embedded_sandbox(tmp_path: Path) -> None:
    rc, output = await run_example("import_and_inspect.py", cwd=tmp_path)
    assert rc == 0, output
    assert "imported demo-xrechnung.xml as F" in output
    assert "summary: RE-" in output and "\nseller: " in output and "\npayment means" in output


async def test_webhook_receiver_aiohttp_example(tmp_path: Path) -> None:
    async with Sandbox(processing_delay=(0.2, 0.5)) as sb:
        env = {"FAKTOORA_BASE_URL": sb.base_url, "FAKTOORA_API_KEY": sb.api_key, "COUNT": "4"}
        rc, output = await run_example("webhook_receiver_aiohttp.py", cwd=tmp_path, **env)
        log = sb.webhook_log
        async with FaktooraClient(sb.api_key, base_url=sb.base_url) as client:
            assert [s async for s in client.webhooks.list()] == []  # the script cleaned up
    assert rc == 0, output
    assert output.count(": created") + output.count(": sent") == 4
    assert "webhooks: " in output and " 0 rejected" in output
    assert len({e["faktooraId"] for e in log if e["ok"]}) == 4


@pytest.mark.parametrize(
    ("script", "args", "env", "line"),
    [
        ("import_and_inspect.py", ["missing.xml"], {}, "error: no such file: missing.xml"),
        ("import_and_inspect.py", ["."], {}, "error: not a file: ."),
        ("import_and_inspect.py", ["a.xml", "b.xml"], {}, "usage: python examples/import_and_inspect.py"),
        ("import_and_inspect.py", ["x.xml"], {"FAKTOORA_BASE_URL": "ftp://x", "FAKTOORA_API_KEY": "k"}, None),
        ("month_end.py", [], {"COUNT": "many"}, "error: COUNT must be a whole number >= 1, not 'many'"),
        ("month_end.py", [], {"SEED": "-3"}, "error: SEED must be a whole number >= 0, not '-3'"),
        ("month_end.py", ["--resume"], {}, "usage: [COUNT=N]"),
        ("webhook_receiver_aiohttp.py", [], {"COUNT": "0"}, "error: COUNT must be a whole number from 1"),
        ("webhook_receiver_aiohttp.py", [], {"PORT": "http"}, "error: PORT must be a whole number from 0"),
        ("fastapi_app.py", [], {"PORT": "99999"}, "error: PORT must be a port number (1-65535), not '99999'"),
    ],
    ids=[
        "missing",
        "folder",
        "two-paths",
        "bad-url",
        "count",
        "seed",
        "argv",
        "hook-count",
        "hook-port",
        "port",
    ],
)
async def test_examples_say_what_is_wrong_in_one_line(
    tmp_path: Path, script: str, args: list[str], env: dict[str, str], line: str | None
) -> None:
    if line is None:  # the file must exist so that the URL is what fails
        (tmp_path / args[0]).write_text("<x/>", encoding="utf-8")
    rc, output = await run_example(script, *args, cwd=tmp_path, **env)
    lines = output.splitlines()
    assert rc == 2, output
    assert len(lines) == 1 and "Traceback" not in output, output
    assert lines[0].startswith(line or "error: base_url must start with http:// or https://"), output
    assert sorted(os.listdir(tmp_path)) == (args[:1] if line is None else [])  # nothing written
