"""``client.imports`` against the sandbox with real public e-invoices from ../shared/samples."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import anyio
import pytest

from faktoora_async import BadRequestError, FaktooraClient, NotFoundError
from faktoora_async.models import ImportStatus
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

TESTSUITE = "itplr-kosit+xrechnung-testsuite/src/test/business-cases/standard"
CII_WITH_ATTACHMENT = f"{TESTSUITE}/01.15a-INVOICE_uncefact.xml"
UBL_WITH_ATTACHMENT = f"{TESTSUITE}/01.15a-INVOICE_ubl.xml"
CII_PLAIN = f"{TESTSUITE}/01.01a-INVOICE_uncefact.xml"
FACTURX_PDF = "ZUGFeRD+corpus/XML-Rechnung/FX/XRECHNUNG_Einfach.pdf"


@pytest.fixture
async def client() -> AsyncIterator[tuple[Sandbox, FaktooraClient]]:
    async with Sandbox() as sb, FaktooraClient(sb.api_key, base_url=sb.base_url) as c:
        yield sb, c


async def settled(c: FaktooraClient, fid: str) -> ImportStatus:
    for _ in range(400):
        status = await c.imports.status(fid)
        if status.overall_status != "pending":
            return status
        await anyio.sleep(0.025)
    raise AssertionError("import did not settle")


async def test_upload_path_and_read_every_content_part(
    client: tuple[Sandbox, FaktooraClient], samples_dir: Path, tmp_path: Path
) -> None:
    _, c = client
    created = await c.imports.upload(samples_dir / CII_WITH_ATTACHMENT)
    fid = created.faktoora_id
    assert fid.startswith("F")
    status = await settled(c, fid)
    assert status.validation_status in {"accepted", "failed"} and status.visualization_status

    content = await c.imports.content(fid)
    assert content.invoice_number and content.issue_date is not None
    assert content.seller is not None and content.seller.name
    assert content.line_items and all(isinstance(li.net_amount, Decimal) for li in content.line_items)
    assert content.totals is not None and content.totals.grand_total is not None

    summary = await c.imports.summary(fid)
    assert summary.invoice_number == content.invoice_number
    assert summary.grand_total == content.totals.grand_total
    assert await c.imports.line_items(fid) == content.line_items
    assert await c.imports.taxes(fid) == content.taxes
    assert await c.imports.payment_terms(fid) == content.payment_terms
    assert await c.imports.payment_means(fid) == content.payment_means
    assert await c.imports.seller(fid) == content.seller
    assert await c.imports.buyer(fid) == content.buyer
    assert await c.imports.delivery(fid) == content.delivery

    source = await c.imports.source(fid)
    assert source == (samples_dir / CII_WITH_ATTACHMENT).read_bytes()
    saved = await c.imports.source(fid, to=tmp_path)
    assert saved.path.suffix == ".xml" and saved.path.read_bytes() == source
    pdf = await c.imports.pdf(fid)
    assert pdf.startswith(b"%PDF")
    verdict = await c.imports.validation(fid)
    assert verdict.status in {"accepted", "rejected"}
    report = await c.imports.validation_pdf(fid, to=tmp_path / "report.pdf")
    assert report.path.read_bytes().startswith(b"%PDF")

    attachments = [a async for a in c.imports.attachments(fid, per_page=1)]
    assert attachments, "01.15a embeds an attachment"
    first = attachments[0]
    assert await c.imports.attachment(fid, first.id) == first
    data = await c.imports.attachment_file(fid, first.id)
    assert len(data) == first.size
    stored = await c.imports.attachment_file(fid, first.id, to=tmp_path)
    assert stored.path.read_bytes() == data and stored.path.parent.name == tmp_path.name
    with pytest.raises(NotFoundError):
        await c.imports.attachment(fid, "999")


async def test_upload_bytes_and_file_objects_and_list_pages(
    client: tuple[Sandbox, FaktooraClient], samples_dir: Path
) -> None:
    sb, c = client
    ids = [(await c.imports.upload((samples_dir / CII_PLAIN).read_bytes())).faktoora_id]
    with (samples_dir / UBL_WITH_ATTACHMENT).open("rb") as fh:
        ids.append((await c.imports.upload(fh)).faktoora_id)
        assert not fh.closed  # a caller's file object stays open
    with (samples_dir / FACTURX_PDF).open("rb") as fh:
        ids.append((await c.imports.upload(fh, filename="facturx.pdf")).faktoora_id)
    ids.append((await c.imports.upload(samples_dir / CII_WITH_ATTACHMENT)).faktoora_id)
    listed = [item async for item in c.imports.list(per_page=1)]
    assert [i.faktoora_id for i in listed] == ids
    assert sum(sb.stats()["requests"]["GET /api/v1/import/outgoing"].values()) == 4
    pages = [p async for p in c.imports.list(per_page=3).pages()]
    assert [len(p) for p in pages] == [3, 1]
    pdf_import = ids[2]
    await settled(c, pdf_import)
    content = await c.imports.content(pdf_import)
    assert content.invoice_number


async def test_unreadable_upload_is_bad_request_and_stores_nothing(
    client: tuple[Sandbox, FaktooraClient],
) -> None:
    sb, c = client
    with pytest.raises(BadRequestError) as info:
        await c.imports.upload(b"this is not an invoice", filename="x.xml")
    assert info.value.code == "UNSUPPORTED_FILE"
    assert sb.stats()["importsStored"] == 0
    with pytest.raises(NotFoundError):
        await c.imports.status("FNOSUCH1")
    with pytest.raises(FileNotFoundError):
        await c.imports.upload(Path("/nonexistent/invoice.xml"))
