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
        (invoice("SB-5", format="zf:1", schema="UBL"), "UBL needs format xrechnung"),
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
