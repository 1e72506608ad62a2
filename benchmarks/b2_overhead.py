"""B2 per-request overhead: client CPU microseconds per status GET and per create POST (1 invoice, 20 lines).

Each contestant runs in its own subprocess, sends 20 warm-up requests, then ``K`` sequential requests; its
own CPU time (user + system, ``getrusage``) over those ``K`` requests divided by ``K`` is the figure.
The table gives each figure's median and min-max over the rounds, and ours / bare aiohttp paired within
each round (both in one sandbox, one after the other), which a slow drift of the machine's speed moves less.
The sandbox runs in a separate process with no latency and no rate limit.  For creates its processing delay
is an hour, so no document is rendered while we measure; the status target is a ready (``sent``) invoice.
Contestants: ours (``client.invoices.status`` / ``client.invoices.create``: pre-flight checks, msgspec
models, retries machinery, rate governor), bare aiohttp (``json.dumps``/``json.loads`` only),
httpx + pydantic v2, and, for context, ``requests``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from typing import Any

from . import _harness as h
from ._workload import WorkConfig, invoices

CONTESTANTS = ("ours", "ours-lean", "aiohttp-bare", "httpx-pydantic", "requests")
LABELS = {
    "ours": "ours: FaktooraClient (default: EN 16931 pre-flight on)",
    "ours-lean": "ours, diagnostic: create(preflight=False), max_rate=1e6 (limiter never paces)",
    "aiohttp-bare": "bare aiohttp (floor)",
    "httpx-pydantic": "httpx.AsyncClient + pydantic v2",
    "requests": "requests (sync, context)",
}
WARMUP = 20


def worker(contestant: str, cfg: WorkConfig) -> dict[str, Any]:
    items = invoices(cfg) if cfg.kind == "create" else []
    if contestant == "ours-lean":
        from . import _c_ours

        res = _c_ours.overhead(cfg, items, preflight=False, max_rate=1e6)
        res["contestant"] = contestant
        return res
    if contestant == "ours":
        from . import _c_ours as mod
    elif contestant == "aiohttp-bare":
        from . import _c_aiohttp as mod  # type: ignore[no-redef]
    elif contestant == "httpx-pydantic":
        from . import _c_httpx as mod  # type: ignore[no-redef]
    elif contestant == "requests":
        from . import _c_requests as mod  # type: ignore[no-redef]
    else:
        raise SystemExit(f"unknown contestant {contestant}")
    res = mod.overhead(cfg, items)
    res["contestant"] = contestant
    res["kind"] = cfg.kind
    return res


def _ready_invoice(sb: h.Sandbox) -> str:
    from faktoora_async.einvoice.generate import generate_invoices

    inv = next(iter(generate_invoices(1, seed=7, lines=20, number_prefix="B2STATUS")))
    inv["delivery"] = {"type": "email", "recipient": "buchhaltung@example.de"}
    body = json.dumps({"invoices": [inv]}).encode()
    req = urllib.request.Request(sb.base_url + "/invoices", data=body, method="POST")
    req.add_header("X-API-KEY", sb.api_key)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as resp:
        fid = str(json.loads(resp.read())[0]["faktooraId"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        req = urllib.request.Request(f"{sb.origin}/api/v2/invoices/{fid}/status")
        req.add_header("X-API-KEY", sb.api_key)
        with urllib.request.urlopen(req, timeout=30) as resp:
            if json.loads(resp.read()).get("invoiceStatus") is not None:
                return fid
        time.sleep(0.1)
    raise RuntimeError("status target never became ready")


def run(
    *,
    smoke: bool = False,
    repeats: int | None = None,
    k_status: int | None = None,
    k_create: int | None = None,
) -> tuple[str, bool]:
    repeats = repeats or (1 if smoke else 5)
    k_status = k_status or (50 if smoke else 2000)
    k_create = k_create or (20 if smoke else 300)
    ok = True
    errors: list[str] = []
    per: dict[tuple[str, str], list[float]] = {}
    by_round: dict[tuple[str, str], dict[int, float]] = {}  # (contestant, kind) -> round -> µs
    started = h.utc_now()
    load_before = h.machine_line()
    for r in range(repeats):
        k = r % len(CONTESTANTS)
        order = CONTESTANTS[k:] + CONTESTANTS[:k]
        for kind in ("status", "create"):
            delay = (0.0, 0.0) if kind == "status" else (3600.0, 3600.0)
            with h.Sandbox(h.SandboxConfig(processing_delay=delay, extra=("--render-processes", "0"))) as sb:
                status_id = _ready_invoice(sb) if kind == "status" else ""
                for c in order:
                    count = k_status if kind == "status" else k_create
                    cfg = WorkConfig(
                        origin=sb.origin,
                        api_key=sb.api_key,
                        n=WARMUP + count if kind == "create" else 0,
                        seed=2,
                        lines=20,
                        prefix=f"B2{c.replace('-', '')[:8]}{r}",
                        kind=kind,
                        repeats=count,
                        status_id=status_id,
                        concurrency=8,
                    )
                    out = h.run_worker("b2_overhead", ["worker", c, cfg.to_json()], timeout=300)
                    if not out.ok:
                        ok = False
                        errors.append(f"{c}/{kind}: {out.error}")
                        continue
                    value = out.result["cpu_s"] / out.result["count"] * 1e6
                    per.setdefault((c, kind), []).append(value)
                    by_round.setdefault((c, kind), {})[r] = value
    med = {key: h.median(v) for key, v in per.items()}
    floor_s = med.get(("aiohttp-bare", "status"))
    floor_c = med.get(("aiohttp-bare", "create"))
    ours_s = med.get(("ours", "status"))
    ours_c = med.get(("ours", "create"))
    rows = []
    for c in CONTESTANTS:
        s = med.get((c, "status"))
        cr = med.get((c, "create"))
        rows.append(
            [
                LABELS[c],
                s,
                _spread(per.get((c, "status"))),
                h.ratio(s, floor_s),
                h.ratio(s, ours_s),
                cr,
                _spread(per.get((c, "create"))),
                h.ratio(cr, floor_c),
                h.ratio(cr, ours_c),
            ]
        )
    lines = [
        f"### B2 per-request client CPU: {k_status:,} status GETs and {k_create:,} create POSTs "
        f"(1 invoice of 20 lines) per run, median of {repeats} run(s)",
        "",
        f"Started {started}; {load_before}.",
        "",
        h.markdown_table(
            [
                "contestant",
                "CPU µs / status GET",
                "min-max",
                "vs bare aiohttp",
                "vs ours",
                "CPU µs / create POST",
                "min-max",
                "vs bare aiohttp",
                "vs ours",
            ],
            rows,
        ),
        "",
    ]
    # issue 14: create with the pre-flight <= 1.3x, status <= 1.1x bare aiohttp's CPU per request
    for kind, ours, floor, target in (
        ("status GET", ours_s, floor_s, 1.1),
        ("create POST", ours_c, floor_c, 1.3),
    ):
        if ours and floor:
            verdict = "met" if ours / floor <= target else "NOT met"
            lines.append(f"Target <= {target}x bare aiohttp ({kind}): ours {ours / floor:.2f}x, {verdict}.")
    for kind in ("status", "create"):
        paired = _paired(by_round, kind)
        if paired:
            lines.append(
                f"Ours / bare aiohttp ({kind}) within each round (one sandbox, run one after the other): "
                f"median {h.median(paired):.2f}x, {min(paired):.2f}-{max(paired):.2f}x over "
                f"{len(paired)} round(s)."
            )
    lines.append("")
    if errors:
        lines.append("Errors: " + "; ".join(errors))
    return "\n".join(lines), ok


def _spread(values: list[float] | None) -> str:
    return f"{h.fmt(min(values))}-{h.fmt(max(values))}" if values else "unknown"


def _paired(by_round: dict[tuple[str, str], dict[int, float]], kind: str) -> list[float]:
    """Ours over bare aiohttp, one ratio per round in which both completed."""
    ours, floor = by_round.get(("ours", kind), {}), by_round.get(("aiohttp-bare", kind), {})
    return [ours[r] / floor[r] for r in sorted(ours) if floor.get(r)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.b2_overhead")
    sub = p.add_subparsers(dest="cmd")
    w = sub.add_parser("worker")
    w.add_argument("contestant")
    w.add_argument("config")
    r = sub.add_parser("run")
    r.add_argument("--smoke", action="store_true")
    r.add_argument("--repeats", type=int)
    r.add_argument("--k-status", type=int)
    r.add_argument("--k-create", type=int)
    args = p.parse_args(argv)
    if args.cmd == "worker":
        h.emit_result(worker(args.contestant, WorkConfig.from_json(args.config)))
        return 0
    text, ok = run(
        smoke=getattr(args, "smoke", False),
        repeats=getattr(args, "repeats", None),
        k_status=getattr(args, "k_status", None),
        k_create=getattr(args, "k_create", None),
    )
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
