"""A 100 MB invoice download streams to disk in bounded memory (a memory bound, not a timing assert)."""

from __future__ import annotations

import gc
import hashlib
from pathlib import Path

import aiohttp
import anyio
import psutil
import pytest

from faktoora_async import FaktooraClient
from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

SIZE = 100 * 1024 * 1024
LIMIT = 30 * 1024 * 1024


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


async def test_100_mb_download_peak_rss_stays_bounded(tmp_path: Path) -> None:
    process = psutil.Process()
    async with Sandbox() as sb, FaktooraClient(sb.api_key, base_url=sb.base_url, timeout=120) as c:
        (created,) = await c.invoices.create(generate_invoice(0))
        await c.invoices.wait(created.faktoora_id, timeout=30)
        async with (
            aiohttp.ClientSession() as raw,
            raw.post(
                f"{sb.root_url}/_sandbox/inflate/{created.faktoora_id}", params={"bytes": str(SIZE)}
            ) as r,
        ):
            assert r.status == 200, await r.text()
            expected_sha = (await r.json())["pdfSha256"]

        # warm up the code path once with a small file so imports/caches do not count as "download memory"
        await c.invoices.download(created.faktoora_id, format="xml", to=tmp_path / "warm.xml")
        gc.collect()
        baseline = process.memory_info().rss
        peak = baseline
        done = anyio.Event()

        async def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, process.memory_info().rss)
                await anyio.sleep(0.005)

        async with anyio.create_task_group() as tg:
            tg.start_soon(sample)
            result = await c.invoices.download(created.faktoora_id, to=tmp_path / "big.pdf")
            done.set()
        peak = max(peak, process.memory_info().rss)

    assert not isinstance(result, bytes)
    assert result.size == SIZE and result.path.stat().st_size == SIZE
    assert result.sha256 == expected_sha == sha256_of(result.path)
    growth = peak - baseline
    print(f"100 MB download: RSS baseline {baseline / 2**20:.1f} MiB, peak growth {growth / 2**20:.1f} MiB")
    assert growth < LIMIT, f"peak RSS grew by {growth / 2**20:.1f} MiB"
