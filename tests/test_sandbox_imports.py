"""Contract tests of ``/import/outgoing`` with raw HTTP against the sandbox, using real sample files."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

CII_WITH_ATTACHMENT = (
    "itplr-kosit+xrechnung-testsuite/src/test/business-cases/standard/01.15a-INVOICE_uncefact.xml"
)
UBL = "itplr-kosit+xrechnung-testsuite/src/test/business-cases/standard/01.01a-INVOICE_ubl.xml"
FACTURX_PDF = "ZUGFeRD+corpus/XML-Rechnung/FX/EN16931_Einfach.pdf"
BROKEN_PDF = "ZUGFeRD+corpus/ZUGFeRDv2/fail/Mustangproject/factur-x-invalid-xml-encoding-attribute.pdf"
REJECTED_CII = "ZUGFeRD+mustangproject/validator/src/test/resources/invalidXRV30.xml"


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(max_upload_bytes=400_000) as sandbox:
        yield sandbox


@pytest.fixture
async def session(sb: Sandbox) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=sb.root_url, headers={"X-API-KEY": sb.api_key}) as s:
        yield s


async def upload(
    session: aiohttp.ClientSession, data: bytes, filename: str, field: str = "file"
) -> tuple[int, Any]:
    form = aiohttp.FormData()
    form.add_field(field, io.BytesIO(data), filename=filename, content_type="application/octet-stream")
    async with session.post("/api/v1/import/outgoing", data=form) as resp:
        return resp.status, await resp.json()


async def get(session: aiohttp.ClientSession, path: str) -> tuple[int, Any, str]:
    async with session.get("/api/v1/import/outgoing" + path) as resp:
        raw = await resp.read()
        if resp.content_type == "application/json":
            return resp.status, await resp.json(), resp.content_type
        return resp.status, raw, resp.content_type


async def wait_done(session: aiohttp.ClientSession, fid: str) -> dict[str, Any]:
    for _ in range(1000):
        status, body, _ = await get(session, f"/{fid}/status")
        assert status == 200
        if body["overallStatus"] != "pending":
            return dict(body)
        await asyncio.sleep(0.01)
    raise AssertionError("import never finished")


async def test_import_cii_with_attachment_every_route(
    session: aiohttp.ClientSession, samples_dir: Path, sb: Sandbox
) -> None:
    data = (samples_dir / CII_WITH_ATTACHMENT).read_bytes()
    status, body = await upload(session, data, "invoice.xml")
    assert status == 202 and set(body) == {"faktooraId"}
    fid = body["faktooraId"]
    status, st, _ = await get(session, f"/{fid}/status")
    assert status == 200 and set(st) == {"validationStatus", "visualizationStatus", "overallStatus"}
    assert all(v in ("pending", "accepted", "failed") for v in st.values())
    done = await wait_done(session, fid)
    assert done == {
        "validationStatus": "accepted",
        "visualizationStatus": "accepted",
        "overallStatus": "accepted",
    }

    status, content, _ = await get(session, f"/{fid}/content")
    assert status == 200 and content["invoiceNumber"] == "0000123456"
    for segment, key in (
        ("lineitems", "lineItems"),
        ("taxes", "taxes"),
        ("paymentterms", "paymentTerms"),
        ("paymentmeans", "paymentMeans"),
        ("seller", "seller"),
        ("buyer", "buyer"),
        ("delivery", "delivery"),
    ):
        status, part, ctype = await get(session, f"/{fid}/content/{segment}")
        assert status == 200 and ctype == "application/json", segment
        assert part == content[key], segment
    status, lines, _ = await get(session, f"/{fid}/content/lineitems")
    assert len(lines) == 4 and {"lineId", "netAmount", "vatCategory"} <= set(lines[0])
    status, summary, _ = await get(session, f"/{fid}/content/summary")
    assert status == 200 and summary["invoiceNumber"] == "0000123456" and summary["grandTotal"] == "10686.20"

    status, pdf, ctype = await get(session, f"/{fid}/content/pdf")
    assert status == 200 and ctype == "application/pdf" and pdf.startswith(b"%PDF")
    status, source, ctype = await get(session, f"/{fid}/source")
    assert status == 200 and ctype == "application/xml" and source == data
    status, verdict, _ = await get(session, f"/{fid}/validation")
    assert status == 200 and verdict == {"status": "accepted"}
    status, report, ctype = await get(session, f"/{fid}/validation/pdf")
    assert status == 200 and ctype == "application/pdf" and report.startswith(b"%PDF")

    status, atts, _ = await get(session, f"/{fid}/attachments")
    assert status == 200
    assert atts["meta"] == {"page": 1, "perPage": 25, "total": 1, "totalPages": 1}
    (att,) = atts["data"]
    assert att == {
        "id": att["id"],
        "filename": "01_15_Anhang_01.pdf",
        "mimeType": "application/pdf",
        "description": att["description"],
        "size": 150128,
    }
    status, meta, _ = await get(session, f"/{fid}/attachment/{att['id']}")
    assert status == 200 and meta == att
    status, blob, ctype = await get(session, f"/{fid}/attachment/{att['id']}/file")
    assert status == 200 and ctype == "application/octet-stream" and len(blob) == 150128
    assert blob.startswith(b"%PDF")
    status, body, _ = await get(session, f"/{fid}/attachment/nope/file")
    assert status == 404 and body["statusCode"] == 404
    status, body, _ = await get(session, f"/{fid}/attachments?page=2")
    assert status == 200 and body["data"] == []

    status, listing, _ = await get(session, "")
    assert status == 200 and listing["meta"]["total"] == 1
    item = listing["data"][0]
    assert (
        item["faktooraId"] == fid
        and item["invoiceNumber"] == "0000123456"
        and item["overallStatus"] == "accepted"
    )
    assert sb.stats()["importsStored"] == 1


async def test_import_pdf_source_prefers_xml_and_ubl(
    session: aiohttp.ClientSession, samples_dir: Path
) -> None:
    pdf = (samples_dir / FACTURX_PDF).read_bytes()
    status, body = await upload(session, pdf, "facturx.pdf")
    assert status == 202
    fid = body["faktooraId"]
    status, source, ctype = await get(session, f"/{fid}/source")
    assert status == 200 and ctype == "application/xml" and source.lstrip().startswith(b"<")
    status, summary, _ = await get(session, f"/{fid}/content/summary")
    assert summary["invoiceNumber"] == "471102"
    status, atts, _ = await get(session, f"/{fid}/attachments")
    assert atts["data"] == [] and atts["meta"]["total"] == 0

    ubl = (samples_dir / UBL).read_bytes()
    status, body = await upload(session, ubl, "ubl.xml")
    assert status == 202
    status, content, _ = await get(session, f"/{body['faktooraId']}/content/seller")
    assert status == 200 and content["name"]


async def test_rejected_invoice_is_failed_and_rejected(
    session: aiohttp.ClientSession, samples_dir: Path
) -> None:
    data = (samples_dir / REJECTED_CII).read_bytes()
    status, body = await upload(session, data, "bad.xml")
    assert status == 202
    fid = body["faktooraId"]
    done = await wait_done(session, fid)
    assert done["validationStatus"] == "failed" and done["overallStatus"] == "failed"
    status, verdict, _ = await get(session, f"/{fid}/validation")
    assert verdict == {"status": "rejected"}


async def test_unreadable_files_are_400_and_store_nothing(
    session: aiohttp.ClientSession, samples_dir: Path, sb: Sandbox
) -> None:
    broken = (samples_dir / BROKEN_PDF).read_bytes()
    for data, name in (
        (broken, "broken.pdf"),
        (b"hello world", "a.txt"),
        (b"<html><body>no</body></html>", "a.xml"),
        (b"%PDF-1.4 nonsense", "x.pdf"),
        (b"", "empty.xml"),
    ):
        status, body = await upload(session, data, name)
        assert status == 400, name
        assert body["code"] == "UNSUPPORTED_FILE" and body["statusCode"] == 400
    # missing field, wrong content type, too large
    status, body = await upload(session, b"<x/>", "a.xml", field="document")
    assert status == 400 and body["statusCode"] == 400
    async with session.post("/api/v1/import/outgoing", json={"file": "x"}) as resp:
        assert resp.status == 415
    big = (samples_dir / CII_WITH_ATTACHMENT).read_bytes() * 3
    status, body = await upload(session, big, "big.xml")
    assert status == 413 and body["statusCode"] == 413
    status, listing, _ = await get(session, "")
    assert listing["meta"]["total"] == 0
    assert sb.stats()["importsStored"] == 0


async def test_unknown_import_ids_are_404(session: aiohttp.ClientSession) -> None:
    for path in ("/FNOPE0000/content", "/FNOPE0000/status", "/bad id/source", "/FNOPE0000/attachment/1"):
        status, body, _ = await get(session, path)
        assert status == 404, path
        assert body["statusCode"] == 404
    status, body, _ = await get(session, "?page=0")
    assert status == 400
