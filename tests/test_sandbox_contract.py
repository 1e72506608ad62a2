"""Contract tests of the sandbox with raw HTTP (aiohttp.ClientSession, never the SDK): outgoing invoices."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import io
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

FID = re.compile(r"F[A-Z0-9]{6,}")


def invoice(number: str | None, **extra: Any) -> dict[str, Any]:
    """A small valid payload invoice (``None``: no number, the account template numbers it)."""
    body: dict[str, Any] = {
        "format": "xrechnung",
        "invoiceNumber": number,
        "issueDate": "20260115",
        "currency": "EUR",
        "buyerReference": "04011000-12345-67",
        "seller": {
            "name": "Muster GmbH",
            "street": "Hauptstr. 1",
            "postcode": "10115",
            "city": "Berlin",
            "country": "DE",
            "vatId": "DE123456789",
            "email": "billing@muster.example",
            "electronicAddress": "billing@muster.example",
            "electronicAddressScheme": "EM",
            "iban": "DE89370400440532013000",
        },
        "buyer": {
            "name": "Acme AG",
            "street": "Ring 5",
            "postcode": "80331",
            "city": "München",
            "country": "DE",
            "electronicAddress": "ap@acme.example",
            "electronicAddressScheme": "EM",
        },
        "invoiceItems": [
            {
                "id": "1",
                "product": {
                    "name": "Beratung",
                    "quantity": "2",
                    "unitCode": "HUR",
                    "price": "100.00",
                    "taxes": [{"typeCode": "VAT", "categoryCode": "S", "rate": 19}],
                },
            }
        ],
    }
    body.update(extra)
    return body


class Api:
    """Raw HTTP helper bound to one sandbox and key."""

    def __init__(self, session: aiohttp.ClientSession, sb: Sandbox, key: str | None = None) -> None:
        self.s = session
        self.sb = sb
        self.key = key or sb.api_key

    def headers(self, **extra: str) -> dict[str, str]:
        return {"X-API-KEY": self.key, **extra}

    async def call(
        self, method: str, path: str, *, v: int = 1, headers: dict[str, str] | None = None, **kw: Any
    ) -> tuple[int, Any, aiohttp.typedefs.LooseHeaders]:
        url = (self.sb.base_url if v == 1 else self.sb.base_url_v2) + path
        async with self.s.request(
            method, url, headers=self.headers() if headers is None else headers, **kw
        ) as resp:
            raw = await resp.read()
            ctype = resp.content_type
            body: Any = raw
            if ctype == "application/json":
                body = await resp.json()
            return resp.status, body, resp.headers

    async def create(self, *invoices: dict[str, Any]) -> list[str]:
        status, body, _ = await self.call("POST", "/invoices", json={"invoices": list(invoices)})
        assert status == 202, body
        return [item["faktooraId"] for item in body]

    async def status(self, fid: str) -> dict[str, Any]:
        status, body, _ = await self.call("GET", f"/invoices/{fid}/status", v=2)
        assert status == 200, body
        assert isinstance(body, dict)
        return body

    async def wait_for(self, fid: str, pred: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        for _ in range(1000):
            st = await self.status(fid)
            if pred(st):
                return st
            await asyncio.sleep(0.01)
        raise AssertionError(f"status of {fid} never matched: {st}")

    async def admin(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        async with self.s.request(method, f"{self.sb.root_url}/_sandbox/{path}", **kw) as resp:
            return resp.status, await resp.json() if resp.content_type == "application/json" else None


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(processing_delay=(0.0, 0.01)) as sandbox:
        yield sandbox


@pytest.fixture
def api(session: aiohttp.ClientSession, sb: Sandbox) -> Api:
    return Api(session, sb)


def assert_error(body: Any, status: int, code: str | None = None) -> None:
    assert isinstance(body, dict), body
    assert body["statusCode"] == status
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["code"], str)
    if code is not None:
        assert body["code"] == code


# --- auth ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("v", [1, 2])
async def test_missing_or_unknown_key_is_401(api: Api, v: int) -> None:
    for headers in ({}, {"X-API-KEY": "nope"}, {"X-API-KEY": ""}):
        status, body, _ = await api.call("GET", "/invoices", v=v, headers=headers)
        assert status == 401
        assert_error(body, 401, "UNAUTHORIZED")
        assert "errors" not in body


async def test_accounts_and_tenants_are_separate(
    api: Api, sb: Sandbox, session: aiohttp.ClientSession
) -> None:
    sb.add_account("second-key", features=())
    other = Api(session, sb, "second-key")
    await api.create(invoice("T-1"))
    status, body, _ = await other.call("GET", "/invoices")
    assert status == 200 and body["meta"]["total"] == 0
    # the same number is free for another key and another x-account-id
    await other.create(invoice("T-1"))
    status, body, _ = await api.call(
        "POST",
        "/invoices",
        json={"invoices": [invoice("T-1")]},
        headers=api.headers(**{"x-account-id": "t2"}),
    )
    assert status == 202
    status, body, _ = await api.call("GET", "/invoices", headers=api.headers(**{"x-account-id": "bad id!"}))
    assert status == 400


# --- POST /invoices -----------------------------------------------------------------------------
async def test_create_direct_without_delivery_goes_to_created(api: Api) -> None:
    status, body, headers = await api.call(
        "POST", "/invoices", json={"invoices": [invoice("D-1"), invoice("D-2")]}
    )
    assert status == 202
    assert headers["Content-Type"].startswith("application/json")
    assert [set(item) for item in body] == [{"faktooraId", "detailsPage"}] * 2
    fids = [item["faktooraId"] for item in body]
    assert all(FID.fullmatch(f) for f in fids) and len(set(fids)) == 2
    first = await api.status(fids[0])
    assert first["invoiceStatus"] is None and first["jobStatus"] in ("queued", "processing")
    assert first["authority"] == [] and first["delivery"] == []
    assert "validation" not in first
    done = await api.wait_for(fids[0], lambda s: s["jobStatus"] is None)
    assert done["invoiceStatus"] == "created"


async def test_status_moves_queued_processing_created_sent(session: aiohttp.ClientSession) -> None:
    async with Sandbox(processing_delay=(0.3, 0.3), features=()) as sb:
        api = Api(session, sb)
        delivery = {
            "type": "email",
            "recipient": "ap@acme.example",
            "carbonCopy": None,
            "blindCarbonCopy": None,
        }
        (fid,) = await api.create(invoice("S-1", delivery=delivery, validate=True))
        seen: list[tuple[Any, Any]] = []
        for _ in range(500):
            st = await api.status(fid)
            pair = (st["invoiceStatus"], st["jobStatus"])
            if not seen or seen[-1] != pair:
                seen.append(pair)
            if st["invoiceStatus"] == "sent":
                break
            await asyncio.sleep(0.02)
        assert seen[0] == (None, "queued")
        assert (None, "processing") in seen
        assert seen[-1] == ("sent", None)
        assert st["delivery"] == [delivery]
        assert "validation" not in st  # no invoiceValidation feature: validate is ignored
        (mail,) = sb.outbox
        assert mail["faktooraId"] == fid and mail["to"] == "ap@acme.example"


async def test_validation_job_goes_processing_then_finished(session: aiohttp.ClientSession) -> None:
    async with Sandbox(processing_delay=(0.3, 0.3)) as sb:
        api = Api(session, sb)
        good = generate_invoice(3, seed=1)
        good["validate"] = True
        (fid,) = await api.create(good)
        seen: list[Any] = []
        for _ in range(500):
            st = await api.status(fid)
            validation = st.get("validation")
            state = None if validation is None else (validation["status"], validation["validity"])
            if not seen or seen[-1] != state:
                seen.append(state)
            if state is not None and state[0] != "processing":
                break
            await asyncio.sleep(0.02)
        assert seen[0] is None  # no validation job before the file exists
        assert ("processing", None) in seen
        assert seen[-1] == ("success", True)
        assert st["invoiceStatus"] == "created"


async def test_zero_invoices_400_and_more_than_100_is_413(api: Api, sb: Sandbox) -> None:
    status, body, _ = await api.call("POST", "/invoices", json={"invoices": []})
    assert status == 400
    assert_error(body, 400, "BAD_REQUEST")
    many = [invoice(f"M-{i}") for i in range(101)]
    status, body, _ = await api.call("POST", "/invoices", json={"invoices": many})
    assert status == 413
    assert_error(body, 413)
    status, body, _ = await api.call("POST", "/invoices", json={"invoices": many[:100]})
    assert status == 202 and len(body) == 100
    assert sb.stats()["invoicesStored"] == 100


async def test_field_errors_name_index_and_path(api: Api, sb: Sandbox) -> None:
    bad_postcode = invoice("E-1")
    bad_postcode["buyer"]["postcode"] = "ABC"
    bad_many = invoice("E-2", issueDate="2026-01-15", currency="euro")
    del bad_many["seller"]["name"]
    bad_many["invoiceItems"][0]["product"]["quantity"] = "two"
    bad_many["invoiceItems"][0]["product"]["taxes"][0]["categoryCode"] = "X"
    status, body, _ = await api.call(
        "POST", "/invoices", json={"invoices": [invoice("OK-1"), bad_postcode, bad_many]}
    )
    assert status == 400
    assert_error(body, 400, "BAD_REQUEST")
    fields = {(e["index"], e["field"]) for e in body["errors"]}
    assert (1, "invoices[1].buyer.postcode") in fields
    assert {
        (2, "invoices[2].issueDate"),
        (2, "invoices[2].currency"),
        (2, "invoices[2].seller.name"),
        (2, "invoices[2].invoiceItems[0].product.quantity"),
        (2, "invoices[2].invoiceItems[0].product.taxes[0].categoryCode"),
    } <= fields
    assert all(e["index"] != 0 for e in body["errors"])
    assert all(isinstance(e["message"], str) and e["message"] for e in body["errors"])
    assert sb.stats()["invoicesStored"] == 0  # the whole request failed


async def test_generated_invoices_are_accepted(api: Api) -> None:
    fids = await api.create(*(generate_invoice(i, seed=7) for i in range(10)))
    assert len(fids) == 10


async def test_duplicate_numbers_409_within_request_and_against_store(api: Api, sb: Sandbox) -> None:
    await api.create(invoice("DUP-1"))
    status, body, _ = await api.call(
        "POST", "/invoices", json={"invoices": [invoice("NEW-1"), invoice("DUP-1"), invoice("NEW-2")]}
    )
    assert status == 409
    assert_error(body, 409, "DUPLICATE_INVOICE_NUMBER")
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(1, "invoices[1].invoiceNumber")]
    status, body, _ = await api.call(
        "POST", "/invoices", json={"invoices": [invoice("A"), invoice("B"), invoice("A")]}
    )
    assert status == 409
    assert_error(body, 409, "DUPLICATE_INVOICE_NUMBER")
    assert sorted(e["index"] for e in body["errors"]) == [0, 2]
    assert sb.stats()["invoicesStored"] == 1
    assert sb.stats()["duplicatesRejected"] == 3


async def test_draft_and_review_need_approval(api: Api, sb: Sandbox) -> None:
    delivery = {"type": "email", "recipient": "ap@acme.example"}
    d, r = await api.create(
        invoice("DR-1", draftOnly=True, delivery=delivery), invoice("DR-2", reviewMode=True)
    )
    assert (await api.wait_for(d, lambda s: s["jobStatus"] is None))["invoiceStatus"] == "draft"
    assert (await api.wait_for(r, lambda s: s["jobStatus"] is None))["invoiceStatus"] == "review"
    assert sb.outbox == []
    st = await sb.approve(d)
    assert st["invoiceStatus"] == "sent"
    status, body = await api.admin("POST", f"approve/{r}")
    assert status == 200 and body["invoiceStatus"] == "created"
    status, body = await api.admin("POST", f"approve/{r}")
    assert status == 409
    status, body = await api.admin("POST", "approve/FUNKNOWN1")
    assert status == 404
    assert [m["faktooraId"] for m in sb.outbox] == [d]


# --- downloads ----------------------------------------------------------------------------------
async def test_downloads_by_id_and_number(api: Api) -> None:
    (fid,) = await api.create(invoice("DL/1"))
    await api.wait_for(fid, lambda s: s["invoiceStatus"] == "created")
    status, pdf, headers = await api.call(
        "GET", f"/invoices/{fid}", headers=api.headers(Accept="application/pdf")
    )
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert pdf.startswith(b"%PDF") and int(headers["Content-Length"]) == len(pdf)
    status, xml, headers = await api.call(
        "GET", f"/invoices/{fid}", headers=api.headers(Accept="application/xml")
    )
    assert status == 200 and headers["Content-Type"] == "application/xml"
    assert b"DL/1" in xml
    status, by_number, _ = await api.call(
        "GET", "/invoices", params={"invoiceNumber": "DL/1"}, headers=api.headers(Accept="application/xml")
    )
    assert status == 200 and by_number == xml
    status, pdf2, _ = await api.call(
        "GET", "/invoices", params={"invoiceNumber": "DL/1"}, headers=api.headers(Accept="application/pdf")
    )
    assert status == 200 and pdf2 == pdf
    status, body, _ = await api.call(
        "GET", "/invoices", params={"invoiceNumber": "nope"}, headers=api.headers(Accept="application/pdf")
    )
    assert status == 404
    assert_error(body, 404)
    for accept in ("text/html", "application/json"):
        status, body, _ = await api.call("GET", f"/invoices/{fid}", headers=api.headers(Accept=accept))
        assert status == 406, accept
        assert_error(body, 406)
    for accept in ("*/*", ""):  # v2: no Accept (or curl's */*) is the PDF, by id and by number
        status, body, headers = await api.call("GET", f"/invoices/{fid}", headers=api.headers(Accept=accept))
        assert status == 200 and body == pdf and headers["Content-Type"] == "application/pdf", accept
        status, body, headers = await api.call(
            "GET", "/invoices", params={"invoiceNumber": "DL/1"}, headers=api.headers(Accept=accept)
        )
        assert status == 200 and body == pdf and headers["Content-Type"] == "application/pdf", accept
    status, body, _ = await api.call("GET", "/invoices", headers=api.headers(Accept="text/html"))
    assert status == 406
    for weird in ("FNOPE000", "nope", "F" + "A" * 300, "%00", "F1234567%2F..%2F"):
        status, body, _ = await api.call(
            "GET", f"/invoices/{weird}", headers=api.headers(Accept="application/pdf")
        )
        assert status == 404, weird
        status, body, _ = await api.call("GET", f"/invoices/{weird}/status", v=2)
        assert status == 404, weird


async def test_download_before_file_exists_is_409_not_ready(session: aiohttp.ClientSession) -> None:
    async with Sandbox(processing_delay=(30, 30)) as sb:
        api = Api(session, sb)
        (fid,) = await api.create(invoice("NR-1"))
        for accept in ("application/pdf", "application/xml"):
            status, body, _ = await api.call("GET", f"/invoices/{fid}", headers=api.headers(Accept=accept))
            assert status == 409
            assert_error(body, 409, "NOT_READY")
            status, body, _ = await api.call(
                "GET", "/invoices", params={"invoiceNumber": "NR-1"}, headers=api.headers(Accept=accept)
            )
            assert status == 409
            assert_error(body, 409, "NOT_READY")
        status, body, _ = await api.call("GET", f"/invoices/{fid}/validation-report")
        assert status == 404


async def test_validation_with_feature(api: Api) -> None:
    good = generate_invoice(0, seed=1)
    good["validate"] = True
    fid, bad_fid = await api.create(
        good, invoice("V-1", validate=True)
    )  # V-1 lacks seller contact (BR-DE-5/6)
    st = await api.wait_for(fid, lambda s: s.get("validation", {}).get("status") in ("success", "error"))
    validation = st["validation"]
    assert set(validation) == {"status", "validity", "createdAt"}
    assert validation["status"] == "success" and validation["validity"] is True
    st = await api.wait_for(bad_fid, lambda s: s.get("validation", {}).get("status") in ("success", "error"))
    assert st["validation"]["status"] == "error" and st["validation"]["validity"] is False
    for target in (fid, bad_fid):
        status, pdf, headers = await api.call("GET", f"/invoices/{target}/validation-report")
        assert status == 200 and headers["Content-Type"] == "application/pdf" and pdf.startswith(b"%PDF")
    (plain,) = await api.create(invoice("V-2"))
    st = await api.wait_for(plain, lambda s: s["jobStatus"] is None)
    assert "validation" not in st
    status, body, _ = await api.call("GET", f"/invoices/{plain}/validation-report")
    assert status == 404
    assert_error(body, 404)


# --- DELETE -------------------------------------------------------------------------------------
async def test_delete_needs_feature(api: Api, sb: Sandbox, session: aiohttp.ClientSession) -> None:
    sb.add_account("no-delete", features=("invoiceValidation",))
    other = Api(session, sb, "no-delete")
    (fid,) = await other.create(invoice("DEL-1"))
    status, body, _ = await other.call("DELETE", f"/invoices/{fid}")
    assert status == 403
    assert_error(body, 403, "FEATURE_DISABLED")
    (fid,) = await api.create(invoice("DEL-1"))
    status, body, _ = await api.call("DELETE", f"/invoices/{fid}")
    assert status == 204 and body == b""
    status, body, _ = await api.call("DELETE", f"/invoices/{fid}")
    assert status == 404
    status, _, _ = await api.call("GET", f"/invoices/{fid}/status", v=2)
    assert status == 404
    await api.create(invoice("DEL-1"))  # the number is free again


# --- next-number ---------------------------------------------------------------------------------
async def test_next_number_previews_without_reserving(api: Api) -> None:
    # v2 grammar (was the brace syntax of v1): the same assertions, YYYY/MM/id tokens instead of {YYYY}
    status, body, _ = await api.call("GET", "/invoices/next-number", params={"template": "RE-YYYY/MM/id"})
    assert status == 400  # one separator kind per template
    assert_error(body, 400)
    status, body, _ = await api.call("GET", "/invoices/next-number", params={"template": "RE-YYYY-MM-id"})
    assert status == 200
    assert body["counter"] == 0 and body["template"] == "RE-YYYY-MM-id"
    assert re.fullmatch(r"RE-\d{4}-\d{2}-00001", body["invoiceNumber"])
    await api.create(invoice(None), invoice(None))  # numbered by the account template: counter 2
    status, again, _ = await api.call("GET", "/invoices/next-number", params={"template": "X-id"})
    assert status == 200 and again == {"invoiceNumber": "X-00003", "counter": 2, "template": "X-id"}
    status, again, _ = await api.call("GET", "/invoices/next-number", params={"template": "id-id"})
    assert status == 400
    status, again, _ = await api.call("GET", "/invoices/next-number")
    assert again["counter"] == 2  # previewing does not reserve
    for bad in ("{nope}", "{YYYY", "}", "{counter:999}", ""):
        status, body, _ = await api.call("GET", "/invoices/next-number", params={"template": bad})
        assert status == 400, bad
        assert_error(body, 400)


# --- list ---------------------------------------------------------------------------------------
async def test_pagination_arithmetic(session: aiohttp.ClientSession) -> None:
    async with Sandbox(processing_delay=(60, 60)) as sb:
        api = Api(session, sb)
        await api.create(*(invoice(f"P-{i:03d}") for i in range(53)))
        status, body, _ = await api.call("GET", "/invoices", params={"perPage": "10"})
        assert status == 200
        assert body["meta"] == {"page": 1, "perPage": 10, "total": 53, "totalPages": 6}
        assert len(body["data"]) == 10
        status, body, _ = await api.call("GET", "/invoices", params={"perPage": "10", "page": "6"})
        assert len(body["data"]) == 3 and body["meta"]["page"] == 6
        assert [d["invoiceNumber"] for d in body["data"]] == ["P-050", "P-051", "P-052"]
        status, body, _ = await api.call("GET", "/invoices", params={"perPage": "10", "page": "7"})
        assert status == 200 and body["data"] == [] and body["meta"]["total"] == 53
        status, body, _ = await api.call("GET", "/invoices", params={"perPage": "5000"})
        assert body["meta"] == {"page": 1, "perPage": 1000, "total": 53, "totalPages": 1}
        assert len(body["data"]) == 53
        status, body, _ = await api.call("GET", "/invoices")
        assert body["meta"]["perPage"] == 25 and body["meta"]["totalPages"] == 3
        item = body["data"][0]
        assert set(item) == {
            "faktooraId",
            "invoiceNumber",
            "issueDate",
            "invoiceStatus",
            "format",
            "currency",
            "buyerName",
            "totalGross",
            "createdAt",
        }
        assert item["totalGross"] == "238.00" and item["buyerName"] == "Acme AG"
        for params in (
            {"page": "0"},
            {"page": "-1"},
            {"page": "x"},
            {"perPage": "0"},
            {"perPage": "1.5"},
            {"sort": "amount"},
            {"order": "up"},
            {"issueDateFrom": "2026-01-01"},
            {"issueDateTo": "20261301"},
        ):
            status, body, _ = await api.call("GET", "/invoices", params=params)
            assert status == 400, params
            assert_error(body, 400)


async def test_list_filters_and_sorting(session: aiohttp.ClientSession) -> None:
    async with Sandbox(processing_delay=(60, 60)) as sb:
        api = Api(session, sb)
        a = invoice("2026-003", issueDate="20260301")
        b = invoice("2026-001", issueDate="20260110")
        b["buyer"]["name"] = "Zeta Logistik"
        c = invoice("2026-002", issueDate="20260205")
        await api.create(a, b, c)

        async def numbers(**params: str) -> list[str]:
            status, body, _ = await api.call("GET", "/invoices", params=params)
            assert status == 200, body
            return [d["invoiceNumber"] for d in body["data"]]

        assert await numbers() == ["2026-003", "2026-001", "2026-002"]  # createdAt asc
        assert await numbers(sort="invoiceNumber") == ["2026-001", "2026-002", "2026-003"]
        assert await numbers(sort="issueDate", order="desc") == ["2026-003", "2026-002", "2026-001"]
        assert await numbers(sort="createdAt", order="desc") == ["2026-002", "2026-001", "2026-003"]
        assert await numbers(keyword="zeta") == ["2026-001"]
        assert await numbers(keyword="-00") == ["2026-003", "2026-001", "2026-002"]
        status, body, _ = await api.call(  # v2: with invoiceNumber, */* would be the PDF; JSON lists
            "GET",
            "/invoices",
            params={"invoiceNumber": "2026-002"},
            headers=api.headers(Accept="application/json"),
        )
        assert status == 200 and [d["invoiceNumber"] for d in body["data"]] == ["2026-002"]
        assert await numbers(issueDateFrom="20260110", issueDateTo="20260205", sort="issueDate") == [
            "2026-001",
            "2026-002",
        ]
        assert await numbers(issueDateFrom="20260302") == []
        status, body, _ = await api.call("GET", "/invoices", headers=api.headers(Accept="application/json"))
        assert status == 200 and body["meta"]["total"] == 3


# --- malformed requests -------------------------------------------------------------------------
async def test_malformed_requests_get_4xx_and_change_nothing(api: Api, sb: Sandbox) -> None:
    (fid,) = await api.create(invoice("KEEP-1"))
    await api.wait_for(fid, lambda s: s["jobStatus"] is None)
    before = sb.invoices()
    url = sb.base_url + "/invoices"
    huge = b'{"invoices": [' + b" " * (17 * 1024 * 1024) + b"]}"
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", url, {"data": b"{not json", "headers": {"Content-Type": "application/json"}}),
        ("POST", url, {"data": b'{"invoices": [NaN]}', "headers": {"Content-Type": "application/json"}}),
        ("POST", url, {"data": b"\xff\xfe", "headers": {"Content-Type": "application/json"}}),
        ("POST", url, {"data": b"[" * 100_000, "headers": {"Content-Type": "application/json"}}),
        ("POST", url, {"json": {"invoices": [invoice("X-1")]}, "headers": {"Content-Type": "text/plain"}}),
        ("POST", url, {"data": b'{"invoices": [1]}', "headers": {"Content-Type": "text/plain"}}),
        ("POST", url, {"json": [invoice("X-1")]}),
        ("POST", url, {"json": {"invoices": "x"}}),
        ("POST", url, {"json": {"invoices": [None]}}),
        ("POST", url, {"json": {"invoices": [invoice("X-1")], "extra": 1}}),
        ("POST", url, {"json": {"invoices": [invoice("X-1", invoiceNumber=5)]}}),
        ("POST", url, {"json": {"invoices": [invoice("X-1", invoiceItems=[])]}}),
        ("POST", url, {"json": {"invoices": [invoice("X-1", draftOnly="yes")]}}),
        ("POST", url, {"json": {"invoices": [invoice("X-1", surprise=True)]}}),
        ("POST", url, {"json": {"invoices": [invoice("X-1", format="pdf")]}}),
        ("POST", url, {"json": {"invoices": [invoice("X-1", issueDate="20260230")]}}),
        ("POST", url, {"data": io.BytesIO(huge), "headers": {"Content-Type": "application/json"}}),
        ("PUT", url, {"json": {"invoices": [invoice("X-1")]}}),
        ("PATCH", url + f"/{fid}", {"json": {}}),
        ("GET", url + "/../../etc/passwd", {}),
        ("GET", sb.base_url + "/nothing-here", {}),
        ("DELETE", url + "/%2e%2e", {}),
    ]
    for method, target, kw in cases:
        headers = {"X-API-KEY": sb.api_key, **kw.pop("headers", {})}
        async with api.s.request(method, target, headers=headers, **kw) as resp:
            body = await resp.read()
            assert 400 <= resp.status < 500, (method, target, resp.status, body[:200])
            if resp.content_type == "application/json":
                data = await resp.json()
                assert data["statusCode"] == resp.status
    # numbers given as invalid decimal strings, bools where numbers belong
    bad = invoice("X-2")
    bad["invoiceItems"][0]["product"]["price"] = True
    bad["invoiceItems"][0]["product"]["taxes"][0]["rate"] = "19%"
    status, body, _ = await api.call("POST", "/invoices", json={"invoices": [bad]})
    assert status == 400 and len(body["errors"]) == 2
    after = sb.invoices()
    assert after == before
    stats = sb.stats()
    assert not any(status.startswith("5") for counts in stats["requests"].values() for status in counts)


async def test_methods_not_allowed_are_json_405(api: Api) -> None:
    status, body, _ = await api.call("PUT", "/invoices", json={})
    assert status == 405
    assert_error(body, 405)


# --- webhooks -----------------------------------------------------------------------------------
async def test_webhook_crud_and_deliveries(api: Api, sb: Sandbox) -> None:
    received: list[dict[str, Any]] = []
    fail_first = {"count": 1}

    async def hook(request: web.Request) -> web.Response:
        body = await request.json()
        received.append(body)
        if body["status"] == "sent" and fail_first["count"]:
            fail_first["count"] -= 1
            return web.Response(status=500)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        target = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        subs = []
        for action in ("invoiceCreate", "invoiceSent", "validationJobCompleted"):
            status, body, _ = await api.call("POST", "/webhooks", json={"action": action, "target": target})
            assert status == 201 and body["action"] == action and body["target"] == target
            subs.append(body["id"])
        status, body, _ = await api.call("GET", "/webhooks")
        assert status == 200 and body["meta"]["total"] == 3
        assert {s["id"] for s in body["data"]} == set(subs)
        for bad in (
            {"action": "nope", "target": target},
            {"action": "invoiceCreate"},
            {"target": "ftp://x"},
            [],
        ):
            status, body, _ = await api.call("POST", "/webhooks", json=bad)
            assert status == 400, bad
            assert_error(body, 400)
        status, body, _ = await api.call("PATCH", f"/webhooks/{subs[0]}", json={"target": target + "?x=1"})
        assert status == 200  # v2: PATCH answers the changed subscription (v1: {"succeed": true})
        assert (
            body["id"] == subs[0] and body["target"] == target + "?x=1" and body["action"] == "invoiceCreate"
        )
        status, body, _ = await api.call("PATCH", f"/webhooks/{subs[0]}", json={"action": "bad"})
        assert status == 400
        for unknown in ("WNOPE0000", "00000000-0000-4000-8000-000000000000"):
            status, body, _ = await api.call("PATCH", f"/webhooks/{unknown}", json={"target": target})
            assert status == 404

        delivery = {"type": "email", "recipient": "ap@acme.example"}
        (fid,) = await api.create(invoice("WH-1", delivery=delivery, validate=True))
        # v2 bodies: "action" names the event (v1: "event"), the number is in "metadata"
        for _ in range(500):
            statuses = {(b["action"], b["status"]) for b in received if b["faktooraId"] == fid}
            if {("invoiceCreate", "created"), ("invoiceSent", "sent")} <= statuses and any(
                b["action"] == "validationJobCompleted" for b in received
            ):
                sent = [b for b in received if b["status"] == "sent" and b["action"] == "invoiceSent"]
                if len(sent) >= 2:
                    break
            await asyncio.sleep(0.01)
        created = next(b for b in received if b["status"] == "created")
        assert set(created) == {"action", "faktooraId", "status", "timestamp", "metadata"}
        assert created["metadata"]["invoiceNumber"] == "WH-1"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created["timestamp"])
        assert len([b for b in received if b["status"] == "sent" and b["action"] == "invoiceSent"]) == 2
        log = sb.webhook_log
        failed = [e for e in log if not e["ok"]]
        assert failed and failed[0]["httpStatus"] == 500 and failed[0]["attempt"] == 1
        status, admin_log = await api.admin("GET", "webhook-log")
        assert status == 200 and len(admin_log) == len(log)
        stats = sb.stats()["webhooks"]
        assert stats["failures"] == 1 and stats["attempts"] == len(log)

        for sub in subs:
            status, body, _ = await api.call("DELETE", f"/webhooks/{sub}")
            assert status == 200 and body == {"succeed": True}
        status, body, _ = await api.call("DELETE", f"/webhooks/{subs[0]}")
        assert status == 404
    finally:
        await runner.cleanup()


# --- admin --------------------------------------------------------------------------------------
async def test_admin_stats_invoices_reset(api: Api, sb: Sandbox) -> None:
    (fid,) = await api.create(invoice("AD-1"))
    await api.wait_for(fid, lambda s: s["invoiceStatus"] == "created")
    status, stats = await api.admin("GET", "stats")
    assert status == 200
    assert stats["requests"]["POST /api/v1/invoices"] == {"202": 1}
    assert stats["requests"]["GET /api/v2/invoices/{faktooraId}/status"]["200"] >= 1
    assert stats["invoicesStored"] == 1
    status, rows = await api.admin("GET", "invoices")
    assert rows[0]["xmlSha256"] and rows[0]["pdfSha256"] is None  # the PDF is rendered on first download
    _, pdf, _ = await api.call("GET", f"/invoices/{fid}", headers=api.headers(Accept="application/pdf"))
    _, xml, _ = await api.call("GET", f"/invoices/{fid}", headers=api.headers(Accept="application/xml"))
    status, rows = await api.admin("GET", "invoices")
    (row,) = rows
    assert row["faktooraId"] == fid and row["invoiceNumber"] == "AD-1" and row["status"] == "created"
    assert row["pdfSha256"] == hashlib.sha256(pdf).hexdigest()
    assert row["xmlSha256"] == hashlib.sha256(xml).hexdigest()
    status, body = await api.admin("POST", "reset")
    assert status == 200 and body == {"succeed": True}
    assert sb.stats()["invoicesStored"] == 0 and sb.invoices() == []
    status, _, _ = await api.call("GET", f"/invoices/{fid}/status", v=2)
    assert status == 404


async def test_payload_is_not_mutated_by_validation(api: Api) -> None:
    original = invoice("IM-1")
    snapshot = copy.deepcopy(original)
    await api.create(original)
    assert original == snapshot


# --- routes and lifecycle -----------------------------------------------------------------------
IMPORT_TAILS = (
    "/content/summary",
    "/content",
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
    "/attachment/{attachmentId}",
    "/attachment/{attachmentId}/file",
)
"""The per-import routes, the same under /import/outgoing/{faktooraId} and the incoming prefixes."""

API_ROUTES = {
    ("POST", "/invoices"),
    ("GET", "/invoices"),
    ("GET", "/invoices/next-number"),
    ("GET", "/invoices/verify-number"),
    ("GET", "/settings/invoice-number-template"),
    ("PUT", "/settings/invoice-number-template"),
    ("GET", "/invoices/{faktooraId}"),
    ("DELETE", "/invoices/{faktooraId}"),
    ("GET", "/invoices/{faktooraId}/status"),
    ("GET", "/invoices/{faktooraId}/validation-report"),
    ("GET", "/import/outgoing"),
    ("POST", "/import/outgoing"),
    *(("GET", "/import/outgoing/{faktooraId}" + tail) for tail in IMPORT_TAILS),
    ("GET", "/webhooks"),
    ("POST", "/webhooks"),
    ("PATCH", "/webhooks/{webhookId}"),
    ("DELETE", "/webhooks/{webhookId}"),
    # issue 12: incoming invoices, new and legacy prefix (tests/test_sandbox_incoming.py)
    ("GET", "/import/incoming"),
    ("POST", "/import/incoming"),
    ("POST", "/import"),
    *(
        (method, base + tail)
        for base in ("/import/incoming/{importId}", "/import/{importId}")
        for method, tail in (
            ("GET", ""),
            ("PATCH", ""),
            *(("GET", tail) for tail in IMPORT_TAILS),
        )
    ),
    # issue 12: API keys (tests/test_sandbox_apikeys.py)
    ("GET", "/apikeys"),
    ("POST", "/apikeys"),
    ("PATCH", "/apikeys/{apiKeyId}"),
    ("DELETE", "/apikeys/{apiKeyId}"),
    ("POST", "/apikeys/{apiKeyId}/rotate"),
    ("POST", "/apikeys/{apiKeyId}/revoke"),
    # issue 12: customers (tests/test_sandbox_customers.py)
    ("GET", "/customers"),
    ("GET", "/customers/generate-number"),
    ("POST", "/customers/import/upload"),
    ("POST", "/customers/import"),
    ("POST", "/customer"),
    ("GET", "/customer/verify-customer-number"),
    ("GET", "/customer/{id}"),
    ("PATCH", "/customer/{id}"),
    ("DELETE", "/customer/{id}"),
    # issue 12: products (tests/test_sandbox_products.py)
    ("GET", "/products"),
    ("POST", "/product"),
    ("GET", "/product/valid-code"),
    ("GET", "/product/{id}"),
    ("PATCH", "/product/{id}"),
    ("DELETE", "/product/{id}"),
    # issue 12: projects (tests/test_sandbox_projects.py)
    ("GET", "/projects"),
    ("POST", "/project"),
    ("GET", "/project/{id}"),
    ("PATCH", "/project/{id}"),
    ("DELETE", "/project/{id}"),
    ("POST", "/project/{id}/document"),
    ("DELETE", "/project/{id}/document"),
}


async def test_every_api_route_is_served_under_v1_and_v2(sb: Sandbox) -> None:
    served: dict[str, set[tuple[str, str]]] = {"/api/v1": set(), "/api/v2": set()}
    for route in sb.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        for prefix, routes in served.items():
            if path.startswith(prefix + "/") and route.method != "HEAD":
                routes.add((route.method, path[len(prefix) :]))
    assert served["/api/v1"] == API_ROUTES
    assert served["/api/v2"] == API_ROUTES


async def test_v2_prefix_works_end_to_end(api: Api) -> None:
    status, body, _ = await api.call("POST", "/invoices", v=2, json={"invoices": [invoice("V2-1")]})
    assert status == 202
    fid = body[0]["faktooraId"]
    await api.wait_for(fid, lambda s: s["invoiceStatus"] == "created")
    status, xml, _ = await api.call(
        "GET", f"/invoices/{fid}", v=2, headers=api.headers(Accept="application/xml")
    )
    assert status == 200 and b"V2-1" in xml
    status, body, _ = await api.call("GET", "/invoices", v=2)
    assert status == 200 and body["meta"]["total"] == 1


async def test_close_cancels_jobs_and_deliveries_without_leaks(session: aiohttp.ClientSession) -> None:
    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response()

    app = web.Application()
    app.router.add_post("/slow", hang)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        sb = Sandbox(processing_delay=(0.0, 0.0))
        async with sb:
            api = Api(session, sb)
            target = f"http://127.0.0.1:{runner.addresses[0][1]}/slow"
            status, _, _ = await api.call(
                "POST", "/webhooks", json={"action": "invoiceCreate", "target": target}
            )
            assert status == 201
            await api.create(invoice("L-1"))
            async with Sandbox(processing_delay=(30, 30)) as other:
                await Api(session, other).create(invoice("L-2"))
                assert other.stats()["backgroundTasks"] == 1
            for _ in range(500):
                if sb.stats()["backgroundTasks"] == 1 and sb.invoices()[0]["status"] == "created":
                    break
                await asyncio.sleep(0.01)
            assert sb.stats()["backgroundTasks"] == 1  # the hanging webhook delivery
        assert sb.stats()["backgroundTasks"] == 0
    finally:
        await runner.cleanup()
    await asyncio.sleep(0)
    leftovers = [
        t for t in asyncio.all_tasks() if "faktoora_async/sandbox" in t.get_coro().cr_code.co_filename
    ]
    assert leftovers == []


async def test_category_o_needs_no_rate_but_others_do(api: Api) -> None:
    o_invoice = invoice("O-1")
    o_invoice["invoiceItems"][0]["product"]["taxes"] = [
        {
            "typeCode": "VAT",
            "categoryCode": "O",
            "exemptionReason": "Nicht steuerbar",
            "exemptionReasonCode": "VATEX-EU-O",
        }
    ]
    (fid,) = await api.create(o_invoice)
    st = await api.wait_for(fid, lambda s: s["jobStatus"] is None or s["jobStatus"] == "failed")
    assert st["invoiceStatus"] == "created"
    s_invoice = invoice("S-NO-RATE")
    s_invoice["invoiceItems"][0]["product"]["taxes"] = [{"typeCode": "VAT", "categoryCode": "S"}]
    status, body, _ = await api.call("POST", "/invoices", json={"invoices": [s_invoice]})
    assert status == 400
    assert [e["field"] for e in body["errors"]] == ["invoices[0].invoiceItems[0].product.taxes[0].rate"]
