"""API.md v2 "Outgoing imports and content": every ``/import/outgoing/{faktooraId}`` route answers for an
invoice created with ``POST /invoices`` under its own id (409 NOT_READY until its file exists)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from _sandbox_http import Api, assert_error, invoice

from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

PARTS = {
    "lineitems": "lineItems",
    "taxes": "taxes",
    "paymentterms": "paymentTerms",
    "paymentmeans": "paymentMeans",
    "seller": "seller",
    "buyer": "buyer",
    "delivery": "delivery",
}
EVERY_ROUTE = [
    "/content",
    "/content/summary",
    *(f"/content/{p}" for p in PARTS),
    "/content/pdf",
    "/source",
    "/validation",
    "/validation/pdf",
    "/status",
    "/attachments",
    "/attachment/1",
    "/attachment/1/file",
]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def api(session: aiohttp.ClientSession) -> AsyncIterator[Api]:
    async with Sandbox(processing_delay=(0.0, 0.02)) as sb:
        yield Api(session, sb)


def valid_invoice(number: str, schema: str = "CII") -> dict[str, Any]:
    body = generate_invoice(7, seed=44, categories=["S"], format="xrechnung", lines=3)
    body["schema"] = schema
    body["invoiceNumber"] = number
    return body


async def get(api: Api, fid: str, tail: str, v: int = 1) -> tuple[int, Any, Any]:
    return await api.call("GET", f"/import/outgoing/{fid}{tail}", v=v)


@pytest.mark.parametrize("schema", ["CII", "UBL"])
async def test_every_content_route_answers_for_a_created_invoice(api: Api, schema: str) -> None:
    (fid,) = await api.create(valid_invoice(f"CC-{schema}", schema))
    await api.ready(fid)
    status, content, _ = await get(api, fid, "/content")
    assert status == 200 and content["invoiceNumber"] == f"CC-{schema}"
    assert len(content["lineItems"]) == 3
    for segment, key in PARTS.items():
        status, part, headers = await get(api, fid, f"/content/{segment}")
        assert status == 200 and headers["Content-Type"].startswith("application/json"), segment
        assert part == content[key], segment
    status, summary, _ = await get(api, fid, "/content/summary", v=2)
    assert status == 200 and summary["invoiceNumber"] == f"CC-{schema}"

    _, xml, _ = await api.call("GET", f"/invoices/{fid}", headers=api.headers(Accept="application/xml"))
    _, pdf, _ = await api.call("GET", f"/invoices/{fid}", headers=api.headers(Accept="application/pdf"))
    status, source, headers = await get(api, fid, "/source")
    assert status == 200 and headers["Content-Type"] == "application/xml" and source == xml
    status, view, headers = await get(api, fid, "/content/pdf")
    assert status == 200 and headers["Content-Type"] == "application/pdf" and view == pdf

    status, verdict, _ = await get(api, fid, "/validation")
    assert status == 200 and verdict == {"status": "accepted"}
    status, report, headers = await get(api, fid, "/validation/pdf")
    assert status == 200 and headers["Content-Type"] == "application/pdf" and report.startswith(b"%PDF")
    status, st, _ = await get(api, fid, "/status")
    assert status == 200
    assert st == {
        "validationStatus": "accepted",
        "visualizationStatus": "accepted",
        "overallStatus": "accepted",
    }
    status, atts, _ = await get(api, fid, "/attachments")
    assert status == 200 and atts == {
        "data": [],
        "meta": {"page": 1, "perPage": 25, "total": 0, "totalPages": 0},
    }
    for tail in ("/attachment/1", "/attachment/1/file"):
        status, body, _ = await get(api, fid, tail)
        assert status == 404, tail
        assert_error(body, 404, "NOT_FOUND")
    # a created invoice is not an upload: the import list stays empty
    status, listing, _ = await api.call("GET", "/import/outgoing")
    assert status == 200 and listing["meta"]["total"] == 0


async def test_rejected_created_invoice_reads_rejected(api: Api) -> None:
    (fid,) = await api.create(invoice("CC-BAD"))  # the seller lacks contact name and phone (BR-DE-5/6)
    await api.ready(fid)
    status, verdict, _ = await get(api, fid, "/validation")
    assert status == 200 and verdict == {"status": "rejected"}
    status, st, _ = await get(api, fid, "/status")
    assert st == {"validationStatus": "failed", "visualizationStatus": "accepted", "overallStatus": "failed"}
    status, report, _ = await get(api, fid, "/validation/pdf")
    assert status == 200 and report.startswith(b"%PDF")


async def test_a_finished_validation_job_is_reused(api: Api) -> None:
    body = valid_invoice("CC-VAL")
    body["validate"] = True
    (fid,) = await api.create(body)
    st = await api.wait_for(fid, lambda s: s.get("validation", {}).get("status") in ("success", "error"))
    assert st["validation"]["validity"] is True
    status, verdict, _ = await get(api, fid, "/validation")
    assert status == 200 and verdict == {"status": "accepted"}


async def test_every_route_is_409_not_ready_until_the_file_exists(session: aiohttp.ClientSession) -> None:
    async with Sandbox(processing_delay=(30, 30)) as sb:
        api = Api(session, sb)
        (fid,) = await api.create(invoice("CC-SLOW"))
        for tail in EVERY_ROUTE:
            status, body, _ = await get(api, fid, tail)
            assert status == 409, tail
            assert_error(body, 409, "NOT_READY")


async def test_failed_generation_stays_409_with_the_reason(session: aiohttp.ClientSession) -> None:
    async with Sandbox(faults={"generation_failure_rate": 1.0}) as sb:
        api = Api(session, sb)
        (fid,) = await api.create(invoice("CC-FAIL"))
        st = await api.ready(fid)
        assert st["jobStatus"] == "failed"
        for tail in ("/content", "/status", "/source"):
            status, body, _ = await get(api, fid, tail)
            assert status == 409 and "does not exist" in body["message"], tail


async def test_unknown_foreign_and_deleted_ids_are_404(api: Api, session: aiohttp.ClientSession) -> None:
    (fid,) = await api.create(invoice("CC-DEL"))
    await api.ready(fid)
    other_key = "sk_test_other_tenant_key"
    api.sb.add_account(other_key)
    for who, target in ((api, "FNOPE0000"), (Api(session, api.sb, other_key), fid), (api, "nope")):
        status, body, _ = await who.call("GET", f"/import/outgoing/{target}/content")
        assert status == 404, target
        assert_error(body, 404, "NOT_FOUND")
    status, _, _ = await get(api, fid, "/content")
    assert status == 200
    status, _, _ = await api.call("DELETE", f"/invoices/{fid}")
    assert status == 204
    status, _, _ = await get(api, fid, "/content")
    assert status == 404


async def test_numbered_and_profiled_invoice_content_shows_what_was_made(api: Api) -> None:
    body = invoice(None)
    del body["seller"]
    (fid,) = await api.create(body)
    await api.ready(fid)
    status, content, _ = await get(api, fid, "/content")
    assert status == 200
    assert content["invoiceNumber"].endswith("/00001")
    assert content["seller"]["name"] == api.sb.profile()["name"]
    _, xml, _ = await api.call("GET", f"/invoices/{fid}", headers=api.headers(Accept="application/xml"))
    assert content["invoiceNumber"].encode() in xml
    rows = {r["faktooraId"]: r for r in api.sb.invoices()}
    assert rows[fid]["xmlSha256"] == hashlib.sha256(xml).hexdigest()
