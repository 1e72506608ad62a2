"""Raw-HTTP tests of the sandbox's projects (API.md v2): CRUD, list filters, attach/detach documents."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from _sandbox_http import Api, assert_error, invoice

from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NO_SUCH = "00000000-0000-4000-8000-000000000000"
DOC_KEYS = {"invoiceId", "invoiceIncomingId", "offerId", "letterId", "reminderId", "orderConfirmationId"}


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


async def create(api: Api, **body: Any) -> dict[str, Any]:
    status, answer, _ = await api.call("POST", "/project", json={"name": "Umbau", **body})
    assert status == 201, answer
    return dict(answer)


async def customer(api: Api, name: str = "Acme AG") -> str:
    body = {
        "isCompany": True,
        "name": name,
        "address": "Ring 5",
        "postcode": "80331",
        "city": "M",
        "extras": {},
    }
    status, answer, _ = await api.call("POST", "/customer", json=body)
    assert status == 201, answer
    return str(answer["id"])


async def names(api: Api, query: str = "") -> list[str]:
    status, body, _ = await api.call("GET", "/projects" + query)
    assert status == 200, body
    return [p["name"] for p in body["data"]]


def fields_of(body: Any) -> list[str]:
    assert_error(body, 400, "BAD_REQUEST")
    return [e["field"] for e in body["errors"]]


async def test_create_answers_the_project_with_customer_and_no_document(api: Api) -> None:
    cid = await customer(api)
    made = await create(
        api,
        description="Küche",
        place="Berlin",
        eta="2026-03-01",
        estMinutes=480,
        currency="EUR",
        customerId=cid,
    )
    assert UUID.fullmatch(made["id"]) and made["status"] == "active"
    assert made["customer"] == {"id": cid, "name": "Acme AG"} and made["document"] is None
    assert made["eta"] == "2026-03-01" and made["estMinutes"] == 480
    status, body, _ = await api.call("GET", f"/project/{made['id']}")
    assert status == 200 and body == made
    later = await create(api, eta="2026-03-01T10:00:00+01:00", status="paused")
    assert later["eta"] == "2026-03-01T09:00:00.000Z" and later["customer"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"status": "done"}, "status"),
        ({"estMinutes": -5}, "estMinutes"),
        ({"estMinutes": "60"}, "estMinutes"),
        ({"currency": "euro"}, "currency"),
        ({"eta": "next week"}, "eta"),
        ({"customerId": NO_SUCH}, "customerId"),
        ({"document": {"invoiceId": "F1"}}, "document"),
        ({"budget": 5}, "budget"),
    ],
)
async def test_create_400_names_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    status, answer, _ = await api.call("POST", "/project", json={"name": "Umbau", **body})
    assert status == 400 and fields_of(answer) == [field], answer
    assert await names(api) == []


async def test_name_is_required_and_255_is_the_limit(api: Api) -> None:
    status, answer, _ = await api.call("POST", "/project", json={})
    assert status == 400 and fields_of(answer) == ["name"]
    assert (await create(api, name="x" * 255))["name"] == "x" * 255


async def test_patch_is_partial_null_clears_and_unknown_ids_are_404(api: Api) -> None:
    made = await create(api, place="Berlin", description="alt")
    path = f"/project/{made['id']}"
    status, body, _ = await api.call("PATCH", path, json={"status": "closed", "place": None})
    assert status == 200 and body["status"] == "closed" and "place" not in body
    assert body["description"] == "alt" and body["createdAt"] == made["createdAt"]
    for patch, field in (({}, "name"), ({"name": None}, "name"), ({"status": "gone"}, "status")):
        status, answer, _ = await api.call("PATCH", path, json=patch)
        assert status == 400 and fields_of(answer) == [field]
    for pid in (NO_SUCH, "nope"):
        for method, body in (("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)):
            status, answer, _ = await api.call(method, f"/project/{pid}", json=body)
            assert status == 404 and answer["code"] == "NOT_FOUND"
        for method in ("POST", "DELETE"):
            status, answer, _ = await api.call(
                method, f"/project/{pid}/document", json={"documentId": "X", "documentType": "offer"}
            )
            assert status == 404 and answer["code"] == "NOT_FOUND"


async def test_delete_answers_succeed_and_frees_its_document(api: Api) -> None:
    made = await create(api)
    doc = {"documentId": "OFFER-1", "documentType": "offer"}
    assert (await api.call("POST", f"/project/{made['id']}/document", json=doc))[0] == 201
    status, body, _ = await api.call("DELETE", f"/project/{made['id']}")
    assert status == 200 and body == {"succeed": True}
    assert (await api.call("GET", f"/project/{made['id']}"))[0] == 404
    other = await create(api, name="Zweites")
    assert (await api.call("POST", f"/project/{other['id']}/document", json=doc))[0] == 201


async def test_list_filters_keyword_repeated_status_and_customer_and_sorts(api: Api) -> None:
    c1, c2 = await customer(api, "A"), await customer(api, "B")
    await create(api, name="Bad", status="active", customerId=c1, estMinutes=30)
    await create(api, name="Dach", status="paused", customerId=c2, estMinutes=10, place="Berlin-Bad")
    await create(api, name="Küche", status="closed", estMinutes=20)
    assert await names(api) == ["Bad", "Dach", "Küche"]
    assert await names(api, "?status=active&status=paused") == ["Bad", "Dach"]
    assert await names(api, "?status=closed") == ["Küche"]
    assert await names(api, f"?customerId={c1}&customerId={c2}") == ["Bad", "Dach"]
    assert await names(api, f"?customerId={c2}") == ["Dach"]
    assert await names(api, "?keyword=bad") == ["Bad", "Dach"]
    assert await names(api, "?sort=estMinutes&order=desc") == ["Bad", "Küche", "Dach"]
    assert await names(api, "?sort=name&order=desc") == ["Küche", "Dach", "Bad"]
    for query, field in (("?status=done", "status"), ("?sort=budget", "sort"), ("?order=x", "order")):
        status, body, _ = await api.call("GET", "/projects" + query)
        assert status == 400 and fields_of(body) == [field]


async def test_attach_and_detach_an_invoice_one_document_per_project_one_project_per_document(
    api: Api,
) -> None:
    fid = (await api.create(invoice("P-1")))[0]
    first, second = await create(api, name="Eins"), await create(api, name="Zwei")
    doc = {"documentId": fid, "documentType": "invoice"}
    status, body, _ = await api.call("POST", f"/project/{first['id']}/document", json=doc)
    assert status == 201 and set(body["document"]) == DOC_KEYS
    assert body["document"]["invoiceId"] == fid
    assert [k for k, v in body["document"].items() if v is not None] == ["invoiceId"]
    status, again, _ = await api.call("POST", f"/project/{first['id']}/document", json=doc)
    assert status == 201 and again["document"] == body["document"]  # the same document again: unchanged
    status, answer, _ = await api.call("POST", f"/project/{second['id']}/document", json=doc)
    assert status == 409 and answer["code"] == "DOCUMENT_IN_PROJECT"
    other = {"documentId": "LETTER-9", "documentType": "letter"}
    status, answer, _ = await api.call("POST", f"/project/{first['id']}/document", json=other)
    assert status == 409 and answer["code"] == "PROJECT_HAS_DOCUMENT"
    status, answer, _ = await api.call("DELETE", f"/project/{first['id']}/document", json=other)
    assert status == 404  # not the attached one
    status, body, _ = await api.call("DELETE", f"/project/{first['id']}/document", json=doc)
    assert status == 200 and body["document"] is None
    status, answer, _ = await api.call("DELETE", f"/project/{first['id']}/document")
    assert status == 404 and answer["code"] == "NOT_FOUND"
    status, body, _ = await api.call("POST", f"/project/{second['id']}/document", json=doc)
    assert status == 201 and body["document"]["invoiceId"] == fid
    status, body, _ = await api.call("DELETE", f"/project/{second['id']}/document")  # body optional
    assert status == 200 and body["document"] is None


@pytest.mark.parametrize(
    ("doc", "fields"),
    [
        ({"documentId": "FNOSUCH1", "documentType": "invoice"}, ["documentId"]),
        ({"documentId": "IMPNOSUCH", "documentType": "invoiceIncoming"}, ["documentId"]),
        ({"documentId": "X-1", "documentType": "receipt"}, ["documentType"]),
        ({"documentType": "offer"}, ["documentId"]),
        ({"documentId": "X-1"}, ["documentType"]),
        ({"documentId": "X-1", "documentType": "offer", "extra": 1}, ["extra"]),
    ],
)
async def test_attach_400_names_the_field(api: Api, doc: dict[str, Any], fields: list[str]) -> None:
    made = await create(api)
    status, body, _ = await api.call("POST", f"/project/{made['id']}/document", json=doc)
    assert status == 400 and fields_of(body) == fields
