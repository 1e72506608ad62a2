"""Import an existing e-invoice (XRechnung XML, CII or UBL, or a ZUGFeRD/Factur-X PDF) and inspect it.

faktoora reads the file, validates it and exposes its content as structured parts (seller, buyer, line
items, taxes, payment terms, payment means, totals)::

    python examples/import_and_inspect.py path/to/invoice.xml
    FAKTOORA_API_KEY=... FAKTOORA_BASE_URL=... python examples/import_and_inspect.py invoice.pdf

Without a path the script renders a generated XRechnung (CII) into a temporary file and imports that.
Without ``FAKTOORA_BASE_URL``/``FAKTOORA_API_KEY`` it runs against an embedded sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from faktoora_async import FaktooraClient
from faktoora_async.errors import ConfigurationError, FaktooraError


@contextlib.asynccontextmanager
async def connect() -> AsyncIterator[FaktooraClient]:
    """A client for FAKTOORA_BASE_URL/FAKTOORA_API_KEY, or for an embedded sandbox when they are unset."""
    base_url, api_key = os.environ.get("FAKTOORA_BASE_URL"), os.environ.get("FAKTOORA_API_KEY")
    async with contextlib.AsyncExitStack() as stack:
        if not base_url or not api_key:
            from faktoora_async.sandbox import Sandbox

            sandbox = await stack.enter_async_context(Sandbox())
            base_url, api_key = sandbox.base_url, sandbox.api_key
        yield await stack.enter_async_context(FaktooraClient(api_key, base_url=base_url))


def demo_file(folder: Path) -> Path:
    """A real XRechnung 3.0 (CII) file rendered from a generated invoice."""
    from faktoora_async.einvoice.generate import generate_invoice
    from faktoora_async.einvoice.render import render_xml

    invoice = generate_invoice(7, seed=2026)
    invoice["format"] = "xrechnung"
    xml, _syntax = render_xml(invoice)
    path = folder / "demo-xrechnung.xml"
    path.write_bytes(xml)
    return path


async def inspect(client: FaktooraClient, path: Path) -> int:
    created = await client.imports.upload(path)
    fid = created.faktoora_id
    print(f"imported {path.name} as {fid}")
    status = await client.imports.status(fid)
    for _ in range(300):  # imports are processed asynchronously (seconds)
        if status.overall_status != "pending":
            break
        await asyncio.sleep(0.2)
        status = await client.imports.status(fid)
    print(
        f"status: overall={status.overall_status} validation={status.validation_status} "
        f"visualization={status.visualization_status}"
    )
    if status.overall_status == "failed":
        validation = await client.imports.validation(fid)
        print(f"validation: {validation.status}")

    summary = await client.imports.summary(fid)
    print(
        f"summary: {summary.invoice_number} ({summary.syntax}), {summary.line_count} lines, "
        f"{summary.seller_name} -> {summary.buyer_name}"
    )
    seller, buyer = await client.imports.seller(fid), await client.imports.buyer(fid)
    print(f"seller: {seller.name if seller else None} ({seller.vat_id if seller else None})")
    print(f"buyer: {buyer.name if buyer else None} ({buyer.country if buyer else None})")
    for item in await client.imports.line_items(fid):
        print(
            f"line {item.line_id}: {item.quantity} {item.unit_code} x {item.net_price} = {item.net_amount} "
            f"[{item.vat_category} {item.vat_rate}%] {item.name}"
        )
    for tax in await client.imports.taxes(fid):
        print(f"tax {tax.category} {tax.rate}%: {tax.tax_amount} on {tax.basis_amount}")
    terms = await client.imports.payment_terms(fid)
    print(f"payment terms: {terms.description if terms else None} (due {terms.due_date if terms else None})")
    for means in await client.imports.payment_means(fid):
        print(f"payment means {means.type_code}: {means.iban or means.information or ''}")
    content = await client.imports.content(fid)
    totals = content.totals
    print(
        f"invoice {content.invoice_number} of {content.issue_date}: "
        f"grand total {totals.grand_total if totals else None} {content.currency}, "
        f"due {totals.due_payable if totals else None}"
    )
    return 0


USAGE = "usage: python examples/import_and_inspect.py [FILE.xml|FILE.pdf]"


def parse_args(argv: list[str]) -> Path | None:
    """The file to import (None: a generated one); bad arguments end the script with one line, exit 2."""
    if argv[:1] in (["-h"], ["--help"]):
        print(USAGE)
        raise SystemExit(0)
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print(USAGE, file=sys.stderr)
        raise SystemExit(2)
    if not argv:
        return None
    path = Path(argv[0])
    if not path.is_file():
        print(f"error: {'not a file' if path.exists() else 'no such file'}: {path}", file=sys.stderr)
        raise SystemExit(2)
    return path


async def main(argv: list[str]) -> int:
    path = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="faktoora-import-") as tmp:
        try:
            async with connect() as client:
                return await inspect(client, path or demo_file(Path(tmp)))
        except ConfigurationError as exc:  # e.g. FAKTOORA_BASE_URL is not an http(s) URL
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except FaktooraError as exc:  # a bad key, a refused file, an unreachable server: one line
            print(f"import failed: {exc}", file=sys.stderr)
            return 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1:])))
