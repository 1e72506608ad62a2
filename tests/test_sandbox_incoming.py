"""Raw-HTTP tests of the sandbox's incoming invoices (API.md v2): `/import/incoming` and legacy `/import`."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from _sandbox_http import Api, assert_error, invoice

from faktoora_async.einvoice.cii import render_cii
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

IMPORT_ID = re.compile(r"IMP[A-Z0-9]{8}")
CII_WITH_ATTACHMENT = (
    "itplr-kosit+xrechnung-testsuite/src/test/business-cases/standard/01.15a-INVOICE_uncefact.xml"
)
REJECTED_CII = "ZUGFeRD+mustangproject/validator/src/test/resources/invalidXRV30.xml"
RECORD_FIELDS = {
    "importId",
    "invoiceNumber",
    "issueDate",
    "dueDate",
    "sellerName",
    "sellerVatId",
    "currency",
    "totalNet",
    "totalTax",
    "totalGross",
    "buyerReference",
    "orderReference",
    "note",
    "status",
    "filename",
    "createdAt",
    "updatedAt",
}
PREFIXES = ("/import/incoming", "/import")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def api(session: aiohttp.ClientSession, sb: Sandbox) -> Api:
    return Api(session, sb)


def xml_of(number: str, issue: str = "20260115", price: str = "100.00", seller: str = "Muster GmbH") -> bytes:
    body = invoice(number, issueDate=issue)
    body["seller"].update(name=seller, contactName="Erika Mustermann", phone="+49 30 1234567")
    body["invoiceItems"][0]["product"]["price"] = price
    return bytes(render_cii(body))


async def upload(
    api: Api, data: bytes, *, path: str = "/import/incoming", field: str = "file"
) -> tuple[int, Any]:
    form = aiohttp.FormData()
    form.add_field(field, io.BytesIO(data), filename="in.xml", content_type="application/octet-stream")
    status, body, _ = await api.call("POST", path, data=form)
    return status, body


async def received(api: Api, data: bytes, path: str = "/import/incoming") -> str:
    status, body = await upload(api, data, path=path)
    assert status == 202 and set(body) == {"importId"} and IMPORT_ID.fullmatch(body["importId"]), body
    return str(body["importId"])


async def done(api: Api, import_id: str) -> dict[str, Any]:
    for _ in range(2000):
        status, body, _ = await api.call("GET", f"/import/incoming/{import_id}/status")
        assert status == 200, body
        if body["overallStatus"] != "pending":
            return dict(body)
        await asyncio.sleep(0.01)
    raise AssertionError("the incoming import never finished")


async def numbers(api: Api, query: str = "") -> list[str]:
    status, body, _ = await api.call("GET", "/import/incoming" + query)
    assert status == 200, body
    return [r["invoiceNumber"] for r in body["data"]]


def fields_of(body: Any) -> list[str]:
    assert_error(body, 400, "BAD_REQUEST")
    return [e["field"] for e in body["errors"]]


# --- upload and the record -----------------------------------------------------------------------------
@pytest.mark.parametrize("path", PREFIXES)
async def test_upload_answers_202_with_an_import_id_and_the_record_follows(api: Api, path: str) -> None:
    import_id = await received(api, xml_of("IN-1"), path)
    assert (await done(api, import_id))["overallStatus"] == "accepted"
    for prefix in PREFIXES:
        status, record, _ = await api.call("GET", f"{prefix}/{import_id}")
        assert status == 200 and set(record) == RECORD_FIELDS
        assert record["importId"] == import_id and record["invoiceNumber"] == "IN-1"
        assert record["issueDate"] == "20260115" and record["sellerName"] == "Muster GmbH"
        assert record["totalGross"] == "238.00" and record["currency"] == "EUR"
        assert record["status"] == "accepted" and record["createdAt"] == record["updatedAt"]
    assert (await api.call("GET", "/import/outgoing"))[1]["meta"]["total"] == 0  # not an outgoing import


async def test_upload_400_415_and_nothing_is_stored(api: Api) -> None:
    status, body = await upload(api, b"this is not an invoice")
    assert status == 400
    assert_error(body, 400, "UNSUPPORTED_FILE")
    status, body = await upload(api, xml_of("IN-1"), field="document")
    assert status == 400 and fields_of(body) == ["file"]
    status, body, _ = await api.call("POST", "/import", json={"file": "x"})
    assert status == 415
    assert await numbers(api) == []


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_unknown_import_id_is_404_on_every_route(api: Api, prefix: str) -> None:
    outgoing = (await api.call("POST", "/import/outgoing", data=_form(xml_of("OUT-1"))))[1]["faktooraId"]
    tails = [
        "",
        "/content",
        "/content/summary",
        "/content/lineitems",
        "/content/taxes",
        "/content/paymentterms",
        "/content/paymentmeans",
        "/content/seller",
        "/content/buyer",
        "/content/delivery",
        "/content/pdf",
        "/source",
        "/validation",
        "/validation/pdf",
        "/status",
        "/attachments",
        "/attachment/1",
        "/attachment/1/file",
    ]
    for import_id in ("IMPNOSUCH01", "nope", outgoing):
        for tail in tails:
            status, body, _ = await api.call("GET", f"{prefix}/{import_id}{tail}")
            assert status == 404, (import_id, tail, body)
            assert_error(body, 404, "NOT_FOUND")
        status, body, _ = await api.call("PATCH", f"{prefix}/{import_id}", json={"note": "x"})
        assert status == 404


def _form(data: bytes) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", io.BytesIO(data), filename="x.xml")
    return form


async def test_an_incoming_import_is_not_an_outgoing_one(api: Api) -> None:
    import_id = await received(api, xml_of("IN-1"))
    status, _, _ = await api.call("GET", f"/import/outgoing/{import_id}/content")
    assert status == 404


# --- the per-import routes, on both prefixes ----------------------------------------------------------
async def test_every_per_import_route_answers_the_same_on_both_prefixes(api: Api, samples_dir: Path) -> None:
    data = (samples_dir / CII_WITH_ATTACHMENT).read_bytes()
    import_id = await received(api, data, "/import")
    assert await done(api, import_id) == {
        "validationStatus": "accepted",
        "visualizationStatus": "accepted",
        "overallStatus": "accepted",
    }
    new, old = f"/import/incoming/{import_id}", f"/import/{import_id}"
    status, content, _ = await api.call("GET", f"{new}/content")
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
        for base in (new, old):
            status, part, _ = await api.call("GET", f"{base}/content/{segment}")
            assert status == 200 and part == content[key], (base, segment)
    status, summary, _ = await api.call("GET", f"{old}/content/summary")
    assert status == 200 and summary["grandTotal"] == "10686.20"
    status, record, _ = await api.call("GET", new)
    assert record["totalGross"] == "10686.20" and record["invoiceNumber"] == "0000123456"
    for base in (new, old):
        status, source, headers = await api.call("GET", f"{base}/source")
        assert status == 200 and headers["Content-Type"].startswith("application/xml") and source == data
        for tail in ("/content/pdf", "/validation/pdf"):
            status, pdf, headers = await api.call("GET", base + tail)
            assert status == 200 and headers["Content-Type"] == "application/pdf" and pdf.startswith(b"%PDF")
        status, verdict, _ = await api.call("GET", f"{base}/validation")
        assert status == 200 and verdict == {"status": "accepted"}
        status, atts, _ = await api.call("GET", f"{base}/attachments")
        assert status == 200 and atts["meta"]["total"] == 1
        (att,) = atts["data"]
        assert att["filename"] == "01_15_Anhang_01.pdf" and att["size"] == 150128
        status, meta, _ = await api.call("GET", f"{base}/attachment/{att['id']}")
        assert status == 200 and meta == att
        status, blob, headers = await api.call("GET", f"{base}/attachment/{att['id']}/file")
        assert status == 200 and headers["Content-Type"] == "application/octet-stream" and len(blob) == 150128


async def test_a_rejected_file_is_failed_with_validation_rejected(api: Api, samples_dir: Path) -> None:
    import_id = await received(api, (samples_dir / REJECTED_CII).read_bytes())
    assert (await done(api, import_id))["validationStatus"] == "failed"
    status, verdict, _ = await api.call("GET", f"/import/{import_id}/validation")
    assert status == 200 and verdict == {"status": "rejected"}
    status, record, _ = await api.call("GET", f"/import/incoming/{import_id}")
    assert record["status"] == "failed"
    assert await numbers(api, "?status=failed") == [record["invoiceNumber"]]
    assert await numbers(api, "?status=accepted") == []


# --- the list ------------------------------------------------------------------------------------------
async def test_list_pages_sorts_and_filters(api: Api) -> None:
    ids = [
        await received(api, xml_of("IN-B", "20260110", "50.00", "Beta GmbH")),
        await received(api, xml_of("IN-A", "20260120", "300.00", "Alpha AG")),
        await received(api, xml_of("IN-C", "20260105", "10.00", "Gamma KG")),
    ]
    for import_id in ids:
        await done(api, import_id)
    assert await numbers(api) == ["IN-B", "IN-A", "IN-C"]
    assert await numbers(api, "?sort=invoiceNumber") == ["IN-A", "IN-B", "IN-C"]
    assert await numbers(api, "?sort=issueDate&order=desc") == ["IN-A", "IN-B", "IN-C"]
    assert await numbers(api, "?sort=totalGross&order=desc") == ["IN-A", "IN-B", "IN-C"]
    assert await numbers(api, "?sort=sellerName") == ["IN-A", "IN-B", "IN-C"]
    assert await numbers(api, "?keyword=gamma") == ["IN-C"]
    assert await numbers(api, "?invoiceNumber=IN-A") == ["IN-A"]
    assert await numbers(api, "?issueDateFrom=20260106&issueDateTo=20260120") == ["IN-B", "IN-A"]
    assert await numbers(api, "?status=accepted&status=pending") == ["IN-B", "IN-A", "IN-C"]
    status, body, _ = await api.call("GET", "/import/incoming?perPage=2&page=2")
    assert [r["invoiceNumber"] for r in body["data"]] == ["IN-C"]
    assert body["meta"] == {"page": 2, "perPage": 2, "total": 3, "totalPages": 2}
    for query, field in (
        ("?sort=size", "sort"),
        ("?order=x", "order"),
        ("?status=done", "status"),
        ("?issueDateFrom=2026-01-01", "issueDateFrom"),
        ("?perPage=0", "perPage"),
    ):
        status, body, _ = await api.call("GET", "/import/incoming" + query)
        assert status == 400 and fields_of(body) == [field]


async def test_incoming_invoices_belong_to_their_tenant(
    api: Api, session: aiohttp.ClientSession, sb: Sandbox
) -> None:
    import_id = await received(api, xml_of("IN-1"))
    other = Api(session, sb, account="tenant-2")
    assert (await other.call("GET", f"/import/incoming/{import_id}"))[0] == 404
    assert await numbers(other) == []


# --- PATCH ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("prefix", PREFIXES)
async def test_patch_changes_the_record_and_answers_it(api: Api, prefix: str) -> None:
    import_id = await received(api, xml_of("IN-1"))
    await done(api, import_id)
    changes = {
        "invoiceNumber": "IN-1-KORR",
        "dueDate": "20260215",
        "totalGross": "240.00",
        "note": "Skonto",
        "orderReference": "PO-9",
        "sellerVatId": None,
    }
    status, record, _ = await api.call("PATCH", f"{prefix}/{import_id}", json=changes)
    assert status == 200 and set(record) == RECORD_FIELDS
    assert {k: record[k] for k in changes} == changes
    assert record["sellerName"] == "Muster GmbH" and record["updatedAt"] >= record["createdAt"]
    status, again, _ = await api.call("GET", f"/import/incoming/{import_id}")
    assert again == record
    assert await numbers(api, "?invoiceNumber=IN-1-KORR") == ["IN-1-KORR"]
    status, content, _ = await api.call("GET", f"{prefix}/{import_id}/content")
    assert content["invoiceNumber"] == "IN-1"  # the file is kept as received


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "invoiceNumber"),
        ({"invoiceNumber": None}, "invoiceNumber"),
        ({"issueDate": "2026-01-15"}, "issueDate"),
        ({"dueDate": 20260215}, "dueDate"),
        ({"currency": "euro"}, "currency"),
        ({"totalGross": "1,5"}, "totalGross"),
        ({"totalNet": "1.555"}, "totalNet"),
        ({"importId": "IMP00000000"}, "importId"),
        ({"status": "accepted"}, "status"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_patch_400_names_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    import_id = await received(api, xml_of("IN-1"))
    status, answer, _ = await api.call("PATCH", f"/import/incoming/{import_id}", json=body)
    assert status == 400 and fields_of(answer) == [field], answer
    status, record, _ = await api.call("GET", f"/import/incoming/{import_id}")
    assert record["invoiceNumber"] == "IN-1" and record["updatedAt"] == record["createdAt"]
