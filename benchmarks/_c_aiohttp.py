"""Contestant: a bare aiohttp script, the floor of client overhead.

No models, no validation, no journal, no retries beyond sleeping ``Retry-After`` on a 429 (without that it
could not finish under the rate limit); ``json.loads`` only where an id or a status must be read.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

from ._harness import CpuMark
from ._workload import ACCEPT, WorkConfig, batches, file_path, is_ready, retry_after


class _Runner:
    def __init__(self, cfg: WorkConfig, session: aiohttp.ClientSession) -> None:
        self.cfg = cfg
        self.session = session
        self.sem = asyncio.Semaphore(cfg.concurrency)
        self.sent = 0
        self.throttled = 0
        self.polls = 0

    async def get_json(self, method: str, url: str, data: bytes | None = None) -> Any:
        headers = {"Content-Type": "application/json"} if data is not None else None
        while True:
            async with self.sem, self.session.request(method, url, data=data, headers=headers) as resp:
                self.sent += 1
                if resp.status != 429:
                    resp.raise_for_status()
                    return json.loads(await resp.read())
                self.throttled += 1
                wait = retry_after(resp.headers.get("Retry-After"))
            await asyncio.sleep(wait)

    async def download(self, faktoora_id: str, number: str, fmt: str) -> None:
        while True:
            async with (
                self.sem,
                self.session.get(self.cfg.file_url(faktoora_id), headers={"Accept": ACCEPT[fmt]}) as resp,
            ):
                self.sent += 1
                if resp.status != 429:
                    resp.raise_for_status()
                    with open(file_path(self.cfg, number, fmt), "wb") as f:  # noqa: ASYNC230 (typical script)
                        async for chunk in resp.content.iter_chunked(64 * 1024):
                            f.write(chunk)
                    return
                self.throttled += 1
                wait = retry_after(resp.headers.get("Retry-After"))
            await asyncio.sleep(wait)

    async def one(self, faktoora_id: str, number: str) -> bool:
        while True:
            self.polls += 1
            ready = is_ready(await self.get_json("GET", self.cfg.status_url(faktoora_id)))
            if ready is None:
                return False
            if ready:
                break
            await asyncio.sleep(self.cfg.poll_interval)
        for fmt in ACCEPT:
            await self.download(faktoora_id, number, fmt)
        return True

    def counters(self) -> dict[str, int]:
        return {"client_requests": self.sent, "client_429": self.throttled, "client_polls": self.polls}


def _session(cfg: WorkConfig) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=cfg.concurrency)
    return aiohttp.ClientSession(headers={"X-API-KEY": cfg.api_key}, connector=connector)


async def _month_end(cfg: WorkConfig, items: list[dict[str, Any]]) -> dict[str, Any]:
    async with _session(cfg) as session:
        r = _Runner(cfg, session)
        tasks: list[asyncio.Task[bool]] = []
        for batch in batches(items):
            body = json.dumps({"invoices": batch}).encode()
            created = await r.get_json("POST", cfg.base_v1 + "/invoices", body)
            for c, inv in zip(created, batch, strict=True):
                tasks.append(asyncio.ensure_future(r.one(c["faktooraId"], inv["invoiceNumber"])))
        results = await asyncio.gather(*tasks)
    return {"done": sum(results), "failed": len(results) - sum(results), **r.counters()}


def run(cfg: WorkConfig, items: list[dict[str, Any]]) -> dict[str, Any]:
    return asyncio.run(_month_end(cfg, items))


# --------------------------------------------------------------------------------------------- B2
WARMUP = 20


async def _overhead(cfg: WorkConfig, items: list[dict[str, Any]]) -> dict[str, Any]:
    async with _session(cfg) as session:
        r = _Runner(cfg, session)
        status_url = cfg.status_url(cfg.status_id)
        create_url = cfg.base_v1 + "/invoices"

        async def one(i: int) -> None:
            if cfg.kind == "status":
                is_ready(await r.get_json("GET", status_url))
            else:
                await r.get_json("POST", create_url, json.dumps({"invoices": [items[i]]}).encode())

        for i in range(WARMUP):
            await one(i)
        cpu = CpuMark()
        t0 = time.perf_counter()
        for i in range(WARMUP, WARMUP + cfg.repeats):
            await one(i)
        return {
            "cpu_s": cpu.seconds(),
            "wall_s": time.perf_counter() - t0,
            "count": cfg.repeats,
            **r.counters(),
        }


def overhead(cfg: WorkConfig, items: list[dict[str, Any]]) -> dict[str, Any]:
    return asyncio.run(_overhead(cfg, items))
