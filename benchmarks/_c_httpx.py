"""Contestant: ``httpx.AsyncClient`` + pydantic v2 models + ``asyncio.gather`` with a semaphore."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from pydantic import TypeAdapter

from . import _pydantic_models as pm
from ._harness import CpuMark
from ._workload import ACCEPT, WorkConfig, batches, file_path

_CREATED = TypeAdapter(list[pm.Created])


class _Runner:
    def __init__(self, cfg: WorkConfig, client: httpx.AsyncClient) -> None:
        self.cfg = cfg
        self.client = client
        self.sem = asyncio.Semaphore(cfg.concurrency)
        self.sent = 0
        self.throttled = 0
        self.polls = 0

    async def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        while True:
            async with self.sem:
                resp = await self.client.request(method, url, **kw)
            self.sent += 1
            if resp.status_code != 429:
                return resp
            self.throttled += 1
            await asyncio.sleep(float(resp.headers.get("Retry-After", "1")))

    async def create(self, batch: list[pm.Invoice]) -> list[pm.Created]:
        body = pm.CreateRequest(invoices=batch).model_dump_json(by_alias=True, exclude_none=True)
        resp = await self.request(
            "POST", self.cfg.base_v1 + "/invoices", content=body, headers={"Content-Type": "application/json"}
        )
        resp.raise_for_status()
        return _CREATED.validate_json(resp.content)

    async def status(self, faktoora_id: str) -> pm.Status:
        resp = await self.request("GET", self.cfg.status_url(faktoora_id))
        self.polls += 1
        resp.raise_for_status()
        return pm.Status.model_validate_json(resp.content)

    async def one(self, faktoora_id: str, number: str) -> bool:
        while True:
            st = await self.status(faktoora_id)
            if st.invoice_status is not None:
                break
            if st.job_status == "failed":
                return False
            await asyncio.sleep(self.cfg.poll_interval)
        for fmt, accept in ACCEPT.items():
            await self.download(faktoora_id, number, fmt, accept)
        return True

    async def download(self, faktoora_id: str, number: str, fmt: str, accept: str) -> None:
        while True:
            async with (
                self.sem,
                self.client.stream("GET", self.cfg.file_url(faktoora_id), headers={"Accept": accept}) as resp,
            ):
                self.sent += 1
                if resp.status_code == 429:
                    self.throttled += 1
                    wait = float(resp.headers.get("Retry-After", "1"))
                else:
                    resp.raise_for_status()
                    with open(file_path(self.cfg, number, fmt), "wb") as f:  # noqa: ASYNC230 (typical script)
                        async for chunk in resp.aiter_bytes(64 * 1024):
                            f.write(chunk)
                    return
            await asyncio.sleep(wait)

    def counters(self) -> dict[str, int]:
        return {"client_requests": self.sent, "client_429": self.throttled, "client_polls": self.polls}


def _client(cfg: WorkConfig) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=cfg.concurrency, max_keepalive_connections=cfg.concurrency)
    return httpx.AsyncClient(headers={"X-API-KEY": cfg.api_key}, limits=limits, timeout=60.0)


async def _month_end(cfg: WorkConfig, items: list[dict[str, Any]]) -> dict[str, Any]:
    models = [pm.Invoice.model_validate(d) for d in items]  # pre-flight: typed, validated payloads
    async with _client(cfg) as client:
        r = _Runner(cfg, client)
        tasks: list[asyncio.Task[bool]] = []
        for batch in batches(models):
            created = await r.create(batch)
            for c, inv in zip(created, batch, strict=True):
                tasks.append(asyncio.ensure_future(r.one(c.faktoora_id, inv.invoice_number)))
        results = await asyncio.gather(*tasks)
    return {"done": sum(results), "failed": len(results) - sum(results), **r.counters()}


def run(cfg: WorkConfig, items: list[dict[str, Any]]) -> dict[str, Any]:
    return asyncio.run(_month_end(cfg, items))


# --------------------------------------------------------------------------------------------- B2
WARMUP = 20


async def _overhead(cfg: WorkConfig, items: list[dict[str, Any]]) -> dict[str, Any]:
    async with _client(cfg) as client:
        r = _Runner(cfg, client)

        async def one(i: int) -> None:
            if cfg.kind == "status":
                await r.status(cfg.status_id)
            else:
                await r.create([pm.Invoice.model_validate(items[i])])

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
