"""Contestants built on ``requests``: a sequential loop, and the same steps on a pool of 32 threads."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import requests

from ._harness import CpuMark
from ._workload import ACCEPT, WorkConfig, batches, file_path, is_ready, retry_after


class _Client:
    def __init__(self, cfg: WorkConfig) -> None:
        self.cfg = cfg
        self.local = threading.local()
        self.lock = threading.Lock()
        self.sent = 0
        self.throttled = 0
        self.polls = 0

    def session(self) -> requests.Session:
        s: requests.Session | None = getattr(self.local, "s", None)
        if s is None:
            s = requests.Session()
            s.headers["X-API-KEY"] = self.cfg.api_key
            adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=4)
            s.mount("http://", adapter)
            self.local.s = s
        return s

    def request(self, method: str, url: str, **kw: Any) -> requests.Response:
        while True:
            resp = self.session().request(method, url, timeout=60, **kw)
            with self.lock:
                self.sent += 1
            if resp.status_code != 429:
                return resp
            with self.lock:
                self.throttled += 1
            time.sleep(retry_after(resp.headers.get("Retry-After")))

    def create(self, batch: list[dict[str, Any]]) -> list[str]:
        body = json.dumps({"invoices": batch}).encode()
        resp = self.request(
            "POST", self.cfg.base_v1 + "/invoices", data=body, headers={"Content-Type": "application/json"}
        )
        resp.raise_for_status()
        return [x["faktooraId"] for x in resp.json()]

    def wait_and_download(self, faktoora_id: str, number: str) -> bool:
        while True:
            resp = self.request("GET", self.cfg.status_url(faktoora_id))
            with self.lock:
                self.polls += 1
            resp.raise_for_status()
            ready = is_ready(resp.json())
            if ready is None:
                return False
            if ready:
                break
            time.sleep(self.cfg.poll_interval)
        for fmt, accept in ACCEPT.items():
            resp = self.request(
                "GET", self.cfg.file_url(faktoora_id), headers={"Accept": accept}, stream=True
            )
            resp.raise_for_status()
            with open(file_path(self.cfg, number, fmt), "wb") as f:
                for chunk in resp.iter_content(64 * 1024):
                    f.write(chunk)
        return True

    def counters(self) -> dict[str, int]:
        return {"client_requests": self.sent, "client_429": self.throttled, "client_polls": self.polls}


def run_sequential(cfg: WorkConfig, items: list[dict[str, Any]]) -> dict[str, Any]:
    c = _Client(cfg)
    done = failed = 0
    for batch in batches(items):
        ids = c.create(batch)
        for fid, inv in zip(ids, batch, strict=True):
            if c.wait_and_download(fid, inv["invoiceNumber"]):
                done += 1
            else:
                failed += 1
    return {"done": done, "failed": failed, **c.counters()}


def run_threads(cfg: WorkConfig, items: list[dict[str, Any]]) -> dict[str, Any]:
    c = _Client(cfg)
    futures: list[Future[bool]] = []
    with ThreadPoolExecutor(max_workers=cfg.concurrency) as pool:
        for batch in batches(items):
            ids = c.create(batch)
            for fid, inv in zip(ids, batch, strict=True):
                futures.append(pool.submit(c.wait_and_download, fid, inv["invoiceNumber"]))
        results = [f.result() for f in futures]
    return {"done": sum(results), "failed": len(results) - sum(results), **c.counters()}


# --------------------------------------------------------------------------------------------- B2
WARMUP = 20


def overhead(cfg: WorkConfig, items: list[dict[str, Any]]) -> dict[str, Any]:
    """``WARMUP`` then ``cfg.repeats`` sequential requests of ``cfg.kind``, CPU measured around the latter."""
    c = _Client(cfg)

    def one(i: int) -> None:
        if cfg.kind == "status":
            resp = c.request("GET", cfg.status_url(cfg.status_id))
            resp.raise_for_status()
            is_ready(resp.json())
        else:
            c.create([items[i]])

    for i in range(WARMUP):
        one(i)
    cpu = CpuMark()
    t0 = time.perf_counter()
    for i in range(WARMUP, WARMUP + cfg.repeats):
        one(i)
    return {"cpu_s": cpu.seconds(), "wall_s": time.perf_counter() - t0, "count": cfg.repeats, **c.counters()}
