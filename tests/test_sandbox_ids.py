"""Issue 16: the sandbox never hands out an id it gave before, even restarted with the same seed; the seed
keeps faults and delays repeatable, not ids."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest
from _sandbox_http import invoice

from faktoora_async.sandbox import Sandbox, SandboxProcess

pytestmark = pytest.mark.anyio

FID = re.compile(r"F[A-Z0-9]{8}")
N = 60


async def jobs(
    session: aiohttp.ClientSession, base_url: str, key: str
) -> tuple[list[str], dict[str, str | None]]:
    headers = {"X-API-KEY": key}
    invoices = [invoice(f"SEED-{i:03d}") for i in range(N)]
    async with session.post(base_url + "/invoices", json={"invoices": invoices}, headers=headers) as resp:
        assert resp.status == 202, await resp.text()
        fids = [item["faktooraId"] for item in await resp.json()]
    v2 = base_url.replace("/api/v1", "/api/v2")
    outcome: dict[str, str | None] = {}
    for fid, body in zip(fids, invoices, strict=True):
        for _ in range(1000):
            async with session.get(f"{v2}/invoices/{fid}/status", headers=headers) as resp:
                st = await resp.json()
            if st["jobStatus"] in (None, "failed"):
                outcome[body["invoiceNumber"]] = st["jobStatus"]
                break
            await asyncio.sleep(0.01)
    return fids, outcome


async def test_two_processes_with_the_same_seed_share_no_id() -> None:
    args = ["--generation-failure-rate", "0.3"]
    async with aiohttp.ClientSession() as session:
        runs = []
        for _ in range(2):  # a "restart": the same seed, the same requests, a new process
            async with SandboxProcess(seed=7, processing_delay=(0.0, 0.01), extra_args=args) as proc:
                runs.append(await jobs(session, proc.base_url, proc.api_key))
    (ids1, faults1), (ids2, faults2) = runs
    assert len(set(ids1)) == N and len(set(ids2)) == N
    assert all(FID.fullmatch(fid) for fid in ids1 + ids2)
    assert set(ids1).isdisjoint(ids2)
    # ... while the seed still repeats the faults (keyed by invoice number, not by id)
    assert faults1 == faults2 and len(faults1) == N
    assert "failed" in faults1.values() and None in faults1.values()


async def test_in_process_sandboxes_with_the_same_seed_share_no_id() -> None:
    seen: list[str] = []
    async with aiohttp.ClientSession() as session:
        for _ in range(2):
            async with Sandbox(seed=3) as sb:
                async with session.post(
                    sb.base_url + "/invoices",
                    json={"invoices": [invoice(f"S-{i}") for i in range(50)]},
                    headers={"X-API-KEY": sb.api_key},
                ) as resp:
                    seen += [item["faktooraId"] for item in await resp.json()]
                sb.reset()
                async with session.post(
                    sb.base_url + "/invoices",
                    json={"invoices": [invoice("S-0")]},
                    headers={"X-API-KEY": sb.api_key},
                ) as resp:
                    seen += [item["faktooraId"] for item in await resp.json()]
    assert len(seen) == 102 and len(set(seen)) == 102  # neither a restart nor a reset reuses an id
