"""B3 (de)serialisation: decode + encode 10,000 invoice payloads (20 lines) and 10,000 status objects.

Contestants: our msgspec structs (the SDK's own decoder/encoder from ``faktoora_async.protocol``), pydantic v2
models, ``dataclasses`` + ``json``.  (A hand-written ``gc=False`` msgspec reference that showed why the
models were slow was dropped once the SDK's models themselves took ``gc=False``.)
Pattern: decode every document into a list (as a batch run holds its invoices), then encode every object.
The cyclic garbage collector stays on (Python's default), so the cost of keeping many tracked objects alive
is part of the measurement.  Each (contestant, repeat) runs in a fresh subprocess, contestants alternating.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from . import _harness as h

CONTESTANTS = ("ours", "pydantic", "dataclasses")
LABELS = {
    "ours": "ours: faktoora_async.models (msgspec)",
    "pydantic": "pydantic v2 models",
    "dataclasses": "dataclasses + json",
}


# --------------------------------------------------------------------------------------------- documents
def make_status(rng: random.Random, i: int) -> dict[str, Any]:
    kind = rng.random()
    if kind < 0.3:
        return {"invoiceStatus": None, "jobStatus": rng.choice(("queued", "processing")), "authority": []}
    status: dict[str, Any] = {
        "invoiceStatus": rng.choice(("created", "sent", "draft", "review")),
        "jobStatus": None,
        "authority": [],
        "delivery": [],
    }
    if rng.random() < 0.5:
        status["delivery"] = [
            {
                "type": "email",
                "recipient": f"rechnung{i}@example.de",
                "carbonCopy": None,
                "blindCarbonCopy": None,
            }
        ]
    if rng.random() < 0.5:
        status["validation"] = {
            "status": rng.choice(("processing", "success", "error")),
            "validity": rng.choice((True, False, None)),
            "createdAt": f"2026-03-{rng.randrange(1, 29):02d}T12:{rng.randrange(60):02d}:56Z",
        }
    return status


def write_documents(folder: Path, n: int) -> tuple[Path, Path]:
    from faktoora_async.einvoice.generate import generate_invoices

    inv_path = folder / f"invoices-{n}.jsonl"
    st_path = folder / f"statuses-{n}.jsonl"
    with inv_path.open("w", encoding="utf-8") as f:
        # terms=False: the shape every contestant models (the pydantic and dataclass models predate the
        # issue-13 terms and would ignore them while ours decodes them: not the same work)
        for inv in generate_invoices(n, seed=3, lines=20, terms=False):
            f.write(json.dumps(inv, ensure_ascii=False, separators=(",", ":")) + "\n")
    rng = random.Random(3)
    with st_path.open("w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps(make_status(rng, i), separators=(",", ":")) + "\n")
    return inv_path, st_path


# --------------------------------------------------------------------------------------------- contestants
Codec = tuple[Callable[[bytes], Any], Callable[[Any], bytes]]


def codecs(contestant: str, kind: str) -> Codec:
    if contestant == "ours":
        from faktoora_async import protocol
        from faktoora_async.models import Invoice, InvoiceStatus

        tp = Invoice if kind == "invoice" else InvoiceStatus
        dec = protocol.decoder_for(tp).decode
        return dec, protocol.encode_body
    if contestant == "pydantic":
        from . import _pydantic_models as pm

        if kind == "invoice":
            return pm.decode_invoice, pm.encode_invoice
        return pm.decode_status, pm.encode_status
    if contestant == "dataclasses":
        from . import _dataclass_models as dm

        if kind == "invoice":
            return dm.decode_invoice, dm.encode_invoice
        return dm.decode_status, dm.encode_status
    raise SystemExit(f"unknown contestant {contestant}")


def checksum(raw_docs: list[bytes]) -> str:
    """Exact sum of quantity x price over every line (or a status digest): proves same work, same result."""
    total = Decimal(0)
    count = 0
    for raw in raw_docs:
        d = json.loads(raw)
        if "invoiceItems" in d:
            for item in d["invoiceItems"]:
                p = item["product"]
                total += Decimal(str(p["quantity"])) * Decimal(str(p["price"]))
        else:
            count += len(d.get("delivery") or ()) + (1 if d.get("validation") else 0)
            count += 1 if d.get("invoiceStatus") else 0
    return f"{total}/{count}"


def worker(contestant: str, docs_path: Path, kind: str) -> dict[str, Any]:
    docs = [line.rstrip(b"\n") for line in docs_path.read_bytes().splitlines() if line.strip()]
    decode, encode = codecs(contestant, kind)
    for raw in docs[:200]:  # warm-up: imports, lazy decoder construction, caches
        encode(decode(raw))
    gc.collect()
    t0 = time.perf_counter()
    objs = [decode(raw) for raw in docs]
    t1 = time.perf_counter()
    out = [encode(o) for o in objs]
    t2 = time.perf_counter()
    return {
        "contestant": contestant,
        "kind": kind,
        "n": len(docs),
        "decode_s": t1 - t0,
        "encode_s": t2 - t1,
        "checksum_in": checksum(docs),
        "checksum_out": checksum(out),
        "bytes_out": sum(map(len, out)),
    }


# --------------------------------------------------------------------------------------------- driver
def run(*, smoke: bool = False, n: int | None = None, repeats: int | None = None) -> tuple[str, bool]:
    n = n or (200 if smoke else 10_000)
    repeats = repeats or (1 if smoke else 5)
    ok = True
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    errors: list[str] = []
    started = h.utc_now()
    load_before = h.machine_line()
    with tempfile.TemporaryDirectory(prefix="bench-b3-") as tmp:
        inv_path, st_path = write_documents(Path(tmp), n)
        for r in range(repeats):
            order = CONTESTANTS[r % len(CONTESTANTS) :] + CONTESTANTS[: r % len(CONTESTANTS)]
            for kind, path in (("invoice", inv_path), ("status", st_path)):
                for c in order:
                    outcome = h.run_worker(
                        "b3_serde", ["worker", c, str(path), kind], timeout=120 if smoke else 600
                    )
                    if not outcome.ok:
                        ok = False
                        errors.append(f"{c}/{kind}: {outcome.error}")
                        continue
                    results.setdefault((c, kind), []).append(outcome.result)
    lines = [
        f"### B3 (de)serialisation: {n:,} documents each, median of {repeats} run(s)",
        "",
        f"Started {started}; {load_before}.",
        "",
    ]
    for kind, title in (
        ("invoice", "invoice payloads, 20 lines, Decimal money"),
        ("status", "status objects"),
    ):
        rows = []
        ours_total = None
        summary: dict[str, tuple[float, float, float, str]] = {}
        for c in CONTESTANTS:
            runs = results.get((c, kind), [])
            if not runs:
                continue
            dec = h.median([x["decode_s"] for x in runs])
            enc = h.median([x["encode_s"] for x in runs])
            tot = h.median([x["decode_s"] + x["encode_s"] for x in runs])
            exact = all(x["checksum_in"] == x["checksum_out"] for x in runs)
            summary[c] = (dec, enc, tot, "yes" if exact else "NO")
            if c == "ours":
                ours_total = tot
            if not exact:
                ok = False
                errors.append(f"{c}/{kind}: round trip changed the data ({runs[0]['checksum_out']})")
        for c, (dec, enc, tot, same) in summary.items():
            rows.append(
                [
                    LABELS[c],
                    dec / n * 1e6,
                    enc / n * 1e6,
                    tot * 1e3,
                    h.ratio(tot, ours_total),
                    same,
                ]
            )
        lines.append(f"**{title}**")
        lines.append("")
        lines.append(
            h.markdown_table(
                [
                    "contestant",
                    "decode µs/doc",
                    "encode µs/doc",
                    "decode+encode total ms",
                    "time vs ours (ours is Nx faster)",
                    "round trip exact",
                ],
                rows,
            )
        )
        lines.append("")
        if "pydantic" in summary and ours_total:
            speed = summary["pydantic"][2] / ours_total
            target = "met" if speed >= 4 else "NOT met"
            lines.append(f"Target >= 4x vs pydantic v2 ({kind}): {speed:.2f}x, {target}.")
            lines.append("")
    if errors:
        lines.append("Errors: " + "; ".join(errors))
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.b3_serde")
    sub = p.add_subparsers(dest="cmd")
    w = sub.add_parser("worker")
    w.add_argument("contestant")
    w.add_argument("docs", type=Path)
    w.add_argument("kind", choices=("invoice", "status"))
    r = sub.add_parser("run")
    r.add_argument("--smoke", action="store_true")
    r.add_argument("-n", type=int)
    r.add_argument("--repeats", type=int)
    args = p.parse_args(argv)
    if args.cmd == "worker":
        h.emit_result(worker(args.contestant, args.docs, args.kind))
        return 0
    text, ok = run(
        smoke=getattr(args, "smoke", False),
        n=getattr(args, "n", None),
        repeats=getattr(args, "repeats", None),
    )
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
