"""``client.incoming`` against the sandbox with real public e-invoices from ../shared/samples: upload
(streamed multipart), list with filters, the record and its PATCH, status, validation, the report, every
content part, the source file and the attachments, with the 400/401/404 paths."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import anyio
import pytest

from faktoora_async import (
    AuthenticationError,
    BadRequestError,
    DownloadResult,
    FaktooraClient,
    FieldValidationError,
    NotFoundError,
)
from faktoora_async.models import ImportStatus, IncomingCreated, IncomingInvoice
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

TESTSUITE = "itplr-kosit+xrechnung-testsuite/src/test/business-cases/standard"
CII_WITH_ATTACHMENT = f"{TESTSUITE}/01.15a-INVOICE_uncefact.xml"
UBL_PLAIN = f"{TESTSUITE}/01.01a-INVOICE_ubl.xml"
FACTURX_PDF = "ZUGFeRD+corpus/XML-Rechnung/FX/XRECHNUNG_Einfach.pdf"
MISSING = "IMP00000000"


@pytest.fixture
async def client() -> AsyncIterator[FaktooraClient]:
    async with Sandbox() as sb, FaktooraClient(sb.api_key, base_url=sb.base_url) as c:
        yield c


async def settled(c: FaktooraClient, import_id: str) -> ImportStatus:
    for _ in range(800):
        status = await c.incoming.status(import_id)
        if status.overall_status != "pending":
            return status
        await anyio.sleep(0.025)
    raise AssertionError("incoming invoice did not settle")


async def test_upload_and_read_every_part(client: FaktooraClient, samples_dir: Path, tmp_path: Path) -> None:
    c = client
    created = await c.incoming.upload(samples_dir / CII_WITH_ATTACHMENT)
    assert isinstance(created, IncomingCreated) and created.import_id.startswith("IMP")
    iid = created.import_id
    status = await settled(c, iid)
    assert status.overall_status in {"accepted", "failed"}
    record = await c.incoming.get(iid)
    assert isinstance(record, IncomingInvoice) and record.import_id == iid
    assert record.invoice_number and record.total_gross is not None and record.status == status.overall_status
    assert record.filename == Path(CII_WITH_ATTACHMENT).name

    validation = await c.incoming.validation(iid)
    assert validation.status in {"accepted", "rejected"}
    report = await c.incoming.validation_pdf(iid)
    assert report.startswith(b"%PDF-")
    stored = await c.incoming.validation_pdf(iid, to=tmp_path)
    assert isinstance(stored, DownloadResult) and stored.path.read_bytes() == report
    assert stored.path.name == f"{iid}-validation.pdf"

    content = await c.incoming.content(iid)
    assert content.invoice_number == record.invoice_number
    summary = await c.incoming.summary(iid)
    assert summary.invoice_number == record.invoice_number
    assert await c.incoming.line_items(iid) == content.line_items and content.line_items
    assert await c.incoming.taxes(iid) == content.taxes
    assert await c.incoming.seller(iid) == content.seller and content.seller is not None
    assert await c.incoming.buyer(iid) == content.buyer
    assert await c.incoming.payment_means(iid) == content.payment_means
    assert await c.incoming.payment_terms(iid) == content.payment_terms
    assert await c.incoming.delivery(iid) == content.delivery
    assert (await c.incoming.pdf(iid)).startswith(b"%PDF-")
    assert await c.incoming.source(iid) == (samples_dir / CII_WITH_ATTACHMENT).read_bytes()
    source = await c.incoming.source(iid, to=tmp_path)
    assert isinstance(source, DownloadResult) and source.path.suffix == ".xml"

    attachments = [a async for a in c.incoming.attachments(iid, per_page=1)]
    assert attachments, "01.15a embeds an attachment"
    first = attachments[0]
    assert await c.incoming.attachment(iid, first.id) == first
    data = await c.incoming.attachment_file(iid, first.id)
    assert isinstance(data, bytes) and data
    with pytest.raises(NotFoundError):
        await c.incoming.attachment(iid, "999")


async def test_upload_sources_pdf_bytes_and_file_objects(client: FaktooraClient, samples_dir: Path) -> None:
    c = client
    pdf = await c.incoming.upload(samples_dir / FACTURX_PDF)
    data = (samples_dir / UBL_PLAIN).read_bytes()
    from_bytes = await c.incoming.upload(data)
    with (samples_dir / UBL_PLAIN).open("rb") as f:
        from_file = await c.incoming.upload(f)
    ids = {pdf.import_id, from_bytes.import_id, from_file.import_id}
    assert len(ids) == 3
    assert (await c.incoming.source(from_file.import_id)) == data
    embedded = await c.incoming.source(pdf.import_id)  # the XML embedded in the Factur-X PDF is preferred
    assert embedded.startswith(b"<?xml") and b"CrossIndustryInvoice" in embedded
    assert {r.import_id async for r in c.incoming.list()} == ids


async def test_list_filters_and_sorting(client: FaktooraClient, samples_dir: Path) -> None:
    c = client
    a = (await c.incoming.upload(samples_dir / CII_WITH_ATTACHMENT)).import_id
    b = (await c.incoming.upload(samples_dir / UBL_PLAIN)).import_id
    await settled(c, a)
    await settled(c, b)
    ra, rb = await c.incoming.get(a), await c.incoming.get(b)
    assert ra.invoice_number and rb.invoice_number
    assert [r.import_id async for r in c.incoming.list(invoice_number=ra.invoice_number)] == [a]
    assert a in {r.import_id async for r in c.incoming.list(keyword=ra.invoice_number)}
    statuses = {ra.status, rb.status}
    assert {r.import_id async for r in c.incoming.list(status=sorted(s for s in statuses if s))} == {a, b}
    await c.incoming.update(a, issue_date=datetime.date(2026, 1, 10))
    await c.incoming.update(b, issue_date=datetime.date(2026, 3, 10))
    jan = [
        r.import_id
        async for r in c.incoming.list(issue_date_from="20260101", issue_date_to=datetime.date(2026, 1, 31))
    ]
    assert jan == [a]
    by_date = [r.import_id async for r in c.incoming.list(sort="issueDate", order="desc")]
    assert by_date == [b, a]
    assert [len(p) async for p in c.incoming.list(per_page=1).pages()] == [1, 1]
    with pytest.raises(ValueError):
        c.incoming.list(sort="colour")


async def test_update_changes_only_the_fields_given(client: FaktooraClient, samples_dir: Path) -> None:
    c = client
    iid = (await c.incoming.upload(samples_dir / UBL_PLAIN)).import_id
    before = await c.incoming.get(iid)
    after = await c.incoming.update(
        iid, note="geprüft", total_gross="99.90", due_date=datetime.date(2026, 2, 1), order_reference="PO-7"
    )
    assert (
        after.note == "geprüft" and after.total_gross == Decimal("99.90") and after.order_reference == "PO-7"
    )
    assert after.due_date == datetime.date(2026, 2, 1) and after.invoice_number == before.invoice_number
    assert after.updated_at is not None
    assert (await c.incoming.get(iid)).total_gross == Decimal("99.90")
    cleared = await c.incoming.update(iid, note=None)
    assert cleared.note is None and cleared.order_reference == "PO-7"


async def test_400_401_404_paths(client: FaktooraClient, samples_dir: Path) -> None:
    c = client
    iid = (await c.incoming.upload(samples_dir / UBL_PLAIN)).import_id
    attempts = c.stats["attempts"]
    for fields, field in [
        ({"status": "accepted"}, "status"),
        ({"import_id": "IMP1"}, "import_id"),
        ({"currency": "euro"}, "currency"),
        ({"total_gross": "a lot"}, "totalGross"),
        ({"colour": "red"}, "colour"),
    ]:
        with pytest.raises(FieldValidationError) as info:  # local: nothing sent
            await c.incoming.update(iid, **fields)
        assert info.value.field == field
    assert c.stats["attempts"] == attempts
    with pytest.raises(BadRequestError) as bad:
        await c.incoming.upload(b"this is not an invoice", filename="notes.txt")
    assert bad.value.code == "UNSUPPORTED_FILE"
    with pytest.raises(BadRequestError) as bad:  # the server's own rule: a VAT id too long for any country
        await c.incoming.update(iid, seller_vat_id="DE" + "1" * 40)
    assert [e.field for e in bad.value.errors] == ["sellerVatId"]
    for call in (
        c.incoming.get(MISSING),
        c.incoming.update(MISSING, note="x"),
        c.incoming.status(MISSING),
        c.incoming.validation(MISSING),
        c.incoming.validation_pdf(MISSING),
        c.incoming.content(MISSING),
        c.incoming.summary(MISSING),
        c.incoming.source(MISSING),
        c.incoming.attachments(MISSING),
    ):
        with pytest.raises(NotFoundError):
            await call
    async with FaktooraClient("sk_test_not_a_key_0000", base_url=c.base_url) as stranger:
        with pytest.raises(AuthenticationError):
            await stranger.incoming.list()
        with pytest.raises(AuthenticationError):
            await stranger.incoming.upload(samples_dir / UBL_PLAIN)
