"""B5 polling cost: status GETs per invoice for a BulkRunner run, with polling alone and with webhooks fed.

Sandbox (own process): light documents, 20 ms latency, processing delay 0.5-2 s, no rate limit (so a
limiter cannot hide extra polling).  "webhooks": the worker process also serves a loopback aiohttp.web
receiver (``faktoora_async.integrations.aiohttp.webhook_handler`` + ``WebhookReceiver(client.events)``),
subscribes it through the API (``client.webhooks.create``) for every status action, then runs the same
BulkRunner with ``webhooks=True`` (when the runner has that option).  Status GETs are counted by the
sandbox.  Targets: <= 1.5 polling alone, <= 0.1 with webhooks.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import _harness as h

MODES = ("polling", "webhooks")
ACTIONS = ("invoiceCreate", "invoiceSent")


async def _run(mode: str, origin: str, api_key: str, n: int, out: Path, prefix: str) -> dict[str, Any]:
    from faktoora_async import FaktooraClient
    from faktoora_async.bulk import BulkRunner
    from faktoora_async.einvoice.generate import generate_invoices

    async with FaktooraClient(api_key, base_url=origin + "/api/v1", max_connections=32) as client:
        web_runner = None
        receiver = None
        if mode == "webhooks":
            from aiohttp import web

            from faktoora_async.integrations.aiohttp import webhook_handler
            from faktoora_async.webhooks import WebhookReceiver

            secret = secrets.token_urlsafe(16)
            receiver = WebhookReceiver(client.events, secret=secret)
            app = web.Application()
            app.router.add_post("/hooks/faktoora", webhook_handler(receiver))
            web_runner = web.AppRunner(app, access_log=None)
            await web_runner.setup()
            port = h.free_port()
            await web.TCPSite(web_runner, "127.0.0.1", port).start()
            target = f"http://127.0.0.1:{port}/hooks/faktoora?{receiver.secret_query}={secret}"
            for action in ACTIONS:
                await client.webhooks.create(action, target)
        try:
            extra: dict[str, Any] = {}
            if mode == "webhooks" and "webhooks" in inspect.signature(BulkRunner).parameters:
                extra["webhooks"] = True  # the documented way to say a receiver feeds client.events
            runner = BulkRunner(
                client,
                journal=out / "journal.sqlite",
                out_dir=out / "files",
                concurrency=32,
                wait_timeout=300,
                **extra,
            )
            t0 = time.perf_counter()
            report = await runner.run(generate_invoices(n, seed=6, number_prefix=prefix))
            wall = time.perf_counter() - t0
        finally:
            if web_runner is not None:
                await web_runner.cleanup()
    res: dict[str, Any] = {
        "done": int(report.counts.get("done", 0)),
        "wall_s": wall,
        "report_polls_per_invoice": float(report.polls_per_invoice),
    }
    if receiver is not None:
        res["receiver"] = repr(receiver.stats)
    return res


def worker(args: list[str]) -> dict[str, Any]:
    mode, origin, key, n, out, prefix = args
    return asyncio.run(_run(mode, origin, key, int(n), Path(out), prefix))


def run(*, smoke: bool = False, n: int | None = None, repeats: int | None = None) -> tuple[str, bool]:
    n = n or (30 if smoke else 500)
    repeats = repeats or (1 if smoke else 3)
    ok = True
    errors: list[str] = []
    started = h.utc_now()
    load_before = h.machine_line()
    results: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
    delay = (0.1, 0.4) if smoke else (0.5, 2.0)
    with tempfile.TemporaryDirectory(prefix="bench-b5-") as tmp_name:
        for r in range(repeats):
            for mode in MODES[r % 2 :] + MODES[: r % 2]:
                out = Path(tmp_name) / f"{mode}-{r}"
                # the webhooks mode subscribes a receiver on loopback, which faktoora (and the sandbox) refuse
                allow = ("--allow-private-targets",)
                config = h.SandboxConfig(latency_ms=20.0, processing_delay=delay, light=True, extra=allow)
                with h.Sandbox(config) as sb:
                    res = h.run_worker(
                        "b5_polling",
                        ["worker", mode, sb.origin, sb.api_key, str(n), str(out), f"B5{mode[:4]}{r}"],
                        timeout=300 if smoke else 1200,
                    )
                    stats = sb.stats()
                shutil.rmtree(out, ignore_errors=True)
                if not res.ok:
                    ok = False
                    errors.append(f"{mode} run {r + 1}: {res.error}")
                    continue
                x = dict(res.result)
                x["status_gets"] = h.count_requests(stats, method="GET", route_contains="/status")
                x["requests"] = h.count_requests(stats, route_contains="/api/")
                webhooks = stats.get("webhooks") or {}
                x["webhooks_delivered"] = webhooks.get("delivered")
                x["complete"] = x["done"] == n and stats.get("invoicesStored") == n
                if not x["complete"]:
                    errors.append(
                        f"{mode} run {r + 1}: done={x['done']} stored={stats.get('invoicesStored')}"
                    )
                results[mode].append(x)
                print(f"  B5 {mode} run {r + 1}: {x}", file=sys.stderr, flush=True)
    targets = {"polling": 1.5, "webhooks": 0.1}
    rows = []
    verdicts = []
    for mode in MODES:
        runs = results[mode]
        if not runs:
            continue
        polls = h.median([x["status_gets"] / n for x in runs])
        rows.append(
            [
                "ours: BulkRunner, "
                + ("polling alone" if mode == "polling" else "webhooks fed (loopback receiver)"),
                f"{sum(1 for x in runs if x['complete'])}/{len(runs)}",
                polls,
                h.median([x["report_polls_per_invoice"] for x in runs]),
                h.median([x["requests"] for x in runs]),
                h.median([float(x.get("webhooks_delivered") or 0) for x in runs]),
                h.median([x["wall_s"] for x in runs]),
                f"<= {targets[mode]:g}",
            ]
        )
        verdicts.append(
            f"Target <= {targets[mode]:g} status GETs per invoice ({mode}): {polls:.2f}, "
            + ("met." if polls <= targets[mode] else "NOT met.")
        )
    lines = [
        f"### B5 polling cost: N={n:,} invoices per run, median of {repeats} run(s)",
        "",
        f"Sandbox: light documents, latency 20 ms, processing delay {delay[0]:g}-{delay[1]:g} s, "
        f"no rate limit. "
        f"Started {started}; {load_before}.",
        "",
        h.markdown_table(
            [
                "mode",
                "complete runs",
                "status GETs / invoice (server count)",
                "report polls_per_invoice",
                "requests",
                "webhooks delivered",
                "wall s",
                "target",
            ],
            rows,
        ),
        "",
        *verdicts,
        "",
    ]
    if errors:
        lines.append("Errors / incomplete: " + "; ".join(errors))
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "worker":
        h.emit_result(worker(argv[1:]))
        return 0
    p = argparse.ArgumentParser(prog="python -m benchmarks.b5_polling")
    sub = p.add_subparsers(dest="cmd")
    r = sub.add_parser("run")
    r.add_argument("--smoke", action="store_true")
    r.add_argument("-n", type=int)
    r.add_argument("--repeats", type=int)
    args = p.parse_args(argv)
    text, ok = run(
        smoke=getattr(args, "smoke", False),
        n=getattr(args, "n", None),
        repeats=getattr(args, "repeats", None),
    )
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
