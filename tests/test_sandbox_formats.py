"""API.md v2 invoice payload rows with raw HTTP against the sandbox: ``schema`` (XRechnung syntax)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from _sandbox_http import Api, assert_error, invoice
from lxml import etree

from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

CII_ROOT = "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}CrossIndustryInvoice"
UBL_ROOT = "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with Sandbox() as sb, aiohttp.ClientSession() as session:
        yield Api(session, sb)


async def xml_of(api: Api, fid: str) -> bytes:
    st = await api.ready(fid)
    assert st["jobStatus"] is None, st
    status, xml, headers = await api.call(
        "GET", f"/invoices/{fid}", headers=api.headers(Accept="application/xml")
    )
    assert status == 200 and headers["Content-Type"] == "application/xml"
    assert isinstance(xml, bytes)
    return xml


def good(schema: str | None, **extra: Any) -> dict[str, Any]:
    body = generate_invoice(4, seed=31, categories=["S"])
    body.pop("schema", None)
    body["format"] = "xrechnung"
    if schema is not None:
        body["schema"] = schema
    body.update(extra)
    return body


async def test_schema_selects_the_xrechnung_syntax(api: Api, schematron_validator: Any) -> None:
    plain, cii, ubl = await api.create(
        good(None, invoiceNumber="SC-1"), good("CII", invoiceNumber="SC-2"), good("UBL", invoiceNumber="SC-3")
    )
    for fid, root in ((plain, CII_ROOT), (cii, CII_ROOT), (ubl, UBL_ROOT)):
        xml = await xml_of(api, fid)
        assert etree.fromstring(xml).tag == root, fid
        report = schematron_validator.validate_bytes(xml)
        assert report["errors"] == [], (fid, report["errors"][:3])


async def test_bad_schema_values_are_400_naming_the_field(api: Api) -> None:
    cases = [
        (invoice("SB-1", schema="ubl"), "must be CII or UBL"),
        (invoice("SB-2", schema="XML"), "must be CII or UBL"),
        (invoice("SB-3", schema=3), "must be a string"),
        (invoice("SB-4", format="zf:2", schema="UBL"), "UBL needs format xrechnung"),
    ]
    for body, message in cases:
        status, answer, _ = await api.call("POST", "/invoices", json={"invoices": [body]})
        assert status == 400, body
        assert_error(answer, 400, "BAD_REQUEST")
        [error] = answer["errors"]
        assert error["field"] == "invoices[0].schema" and message in error["message"], error
    # ZUGFeRD with the (redundant) CII schema is fine
    (fid,) = await api.create(invoice("SB-6", format="zf:2", schema="CII"))
    assert etree.fromstring(await xml_of(api, fid)).tag == CII_ROOT
    assert api.sb.stats()["invoicesStored"] == 1


async def test_zugferd_1_is_a_400_saying_it_is_not_produced(api: Api) -> None:
    """API.md lists ``zf:1`` (legacy ZUGFeRD 1.0); the sandbox cannot make one, so it says so (issue 13)."""
    for extra in ({}, {"schema": "CII"}):
        status, answer, _ = await api.call(
            "POST", "/invoices", json={"invoices": [invoice("SB-ZF1", format="zf:1", **extra)]}
        )
        assert status == 400
        assert_error(answer, 400, "BAD_REQUEST")
        [error] = answer["errors"]
        assert error["field"] == "invoices[0].format", error
        assert "ZUGFeRD 1.0" in error["message"] and "not produced" in error["message"], error
    assert api.sb.stats()["invoicesStored"] == 0


async def test_format_xrechnung_ubl_is_gone(api: Api) -> None:
    status, body, _ = await api.call(
        "POST", "/invoices", json={"invoices": [invoice("XU-1", format="xrechnung:ubl")]}
    )
    assert status == 400
    assert_error(body, 400, "BAD_REQUEST")
    [error] = body["errors"]
    assert error["field"] == "invoices[0].format" and 'schema "UBL"' in error["message"]
    for bad in ("ubl", "XRECHNUNG", "zf:3"):
        status, body, _ = await api.call(
            "POST", "/invoices", json={"invoices": [invoice("XU-2", format=bad)]}
        )
        assert status == 400 and body["errors"][0]["field"] == "invoices[0].format", bad
        assert "xrechnung:ubl" not in body["errors"][0]["message"]
    assert api.sb.stats()["invoicesStored"] == 0


# --- seller optional: the company profile ------------------------------------------------------------------
def without_seller(number: str, **extra: Any) -> dict[str, Any]:
    body = good(extra.pop("schema", None), invoiceNumber=number, **extra)
    del body["seller"]
    return body


@pytest.mark.parametrize("schema", ["CII", "UBL"])
async def test_invoice_without_seller_uses_a_complete_profile(
    api: Api, schema: str, schematron_validator: Any
) -> None:
    body = without_seller(f"PR-{schema}", schema=schema)
    body["seller"] = None  # null is the same as absent
    (fid,) = await api.create(body)
    xml = await xml_of(api, fid)
    profile = api.sb.profile()
    assert profile["name"].encode() in xml and profile["iban"].encode() in xml
    assert profile["contactName"].encode() in xml and profile["phone"].encode() in xml
    report = schematron_validator.validate_bytes(xml)
    assert report["errors"] == [], report["errors"][:3]
    _, pdf, headers = await api.call("GET", f"/invoices/{fid}", headers=api.headers(Accept="application/pdf"))
    assert headers["Content-Type"] == "application/pdf" and pdf.startswith(b"%PDF")


async def test_profile_is_per_key_and_account(api: Api, schematron_validator: Any) -> None:
    headers = {"X-API-KEY": api.key, "x-account-id": "branch-7"}
    status, default = await api.admin("GET", "profile", headers=headers)
    assert status == 200 and default == api.sb.profile() and default["country"] == "DE"
    mine = {
        **default,
        "name": "Filiale Sieben GmbH",
        "city": "Köln",
        "postcode": "50667",
        "vatId": "DE811907980",
    }
    status, body = await api.admin("PUT", "profile", json=mine, headers=headers)
    assert status == 200 and body == mine
    assert api.sb.profile(account_id="branch-7") == mine
    assert api.sb.profile()["name"] == default["name"]  # the key's default tenant keeps its own
    branch = Api(api.s, api.sb, account="branch-7")
    (fid,) = await branch.create(without_seller("PR-B7"))
    xml = await xml_of(branch, fid)
    assert b"Filiale Sieben GmbH" in xml and "Köln".encode() in xml
    assert schematron_validator.validate_bytes(xml)["errors"] == []
    # a later profile change does not rewrite invoices made before it
    await api.admin("PUT", "profile", json={**mine, "name": "Umbenannt AG"}, headers=headers)
    _, again, _ = await branch.call(
        "GET", f"/invoices/{fid}", headers=branch.headers(Accept="application/xml")
    )
    assert again == xml


async def test_bad_profiles_are_400_naming_the_fields(api: Api) -> None:
    headers = {"X-API-KEY": api.key}
    complete = api.sb.profile()
    cases = [
        ({k: v for k, v in complete.items() if k != "phone"}, {"seller.phone"}),
        (
            {k: v for k, v in complete.items() if k not in ("contactName", "iban")},
            {"seller.contactName", "seller.iban"},
        ),
        ({**complete, "postcode": "1011"}, {"seller.postcode"}),
        ({**complete, "iban": "DE00370400440532013000"}, {"seller.iban"}),
        ({**complete, "color": "blue"}, {"seller.color"}),
        ({k: v for k, v in complete.items() if k != "vatId"}, {"seller.vatId"}),
        ("Muster GmbH", {"seller"}),
    ]
    for body, fields in cases:
        status, answer = await api.admin("PUT", "profile", json=body, headers=headers)
        assert status == 400, body
        assert_error(answer, 400, "BAD_REQUEST")
        assert {e["field"] for e in answer["errors"]} == fields, answer
    assert api.sb.profile() == complete
    with_tax_id = {**{k: v for k, v in complete.items() if k != "vatId"}, "taxId": "30/123/45678"}
    status, _ = await api.admin("PUT", "profile", json=with_tax_id, headers=headers)
    assert status == 200
    status, answer = await api.admin("GET", "profile", headers={"X-API-KEY": api.key, "x-account-id": "a b"})
    assert status == 400
    for bad_headers in ({}, {"X-API-KEY": "sk_test_unknown_key_0"}):
        status, answer = await api.admin("PUT", "profile", json=complete, headers=bad_headers)
        assert status == 401 and answer["code"] == "UNAUTHORIZED"
        status, answer = await api.admin("GET", "profile", headers=bad_headers)
        assert status == 401
    with pytest.raises(ValueError, match=r"seller\.phone"):
        api.sb.set_profile({k: v for k, v in complete.items() if k != "phone"})


async def test_a_given_seller_is_used_as_given(api: Api) -> None:
    (fid,) = await api.create(good(None, invoiceNumber="PR-OWN"))
    xml = await xml_of(api, fid)
    assert api.sb.profile()["name"].encode() not in xml


# --- PEPPOL delivery ----------------------------------------------------------------------------------------
async def test_peppol_delivery_is_sent_and_in_the_outbox(api: Api) -> None:
    delivery = {"type": "peppol", "recipient": "0204:04011000-12345-03"}
    (fid,) = await api.create(good(None, invoiceNumber="PP-1", delivery=delivery))
    st = await api.wait_for(fid, lambda s: s["invoiceStatus"] == "sent")
    assert st["delivery"] == [
        {"type": "peppol", "recipient": "0204:04011000-12345-03", "carbonCopy": None, "blindCarbonCopy": None}
    ]
    status, outbox = await api.admin("GET", "outbox")
    assert status == 200
    [entry] = outbox
    assert entry["type"] == "peppol" and entry["faktooraId"] == fid and entry["invoiceNumber"] == "PP-1"
    assert entry["to"] == "0204:04011000-12345-03" and entry["attachments"] == ["PP-1.xml"]
    assert entry["cc"] is None and entry["subject"] is None
    assert api.sb.outbox == outbox
    # e-mail entries carry their type too
    (mail,) = await api.create(
        good(None, invoiceNumber="PP-2", delivery={"type": "email", "recipient": "a@b.de"})
    )
    await api.wait_for(mail, lambda s: s["invoiceStatus"] == "sent")
    assert [e["type"] for e in api.sb.outbox] == ["peppol", "email"]


async def test_peppol_other_schemes_and_review_mode(api: Api) -> None:
    (fid,) = await api.create(
        good(
            None,
            invoiceNumber="PP-3",
            reviewMode=True,
            delivery={"type": "peppol", "recipient": "9930:DE123456789"},
        )
    )
    await api.wait_for(fid, lambda s: s["invoiceStatus"] == "review")
    assert api.sb.outbox == []
    st = await api.sb.approve(fid)
    assert st["invoiceStatus"] == "sent" and api.sb.outbox[0]["to"] == "9930:DE123456789"


async def test_bad_peppol_deliveries_are_400(api: Api) -> None:
    cases = [
        ({"type": "peppol"}, "invoices[0].delivery.recipient", "is required"),
        ({"type": "peppol", "recipient": "04011000-12345-03"}, "invoices[0].delivery.recipient", "<scheme>:"),
        ({"type": "peppol", "recipient": "0204:"}, "invoices[0].delivery.recipient", "<scheme>:"),
        ({"type": "peppol", "recipient": "1234:abc"}, "invoices[0].delivery.recipient", "not a CEF EAS code"),
        (
            {"type": "peppol", "recipient": "0204:not-a-leitweg"},
            "invoices[0].delivery.recipient",
            "Leitweg-ID",
        ),
        (
            {"type": "peppol", "recipient": "0204:04011000 12345 03"},
            "invoices[0].delivery.recipient",
            "<scheme>:",
        ),
        (
            {"type": "peppol", "recipient": "0204:04011000-12345-03", "carbonCopy": "a@b.de"},
            "invoices[0].delivery.carbonCopy",
            "must be null",
        ),
        ({"type": "fax", "recipient": "+4930"}, "invoices[0].delivery.type", "email or peppol"),
        ({"type": "peppol", "recipient": 204}, "invoices[0].delivery.recipient", "must be a string"),
    ]
    for delivery, field, message in cases:
        body = good(None, invoiceNumber="PP-BAD", delivery=delivery)
        status, answer, _ = await api.call("POST", "/invoices", json={"invoices": [body]})
        assert status == 400, delivery
        assert_error(answer, 400, "BAD_REQUEST")
        assert any(e["field"] == field and message in e["message"] for e in answer["errors"]), answer
    assert api.sb.stats()["invoicesStored"] == 0


# --- downloads without Accept -------------------------------------------------------------------------------
async def test_downloads_without_accept_are_the_pdf(api: Api) -> None:
    (fid,) = await api.create(good(None, invoiceNumber="NA/1"))
    await xml_of(api, fid)
    _, pdf, _ = await api.call("GET", f"/invoices/{fid}", headers=api.headers(Accept="application/pdf"))
    async with api.s.get(
        f"{api.sb.base_url}/invoices/{fid}", headers={"X-API-KEY": api.key}, skip_auto_headers=["Accept"]
    ) as resp:
        assert "Accept" not in resp.request_info.headers
        assert resp.status == 200 and resp.content_type == "application/pdf" and await resp.read() == pdf
    for accept in ("*/*", "application/*", "text/html, */*;q=0.1"):
        for path, params in ((f"/invoices/{fid}", {}), ("/invoices", {"invoiceNumber": "NA/1"})):
            status, body, headers = await api.call(
                "GET", path, params=params, headers=api.headers(Accept=accept)
            )
            assert status == 200 and headers["Content-Type"] == "application/pdf" and body == pdf, (
                accept,
                path,
            )
    async with api.s.get(
        f"{api.sb.base_url}/invoices",
        params={"invoiceNumber": "NA/1"},
        headers={"X-API-KEY": api.key},
        skip_auto_headers=["Accept"],
    ) as resp:
        assert resp.status == 200 and resp.content_type == "application/pdf" and await resp.read() == pdf
    status, body, _ = await api.call(
        "GET", "/invoices", params={"invoiceNumber": "nope"}, headers=api.headers(Accept="*/*")
    )
    assert status == 404
    assert_error(body, 404, "NOT_FOUND")
    # JSON asked for: the list; nothing named: the list without invoiceNumber
    status, body, _ = await api.call(
        "GET", "/invoices", params={"invoiceNumber": "NA/1"}, headers=api.headers(Accept="application/json")
    )
    assert status == 200 and body["meta"]["total"] == 1
    status, body, _ = await api.call("GET", "/invoices", headers=api.headers(Accept="*/*"))
    assert status == 200 and body["meta"]["total"] == 1
    status, body, _ = await api.call("GET", f"/invoices/{fid}", headers=api.headers(Accept="text/html"))
    assert status == 406
