"""PDF rendering in worker processes (issue 14): same documents, every kind of PDF, no worker left behind.

Real sandboxes on loopback ports, real documents; the PDFs rendered by worker processes are compared byte
for byte with the thread pool's (reportlab renders with ``invariant=True``).  No timing here: the speed-up
is measured by ``python -m benchmarks.demo_speed``.  Factur-X files carry creation times, so for them the
embedded XML and the page text are compared.
"""

from __future__ import annotations

import argparse
import asyncio
import io

import anyio
import psutil
import pytest

from faktoora_async import FaktooraClient
from faktoora_async.cli.demo import rate_bound
from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.sandbox import Sandbox, SandboxProcess
from faktoora_async.sandbox.__main__ import add_arguments, build_sandbox
from faktoora_async.sandbox._render_pool import default_processes

pytestmark = pytest.mark.anyio

INVOICES = [
    generate_invoice(1, seed=14, format="xrechnung", schema="CII"),
    generate_invoice(2, seed=14, format="xrechnung", schema="UBL"),
    generate_invoice(3, seed=14, format="zf:2"),
]


def _workers() -> set[int]:
    """Descendant processes of this one, minus multiprocessing's long-lived helpers: the forkserver and the
    resource tracker (direct children) live as long as this process, by design; the forkserver's own
    children are the rendering workers."""
    me = psutil.Process()
    out = set()
    for proc in me.children(recursive=True):
        try:
            helper = proc.ppid() == me.pid and any(
                word in " ".join(proc.cmdline()) for word in ("forkserver", "resource_tracker")
            )
        except psutil.NoSuchProcess:
            continue
        if not helper:
            out.add(proc.pid)
    return out


async def _pdfs(processes: int) -> list[bytes]:
    async with (
        Sandbox(processing_delay=(0.0, 0.0), render_processes=processes) as sb,
        FaktooraClient(sb.api_key, base_url=sb.base_url) as client,
    ):
        created = await client.invoices.create([{**inv, "validate": True} for inv in INVOICES])
        pdfs = []
        for item in created:
            await client.invoices.wait(item, until="generated")
            pdfs.append(await client.invoices.download(item.faktoora_id, format="pdf"))
        return pdfs


async def test_worker_processes_render_the_same_pdfs_as_threads() -> None:
    in_processes = await _pdfs(2)
    in_threads = await _pdfs(0)
    assert [p[:5] for p in in_processes] == [b"%PDF-"] * 3
    assert in_processes[:2] == in_threads[:2]  # the CII and UBL views, byte for byte
    # the Factur-X file carries creation times in its metadata: compare what it embeds and shows
    from facturx import get_xml_from_pdf
    from pypdf import PdfReader

    assert get_xml_from_pdf(in_processes[2], check_xsd=False) == get_xml_from_pdf(
        in_threads[2], check_xsd=False
    )
    pages = [PdfReader(io.BytesIO(pdf)).pages for pdf in (in_processes[2], in_threads[2])]
    assert [p.extract_text() for p in pages[0]] == [p.extract_text() for p in pages[1]]


async def test_validation_report_and_import_view_render_in_workers() -> None:
    async with (
        Sandbox(processing_delay=(0.0, 0.0), render_processes=1) as sb,
        FaktooraClient(sb.api_key, base_url=sb.base_url) as client,
    ):
        (created,) = await client.invoices.create([{**INVOICES[0], "validate": True}])
        await client.invoices.wait(created, until="generated")
        for _ in range(200):  # the validation job runs after generation
            status = await client.invoices.status(created.faktoora_id)
            if status.validation is not None and status.validation.validity is not None:
                break
            await anyio.sleep(0.05)
        report = await client.invoices.validation_report(created.faktoora_id)
        assert report.startswith(b"%PDF-")  # a Verdict pickled to a worker and rendered there
        xml = await client.invoices.download(created.faktoora_id, format="xml")
        imported = await client.imports.upload(xml, filename="invoice.xml")
        for _ in range(200):
            got = await client.imports.status(imported.faktoora_id)
            if got.visualization_status not in (None, "processing", "pending"):
                break
            await anyio.sleep(0.05)
        assert got.visualization_status == "accepted"


async def test_no_worker_outlives_its_sandbox() -> None:
    before = _workers()
    async with Sandbox(processing_delay=(0.0, 0.0), render_processes=2) as sb:
        async with FaktooraClient(sb.api_key, base_url=sb.base_url) as client:
            (created,) = await client.invoices.create([INVOICES[1]])
            await client.invoices.wait(created, until="generated")
            await client.invoices.download(created.faktoora_id, format="pdf")
        running = _workers() - before
        assert len(running) >= 2  # the two rendering workers
    assert not _workers() - before


def test_sandbox_process_renders_in_workers_and_takes_them_down() -> None:
    with SandboxProcess(processing_delay=(0.0, 0.0), render_processes=2) as sb:
        assert sb.pid is not None

        async def one_pdf() -> bytes:
            async with FaktooraClient(sb.api_key, base_url=sb.base_url) as client:
                (created,) = await client.invoices.create([INVOICES[2]])
                await client.invoices.wait(created, until="generated")
                return await client.invoices.download(created.faktoora_id, format="pdf")

        assert asyncio.run(one_pdf()).startswith(b"%PDF-")
        tree = psutil.Process(sb.pid).children(recursive=True)
        assert len(tree) >= 2
    # the workers stop with the sandbox; multiprocessing's helpers (forkserver, resource tracker) follow
    # as soon as they see their parent gone
    _, alive = psutil.wait_procs(tree, timeout=60)
    assert not alive


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_render_processes_option() -> None:
    assert build_sandbox(_parse()).config.render_processes == default_processes()
    assert build_sandbox(_parse("--render-processes", "auto")).config.render_processes == default_processes()
    assert build_sandbox(_parse("--render-processes", "3")).config.render_processes == 3
    assert build_sandbox(_parse("--render-processes", "0")).config.render_processes == 0
    for bad in ("-1", "many"):
        with pytest.raises(SystemExit):
            _parse("--render-processes", bad)


def test_demo_rate_bound() -> None:
    # 500 invoices, PDF + XML, batches of 100: 5 creates + 500 polls + 1,000 downloads = 1,505 requests
    assert rate_bound(500, 2, rate=200.0, burst=40) == pytest.approx((1505 - 40) / 200)
    assert rate_bound(3, 1, rate=10.0, burst=40) == 0.0  # all inside the burst
    # list pages instead of polls: 5 creates + 1 list page + 1,000 downloads
    assert rate_bound(500, 2, rate=200.0, burst=40, polls=False) == pytest.approx((1006 - 40) / 200)
