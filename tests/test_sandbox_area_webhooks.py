"""The sandbox fires customerCreate, productCreate and invoiceIncomingCreate (raw HTTP, a real receiver)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from _sandbox_http import Api, invoice, receiver

from faktoora_async.einvoice.cii import render_cii
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

BODY_KEYS = {"action", "faktooraId", "status", "timestamp", "metadata"}


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session, Sandbox() as sb:
        yield Api(session, sb)


async def subscribe(api: Api, action: str, target: str) -> None:
    status, body, _ = await api.call("POST", "/webhooks", json={"action": action, "target": target})
    assert status == 201, body


def of(bodies: list[Any], action: str) -> list[dict[str, Any]]:
    return [b for b in bodies if b["action"] == action]


async def test_customer_create_fires_for_post_and_for_every_csv_row(api: Api) -> None:
    async with receiver() as rec:
        await subscribe(api, "customerCreate", rec.url)
        await subscribe(api, "productCreate", rec.url)  # must not see customers
        customer = {
            "isCompany": False,
            "firstName": "Eva",
            "address": "W 1",
            "postcode": "1010",
            "country": "AT",
            "city": "Wien",
            "extras": {"k": 1},
        }
        status, made, _ = await api.call("POST", "/customer", json=customer)
        assert status == 201
        await rec.wait(lambda b: len(b) == 1)
        (body,) = rec.bodies
        assert set(body) == BODY_KEYS and body["action"] == "customerCreate"
        assert body["faktooraId"] == made["id"] and body["status"] == "created" and body["metadata"] == made
        form = aiohttp.FormData()
        csv = "isCompany,name,address,postcode,city,extras\ntrue,A,W,10115,B,\ntrue,B,W,10115,B,\n"
        form.add_field("file", io.BytesIO(csv.encode()), filename="c.csv")
        status, upload, _ = await api.call("POST", "/customers/import/upload", data=form)
        status, created, _ = await api.call("POST", "/customers/import", json={"fileId": upload["id"]})
        assert status == 201
        await rec.wait(lambda b: len(b) == 3)
        assert sorted(b["faktooraId"] for b in rec.bodies[1:]) == sorted(c["id"] for c in created)
        status, _, _ = await api.call("POST", "/customers/import", json={"fileId": upload["id"]})
        assert status == 201  # a replay creates nothing, so it fires nothing
        bad = {**customer, "postcode": "10115"}
        assert (await api.call("POST", "/customer", json=bad))[0] == 400
        await api.call("GET", "/customers")
        assert len(of(rec.bodies, "customerCreate")) == 3 and of(rec.bodies, "productCreate") == []


async def test_product_create_fires_with_the_product(api: Api) -> None:
    async with receiver() as rec:
        await subscribe(api, "productCreate", rec.url)
        status, made, _ = await api.call("POST", "/product", json={"name": "Tee", "unit": "H87", "tax": 7})
        assert status == 201
        await rec.wait(lambda b: len(b) == 1)
        (body,) = rec.bodies
        assert body["action"] == "productCreate" and body["faktooraId"] == made["id"]
        assert body["metadata"] == made and body["status"] == "created"


async def test_invoice_incoming_create_fires_once_the_import_is_checked(api: Api) -> None:
    async with receiver() as rec:
        await subscribe(api, "invoiceIncomingCreate", rec.url)
        payload = invoice("IN-W-1")
        payload["seller"].update(contactName="Erika Mustermann", phone="+49 30 1234567")
        form = aiohttp.FormData()
        form.add_field("file", io.BytesIO(bytes(render_cii(payload))), filename="in.xml")
        status, answer, _ = await api.call("POST", "/import", data=form)
        assert status == 202
        await rec.wait(lambda b: len(b) == 1)
        (body,) = rec.bodies
        assert set(body) == BODY_KEYS and body["action"] == "invoiceIncomingCreate"
        assert body["faktooraId"] == answer["importId"] and body["status"] == "accepted"
        status, record, _ = await api.call("GET", f"/import/incoming/{answer['importId']}")
        assert body["metadata"] == record and record["invoiceNumber"] == "IN-W-1"
