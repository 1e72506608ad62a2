"""B4 memory: peak RSS of the client process for big downloads and for a long streamed bulk run.

Part 1, downloads: 20 concurrent ``client.invoices.download`` of PDFs made N bytes by the sandbox's
``POST /_sandbox/inflate/{id}?bytes=N`` (two sizes, so growth with file size would show).  Rows for
context: the same process with the client opened and nothing downloaded (baseline), and a bare aiohttp
script streaming the same files in 64 KiB chunks.
Part 2, a streamed ``BulkRunner`` run over a lazily generated input of N invoices (two counts), against the
light sandbox (placeholder documents, no latency, no rate limit, processing delay 0-0.05 s): create, wait,
download PDF + XML, journal.  Every figure is the worker subprocess's own peak RSS (``ru_maxrss``).
Target: under 150 MB, not growing with file size or invoice count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from . import _harness as h

TARGET_MB = 150.0


# --------------------------------------------------------------------------------------------- workers
async def _download(mode: str, origin: str, api_key: str, ids: list[str], out: Path) -> dict[str, Any]:
    total = 0
    if mode in ("ours", "baseline"):
        from faktoora_async import FaktooraClient

        async with FaktooraClient(api_key, base_url=origin + "/api/v1", max_connections=32) as client:
            if mode == "ours":
                results = await asyncio.gather(
                    *(
                        client.invoices.download(fid, format="pdf", to=out / f"{i}.pdf")
                        for i, fid in enumerate(ids)
                    )
                )
                total = sum(int(getattr(r, "size", 0)) for r in results)
    elif mode == "aiohttp-stream":
        import aiohttp

        async with aiohttp.ClientSession(headers={"X-API-KEY": api_key}) as session:

            async def one(i: int, fid: str) -> int:
                n = 0
                url = f"{origin}/api/v1/invoices/{fid}"
                async with session.get(url, headers={"Accept": "application/pdf"}) as resp:
                    resp.raise_for_status()
                    with open(out / f"{i}.pdf", "wb") as f:  # noqa: ASYNC230 (typical script)
                        async for chunk in resp.content.iter_chunked(64 * 1024):
                            f.write(chunk)
                            n += len(chunk)
                return n

            total = sum(await asyncio.gather(*(one(i, fid) for i, fid in enumerate(ids))))
    else:
        raise SystemExit(f"unknown mode {mode}")
    return {"bytes": total}


async def _bulk(origin: str, api_key: str, n: int, out: Path) -> dict[str, Any]:
    from faktoora_async import FaktooraClient
    from faktoora_async.bulk import BulkRunner
    from faktoora_async.einvoice.generate import generate_invoices

    async with FaktooraClient(api_key, base_url=origin + "/api/v1", max_connections=32) as client:
        runner = BulkRunner(
            client, journal=out / "journal.sqlite", out_dir=out / "files", concurrency=32, wait_timeout=600
        )
        report = await runner.run(generate_invoices(n, seed=4, number_prefix="B4"))
    journal = out / "journal.sqlite"
    return {
        "done": int(report.counts.get("done", 0)),
        "journal_mb": journal.stat().st_size / 2**20 if journal.exists() else None,
    }


def worker(args: list[str]) -> dict[str, Any]:
    kind = args[0]
    t0 = time.perf_counter()
    cpu = h.CpuMark()
    if kind == "download":
        mode, origin, key, ids_json, out = args[1:6]
        Path(out).mkdir(parents=True, exist_ok=True)
        res = asyncio.run(_download(mode, origin, key, json.loads(ids_json), Path(out)))
    else:
        origin, key, n, out = args[1:5]
        res = asyncio.run(_bulk(origin, key, int(n), Path(out)))
    res.update(wall_s=time.perf_counter() - t0, cpu_s=cpu.seconds(), peak_rss_mb=h.peak_rss_mb())
    return res


# --------------------------------------------------------------------------------------------- driver
def _post(sb: h.Sandbox, path: str, body: Any) -> Any:
    req = urllib.request.Request(sb.base_url + path, data=json.dumps(body).encode(), method="POST")
    req.add_header("X-API-KEY", sb.api_key)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def _ready(sb: h.Sandbox, fid: str) -> bool:
    req = urllib.request.Request(f"{sb.origin}/api/v2/invoices/{fid}/status")
    req.add_header("X-API-KEY", sb.api_key)
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read()).get("invoiceStatus") is not None


def _prepare_downloads(sb: h.Sandbox, count: int, size: int, tag: str) -> list[str]:
    from faktoora_async.einvoice.generate import generate_invoices

    invs = list(generate_invoices(count, seed=5, number_prefix=f"B4{tag}"))
    ids = [str(x["faktooraId"]) for x in _post(sb, "/invoices", {"invoices": invs})]
    deadline = time.monotonic() + 120
    pending = list(ids)
    while pending and time.monotonic() < deadline:
        pending = [fid for fid in pending if not _ready(sb, fid)]
        if pending:
            time.sleep(0.2)
    for fid in ids:
        sb.inflate(fid, size)
    return ids


def run(
    *, smoke: bool = False, repeats: int | None = None, bulk_counts: tuple[int, ...] | None = None
) -> tuple[str, bool]:
    repeats = repeats or (1 if smoke else 3)
    sizes = (1 * 2**20, 2 * 2**20) if smoke else (10 * 2**20, 100 * 2**20)
    counts = bulk_counts or ((50, 150) if smoke else (10_000, 100_000))
    concurrent = 20
    ok = True
    errors: list[str] = []
    started = h.utc_now()
    load_before = h.machine_line()
    dl: dict[tuple[str, int], list[dict[str, Any]]] = {}
    modes = ("baseline", "ours", "aiohttp-stream")
    with tempfile.TemporaryDirectory(prefix="bench-b4-") as tmp_name:
        tmp = Path(tmp_name)
        with h.Sandbox(h.SandboxConfig(processing_delay=(0.0, 0.05), light=True)) as sb:
            for size in sizes:
                ids = _prepare_downloads(sb, concurrent, size, f"{size >> 20}M")
                for r in range(repeats):
                    for mode in modes[r % 3 :] + modes[: r % 3]:
                        out = tmp / f"dl-{mode}-{size}-{r}"
                        res = h.run_worker(
                            "b4_memory",
                            ["worker", "download", mode, sb.origin, sb.api_key, json.dumps(ids), str(out)],
                            timeout=900,
                        )
                        shutil.rmtree(out, ignore_errors=True)
                        if not res.ok:
                            ok = False
                            errors.append(f"download {mode} {size}: {res.error}")
                            continue
                        expected = 0 if mode == "baseline" else concurrent * size
                        if res.result.get("bytes") != expected:
                            errors.append(f"download {mode} {size}: got {res.result.get('bytes')} bytes")
                        dl.setdefault((mode, size), []).append(res.result)
        bulk: dict[int, dict[str, Any]] = {}
        for count in counts:
            with h.Sandbox(h.SandboxConfig(processing_delay=(0.0, 0.05), light=True)) as sb:
                out = tmp / f"bulk-{count}"
                res = h.run_worker(
                    "b4_memory",
                    ["worker", "bulk", sb.origin, sb.api_key, str(count), str(out)],
                    timeout=300 if smoke else 3600,
                )
                stored = sb.stats().get("invoicesStored")
                shutil.rmtree(out, ignore_errors=True)
            if not res.ok:
                ok = False
                errors.append(f"bulk {count}: {res.error}")
                continue
            res.result["stored"] = stored
            bulk[count] = res.result
            print(f"  B4 bulk {count}: {res.result}", file=sys.stderr, flush=True)
    labels = {
        "baseline": "baseline: client opened, nothing downloaded",
        "ours": "ours: client.invoices.download",
        "aiohttp-stream": "bare aiohttp, 64 KiB chunks to disk (context)",
    }
    rows = []
    for mode in modes:
        row: list[Any] = [labels[mode]]
        for size in sizes:
            runs = dl.get((mode, size), [])
            row.append(h.median([x["peak_rss_mb"] for x in runs]) if runs else None)
            row.append(h.median([x["wall_s"] for x in runs]) if runs else None)
        rows.append(row)
    headers = ["20 concurrent downloads"]
    for size in sizes:
        headers += [f"peak RSS MB, {size >> 20} MB files", f"wall s, {size >> 20} MB files"]
    brows = []
    for count, result in bulk.items():
        brows.append(
            [
                f"{count:,}",
                result.get("done"),
                result.get("stored"),
                result["peak_rss_mb"],
                result["wall_s"],
                result["cpu_s"],
                result.get("journal_mb"),
            ]
        )
    lines = [
        f"### B4 memory (peak RSS of the client process), downloads median of {repeats} run(s)",
        "",
        f"Started {started}; {load_before}. Sandbox: light documents, inflated PDFs.",
        "",
        h.markdown_table(headers, rows),
        "",
        "Streamed BulkRunner run (create, wait, download PDF + XML, journal), input generated lazily, "
        "one run per count:",
        "",
        h.markdown_table(
            ["invoices", "done", "stored on server", "peak RSS MB", "wall s", "client CPU s", "journal MB"],
            brows,
        ),
        "",
    ]
    ours_peaks = [h.median([x["peak_rss_mb"] for x in dl[("ours", s)]]) for s in sizes if ("ours", s) in dl]
    bulk_peaks = [result["peak_rss_mb"] for result in bulk.values()]
    if ours_peaks:
        verdict = "met" if max(ours_peaks) < TARGET_MB else "NOT met"
        lines.append(
            f"Target < {TARGET_MB:.0f} MB, downloads: ours {' / '.join(f'{p:.0f}' for p in ours_peaks)} MB "
            f"({', '.join(f'{s >> 20} MB' for s in sizes)} files), {verdict}."
        )
    if bulk_peaks:
        verdict = "met" if max(bulk_peaks) < TARGET_MB else "NOT met"
        lines.append(
            f"Target < {TARGET_MB:.0f} MB, bulk run: {' / '.join(f'{p:.0f}' for p in bulk_peaks)} MB "
            f"({', '.join(f'{c:,}' for c in bulk)} invoices), {verdict}."
        )
    lines.append("")
    if errors:
        lines.append("Errors: " + "; ".join(errors))
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "worker":
        h.emit_result(worker(argv[1:]))
        return 0
    p = argparse.ArgumentParser(prog="python -m benchmarks.b4_memory")
    sub = p.add_subparsers(dest="cmd")
    r = sub.add_parser("run")
    r.add_argument("--smoke", action="store_true")
    r.add_argument("--repeats", type=int)
    r.add_argument("--bulk-counts", default="", help="comma-separated invoice counts, e.g. 10000,100000")
    args = p.parse_args(argv)
    counts = tuple(int(x) for x in (getattr(args, "bulk_counts", "") or "").split(",") if x) or None
    text, ok = run(
        smoke=getattr(args, "smoke", False), repeats=getattr(args, "repeats", None), bulk_counts=counts
    )
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
