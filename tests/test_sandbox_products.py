"""Raw-HTTP tests of the sandbox's products (API.md v2): CRUD, field rules, list filters, valid-code."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from _sandbox_http import Api, assert_error

from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NO_SUCH = "00000000-0000-4000-8000-000000000000"


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


def product(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Beratung", "unit": "HUR", "tax": 19}
    body.update(extra)
    return {k: v for k, v in body.items() if v is not ...}


async def create(api: Api, **extra: Any) -> dict[str, Any]:
    status, body, _ = await api.call("POST", "/product", json=product(**extra))
    assert status == 201, body
    return dict(body)


async def names(api: Api, query: str = "") -> list[str]:
    status, body, _ = await api.call("GET", "/products" + query)
    assert status == 200, body
    return [p["name"] for p in body["data"]]


def fields_of(body: Any) -> list[str]:
    assert_error(body, 400, "BAD_REQUEST")
    return [e["field"] for e in body["errors"]]


async def test_create_with_every_optional_field_answers_it_with_id_and_times(api: Api) -> None:
    made = await create(
        api,
        code="P-1",
        description="Stundensatz",
        price="120.50",
        cost=80,
        inventoryCount=-3,
        time=60,
        estimate="1.5",
        buyerAssignedID="B-77",
        globalID={"id": "4012345000009", "schemeId": "0160"},
        additionalReferencedDocument={"id": "DOC-1", "description": "Datenblatt"},
        tax=7.5,
    )
    assert UUID.fullmatch(made["id"]) and made["createdAt"] == made["updatedAt"]
    assert made["price"] == "120.50" and made["cost"] == 80 and made["tax"] == "7.5"
    assert made["estimate"] == "1.5" and made["inventoryCount"] == -3
    assert made["globalID"] == {"id": "4012345000009", "schemeId": "0160"}
    status, body, _ = await api.call("GET", f"/product/{made['id']}")
    assert status == 200 and body == made


@pytest.mark.parametrize("missing", ["name", "unit", "tax"])
async def test_create_without_a_required_field_is_400_naming_it(api: Api, missing: str) -> None:
    status, body, _ = await api.call("POST", "/product", json=product(**{missing: ...}))
    assert status == 400 and fields_of(body) == [missing]
    assert await names(api) == []


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"name": "Kaffee \u2615"}, "name"),
        ({"name": "Party \U0001f389"}, "name"),
        ({"name": "Flagge \U0001f1e9\U0001f1ea"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"unit": "QQQ"}, "unit"),
        ({"unit": "hur"}, "unit"),
        ({"tax": 101}, "tax"),
        ({"tax": -1}, "tax"),
        ({"tax": "19.555"}, "tax"),
        ({"tax": "neunzehn"}, "tax"),
        ({"tax": None}, "tax"),
        ({"price": "1,50"}, "price"),
        ({"cost": -1}, "cost"),
        ({"inventoryCount": 1.5}, "inventoryCount"),
        ({"globalID": {"id": "4012345000009"}}, "globalID.schemeId"),
        ({"globalID": {"id": "4012345000009", "schemeId": "GTIN"}}, "globalID.schemeId"),
        ({"globalID": "4012345000009"}, "globalID"),
        ({"additionalReferencedDocument": {"description": "x"}}, "additionalReferencedDocument.id"),
        ({"colour": "blue"}, "colour"),
        ({"id": NO_SUCH}, "id"),
    ],
)
async def test_create_400_names_the_field(api: Api, extra: dict[str, Any], field: str) -> None:
    status, body, _ = await api.call("POST", "/product", json=product(**extra))
    assert status == 400 and fields_of(body) == [field], body


@pytest.mark.parametrize("name", ["Widget\u2122", "Rohr \u2300 20 mm", "Größe \u00bd", "Stück → Paket"])
async def test_names_with_symbols_that_are_not_emoji_are_fine(api: Api, name: str) -> None:
    assert (await create(api, name=name))["name"] == name


async def test_a_taken_code_is_409_and_valid_code_tells_free_from_taken(api: Api) -> None:
    made = await create(api, code="P-1")
    status, body, _ = await api.call("POST", "/product", json=product(code="P-1"))
    assert status == 409
    assert_error(body, 409, "DUPLICATE_PRODUCT_CODE")
    assert body["errors"][0]["field"] == "code"
    status, body, _ = await api.call("GET", "/product/valid-code?code=P-1")
    assert status == 200 and body == {"succeed": False}
    status, body, _ = await api.call("GET", "/product/valid-code?code=P-2")
    assert status == 200 and body == {"succeed": True}
    status, body, _ = await api.call("GET", "/product/valid-code")
    assert status == 400 and fields_of(body) == ["code"]
    status, body, _ = await api.call("PATCH", f"/product/{made['id']}", json={"code": "P-1", "price": 5})
    assert status == 200 and body["price"] == 5


async def test_patch_is_partial_and_null_clears_an_optional_field(api: Api) -> None:
    made = await create(api, code="P-1", description="alt")
    path = f"/product/{made['id']}"
    status, body, _ = await api.call("PATCH", path, json={"name": "Neu", "description": None})
    assert status == 200 and body["name"] == "Neu" and "description" not in body
    assert body["code"] == "P-1" and body["unit"] == "HUR" and body["createdAt"] == made["createdAt"]
    for patch, field in (({}, "name"), ({"unit": None}, "unit"), ({"name": "\U0001f600"}, "name")):
        status, answer, _ = await api.call("PATCH", path, json=patch)
        assert status == 400 and fields_of(answer) == [field]
    await create(api, code="P-2")
    status, answer, _ = await api.call("PATCH", path, json={"code": "P-2"})
    assert status == 409 and answer["code"] == "DUPLICATE_PRODUCT_CODE"


@pytest.mark.parametrize("pid", [NO_SUCH, "P-1"])
async def test_unknown_product_is_404(api: Api, pid: str) -> None:
    for method, body in (("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)):
        status, answer, _ = await api.call(method, f"/product/{pid}", json=body)
        assert status == 404, (method, answer)
        assert_error(answer, 404, "NOT_FOUND")


async def test_delete_answers_succeed(api: Api) -> None:
    made = await create(api)
    status, body, _ = await api.call("DELETE", f"/product/{made['id']}")
    assert status == 200 and body == {"succeed": True}
    assert (await api.call("GET", f"/product/{made['id']}"))[0] == 404


async def test_list_sorts_filters_by_keyword_and_code_and_pages(api: Api) -> None:
    await create(api, name="Beratung", code="B-1", price="100", tax=19)
    await create(api, name="Anfahrt", code="A-1", price="9.5", tax=7, description="Pauschale Beratung")
    await create(api, name="Cloud", code="C-1", price=20, tax=19, unit="C62")
    assert await names(api) == ["Beratung", "Anfahrt", "Cloud"]
    assert await names(api, "?sort=name") == ["Anfahrt", "Beratung", "Cloud"]
    assert await names(api, "?sort=price&order=desc") == ["Beratung", "Cloud", "Anfahrt"]
    assert await names(api, "?sort=tax&order=asc") == ["Anfahrt", "Beratung", "Cloud"]
    assert await names(api, "?keyword=beratung") == ["Beratung", "Anfahrt"]
    assert await names(api, "?code=C-1") == ["Cloud"]
    status, body, _ = await api.call("GET", "/products?perPage=2&page=2")
    assert [p["name"] for p in body["data"]] == ["Cloud"] and body["meta"]["totalPages"] == 2
    for query, field in (("?sort=weight", "sort"), ("?order=sideways", "order"), ("?page=x", "page")):
        status, body, _ = await api.call("GET", "/products" + query)
        assert status == 400 and fields_of(body) == [field]


async def test_products_belong_to_their_tenant(api: Api, session: aiohttp.ClientSession, sb: Sandbox) -> None:
    made = await create(api)
    other = Api(session, sb, account="tenant-2")
    assert (await other.call("GET", f"/product/{made['id']}"))[0] == 404
    assert await names(other) == []
