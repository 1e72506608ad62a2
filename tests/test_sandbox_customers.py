"""Raw-HTTP tests of the sandbox's customers (API.md v2): CRUD, list filters, numbers, the CSV import."""

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


def customer(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "isCompany": True,
        "name": "Acme AG",
        "address": "Ring 5",
        "postcode": "80331",
        "city": "München",
        "extras": {},
    }
    body.update(extra)
    return {k: v for k, v in body.items() if v is not ...}


async def create(api: Api, **extra: Any) -> dict[str, Any]:
    status, body, _ = await api.call("POST", "/customer", json=customer(**extra))
    assert status == 201, body
    return dict(body)


async def listing(api: Api, query: str = "") -> dict[str, Any]:
    status, body, _ = await api.call("GET", "/customers" + query)
    assert status == 200, body
    return dict(body)


def fields_of(body: Any) -> list[str]:
    assert_error(body, 400, "BAD_REQUEST")
    return [e["field"] for e in body["errors"]]


# --- POST /customer, GET /customer/{id} ----------------------------------------------------------------
async def test_create_answers_the_customer_with_id_and_times(api: Api) -> None:
    made = await create(api, email="ap@acme.example", customerId="C-1", category="A", vatId="DE123456789")
    assert UUID.fullmatch(made["id"]) and made["createdAt"] == made["updatedAt"]
    assert made["country"] == "DE" and made["extras"] == {} and made["isCompany"] is True
    assert made["customerId"] == "C-1" and made["email"] == "ap@acme.example"
    status, body, _ = await api.call("GET", f"/customer/{made['id']}")
    assert status == 200 and body == made


@pytest.mark.parametrize("missing", ["isCompany", "address", "postcode", "city", "extras"])
async def test_create_without_a_required_field_is_400_naming_it(api: Api, missing: str) -> None:
    status, body, _ = await api.call("POST", "/customer", json=customer(**{missing: ...}))
    assert status == 400 and fields_of(body) == [missing]
    assert (await listing(api))["meta"]["total"] == 0


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"postcode": "8033"}, "postcode"),
        ({"postcode": "803311"}, "postcode"),
        ({"postcode": 80331}, "postcode"),
        ({"country": "AT", "postcode": "10101"}, "postcode"),
        ({"country": "CH", "postcode": "80"}, "postcode"),
        ({"country": "de"}, "country"),
        ({"isCompany": "yes"}, "isCompany"),
        ({"extras": []}, "extras"),
        ({"extras": None}, "extras"),
        ({"email": "not-an-email"}, "email"),
        ({"name": "x" * 256}, "name"),
        ({"peppolId": "no scheme"}, "peppolId"),
        ({"routeId": "abc"}, "routeId"),
        ({"vatId": "123"}, "vatId"),
        ({"phoneNo": "call me"}, "phoneNo"),
        ({"nickname": "Acme"}, "nickname"),
        ({"id": NO_SUCH}, "id"),
        ({"city": ""}, "city"),
    ],
)
async def test_create_400_names_the_field(api: Api, extra: dict[str, Any], field: str) -> None:
    status, body, _ = await api.call("POST", "/customer", json=customer(**extra))
    assert status == 400 and fields_of(body) == [field], body
    assert field in body["message"]


@pytest.mark.parametrize(
    ("country", "postcode"), [("DE", "01067"), ("AT", "1010"), ("CH", "8001"), ("NL", "1011 AB")]
)
async def test_postcode_rules_per_country_accept_valid_codes(api: Api, country: str, postcode: str) -> None:
    made = await create(api, country=country, postcode=postcode)
    assert made["postcode"] == postcode and made["country"] == country


async def test_create_needs_a_json_object(api: Api) -> None:
    status, body, _ = await api.call("POST", "/customer", json=[customer()])
    assert status == 400
    assert_error(body, 400, "BAD_REQUEST")


async def test_a_taken_customer_number_is_409(api: Api) -> None:
    await create(api, customerId="C-7")
    status, body, _ = await api.call("POST", "/customer", json=customer(customerId="C-7"))
    assert status == 409
    assert_error(body, 409, "DUPLICATE_CUSTOMER_NUMBER")
    assert body["errors"][0]["field"] == "customerId"


@pytest.mark.parametrize("cid", [NO_SUCH, "nope"])
async def test_unknown_customer_is_404_on_get_patch_delete(api: Api, cid: str) -> None:
    for method, body in (("GET", None), ("PATCH", customer()), ("DELETE", None)):
        status, answer, _ = await api.call(method, f"/customer/{cid}", json=body)
        assert status == 404, (method, answer)
        assert_error(answer, 404, "NOT_FOUND")


# --- PATCH, DELETE -------------------------------------------------------------------------------------
async def test_patch_needs_every_required_field_keeps_omitted_optional_ones_and_null_clears(api: Api) -> None:
    made = await create(api, email="ap@acme.example", category="A", customerId="C-1")
    path = f"/customer/{made['id']}"
    status, body, _ = await api.call("PATCH", path, json={"city": "Berlin"})
    assert status == 400 and sorted(fields_of(body)) == ["address", "extras", "isCompany", "postcode"]
    status, body, _ = await api.call(
        "PATCH", path, json=customer(city="Berlin", postcode="10115", category=None)
    )
    assert status == 200
    assert body["city"] == "Berlin" and body["email"] == "ap@acme.example" and body["customerId"] == "C-1"
    assert "category" not in body and body["id"] == made["id"] and body["createdAt"] == made["createdAt"]
    status, again, _ = await api.call("GET", path)
    assert again == body


async def test_patch_to_a_taken_customer_number_is_409_and_to_its_own_is_fine(api: Api) -> None:
    await create(api, customerId="C-1")
    second = await create(api, customerId="C-2")
    path = f"/customer/{second['id']}"
    status, body, _ = await api.call("PATCH", path, json=customer(customerId="C-1"))
    assert status == 409 and body["code"] == "DUPLICATE_CUSTOMER_NUMBER"
    status, body, _ = await api.call("PATCH", path, json=customer(customerId="C-2", name="Renamed"))
    assert status == 200 and body["name"] == "Renamed"


async def test_delete_answers_succeed_and_the_customer_is_gone(api: Api) -> None:
    made = await create(api)
    status, body, _ = await api.call("DELETE", f"/customer/{made['id']}")
    assert status == 200 and body == {"succeed": True}
    assert (await api.call("GET", f"/customer/{made['id']}"))[0] == 404
    assert (await listing(api))["meta"]["total"] == 0


# --- GET /customers ------------------------------------------------------------------------------------
async def test_list_pages_sorts_and_orders(api: Api) -> None:
    for i, name in enumerate(["Delta", "alpha", "Charlie", "bravo"]):
        await create(api, name=name, customerId=f"C-{i}", isCompany=i % 2 == 0)
    body = await listing(api, "?sort=name&order=asc&perPage=3")
    assert [c["name"] for c in body["data"]] == ["alpha", "bravo", "Charlie"]
    assert body["meta"] == {"page": 1, "perPage": 3, "total": 4, "totalPages": 2}
    body = await listing(api, "?sort=name&order=asc&perPage=3&page=2")
    assert [c["name"] for c in body["data"]] == ["Delta"]
    body = await listing(api, "?sort=name&order=desc")
    assert [c["name"] for c in body["data"]] == ["Delta", "Charlie", "bravo", "alpha"]
    body = await listing(api)
    assert [c["name"] for c in body["data"]] == ["Delta", "alpha", "Charlie", "bravo"]  # createdAt asc
    body = await listing(api, "?sort=isCompany&order=desc")
    assert [c["isCompany"] for c in body["data"]] == [True, True, False, False]


async def test_list_filters_by_category_and_keywords_in_relation_fields(api: Api) -> None:
    await create(api, name="Acme Berlin", city="Berlin", category="A", email="a@acme.example")
    await create(api, name="Acme Hamburg", city="Hamburg", category="B")
    await create(api, name="Globex", city="Berlin", category="A")
    names = lambda body: sorted(c["name"] for c in body["data"])  # noqa: E731
    assert names(await listing(api, "?category=A")) == ["Acme Berlin", "Globex"]
    assert names(await listing(api, "?keywords[]=acme")) == ["Acme Berlin", "Acme Hamburg"]
    assert names(await listing(api, "?keywords[]=acme&keywords[]=berlin")) == ["Acme Berlin"]
    assert names(await listing(api, "?keywords[]=berlin&relationFields[]=name")) == ["Acme Berlin"]
    assert names(await listing(api, "?keywords[]=berlin&relationFields[]=city")) == ["Acme Berlin", "Globex"]
    assert names(await listing(api, "?keywords=ACME&category=B")) == ["Acme Hamburg"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?sort=colour", "sort"),
        ("?order=up", "order"),
        ("?page=0", "page"),
        ("?perPage=x", "perPage"),
        ("?relationFields[]=password", "relationFields[0]"),
    ],
)
async def test_list_400_names_the_query_parameter(api: Api, query: str, field: str) -> None:
    status, body, _ = await api.call("GET", "/customers" + query)
    assert status == 400 and fields_of(body) == [field]


# --- numbers -------------------------------------------------------------------------------------------
async def test_generate_number_previews_the_next_free_and_verify_tells_free_from_taken(api: Api) -> None:
    status, body, _ = await api.call("GET", "/customers/generate-number")
    assert status == 200 and body == {"value": "CUST-0001"}
    await create(api, customerId="CUST-0041")
    status, body, _ = await api.call("GET", "/customers/generate-number")
    assert body == {"value": "CUST-0042"}
    status, body, _ = await api.call("GET", "/customers/generate-number")
    assert body == {"value": "CUST-0042"}  # a preview allocates nothing
    status, body, _ = await api.call("GET", "/customer/verify-customer-number?customerId=CUST-0041")
    assert status == 200 and body == {"succeed": False}
    status, body, _ = await api.call("GET", "/customer/verify-customer-number?customerId=CUST-0042")
    assert status == 200 and body == {"succeed": True}
    status, body, _ = await api.call("GET", "/customer/verify-customer-number")
    assert status == 400 and fields_of(body) == ["customerId"]


# --- CSV import ----------------------------------------------------------------------------------------
HEADER = "isCompany,name,address,postcode,city,country,customerId,email,extras"


def csv_text(rows: int, bad: int | None = None) -> str:
    lines = [HEADER]
    for n in range(1, rows + 1):
        postcode = "1011" if n == bad else f"{10000 + n % 89999:05d}"
        lines.append(
            f'true,Firma {n},Weg {n},{postcode},Berlin,DE,K-{n:05d},k{n}@example.com,"{{""n"": {n}}}"'
        )
    return "\n".join(lines) + "\n"


async def upload(api: Api, text: str | bytes, filename: str = "customers.csv") -> tuple[int, Any]:
    form = aiohttp.FormData()
    form.add_field("file", text.encode() if isinstance(text, str) else text, filename=filename)
    status, body, _ = await api.call("POST", "/customers/import/upload", data=form)
    return status, body


async def import_file(api: Api, file_id: str) -> tuple[int, Any]:
    status, body, _ = await api.call("POST", "/customers/import", json={"fileId": file_id})
    return status, body


async def test_a_1000_row_csv_imports_in_one_call(api: Api) -> None:
    status, body = await upload(api, csv_text(1000))
    assert status == 201 and set(body) == {"id"} and UUID.fullmatch(body["id"])
    status, created = await import_file(api, body["id"])
    assert status == 201 and isinstance(created, list) and len(created) == 1000
    assert created[516]["name"] == "Firma 517" and created[516]["extras"] == {"n": 517}
    assert (await listing(api))["meta"]["total"] == 1000
    status, replay = await import_file(api, body["id"])
    assert status == 201 and [c["id"] for c in replay] == [c["id"] for c in created]
    assert (await listing(api))["meta"]["total"] == 1000  # the replay created nothing


async def test_a_csv_with_a_bad_row_517_creates_nothing_and_names_row_517(api: Api) -> None:
    status, body = await upload(api, csv_text(1000, bad=517))
    assert status == 201
    status, answer = await import_file(api, body["id"])
    assert status == 400
    assert_error(answer, 400, "BAD_REQUEST")
    assert answer["errors"] == [
        {"index": 516, "row": 517, "field": "postcode", "message": answer["errors"][0]["message"]}
    ]
    assert "row 517" in answer["message"] and "row 517" in answer["errors"][0]["message"]
    assert (await listing(api))["meta"]["total"] == 0


async def test_csv_rows_clashing_on_customer_numbers_are_bad_rows(api: Api) -> None:
    await create(api, customerId="K-00002")
    text = csv_text(3).replace("K-00003", "K-00001")
    status, body = await upload(api, text)
    status, answer = await import_file(api, body["id"])
    assert status == 400
    assert [(e["row"], e["field"]) for e in answer["errors"]] == [(2, "customerId"), (3, "customerId")]
    assert (await listing(api))["meta"]["total"] == 1


async def test_csv_with_semicolons_bom_and_blank_lines_and_cell_errors(api: Api) -> None:
    text = (
        "\ufeffisCompany;address;postcode;city;extras;name\n"
        "ja;Weg 1;10115;Berlin;;A\n\n0;Weg 2;1011;Wien;[];B\n"
    )
    status, body = await upload(api, text)
    assert status == 201
    status, answer = await import_file(api, body["id"])
    assert status == 400
    assert [(e["row"], e["field"]) for e in answer["errors"]] == [
        (1, "isCompany"),
        (2, "extras"),
        (2, "postcode"),
    ]
    status, body = await upload(
        api, "isCompany;address;postcode;city;extras\nno;Weg 1;10115;Berlin;\n\nyes;W;10117;B;\n"
    )
    status, created = await import_file(api, body["id"])
    assert status == 201 and [c["isCompany"] for c in created] == [False, True]
    assert created[0]["extras"] == {}


async def test_a_row_with_the_wrong_number_of_cells_is_named(api: Api) -> None:
    status, body = await upload(api, HEADER + "\ntrue,A,W,10115,Berlin\n")
    status, answer = await import_file(api, body["id"])
    assert status == 400 and answer["errors"][0]["row"] == 1 and answer["errors"][0]["field"] == "row"


@pytest.mark.parametrize(
    ("content", "fields"),
    [
        ("isCompany,address,postcode,city,extras,colour\n", ["colour"]),
        ("isCompany,address,postcode,city\n", ["extras"]),
        ("isCompany,address,address,postcode,city,extras\n", ["address"]),
        ("", ["file"]),
        (b"isCompany,address,postcode,city,extras\n\xff\xfe,x\n", ["file"]),
    ],
)
async def test_upload_400_names_the_column_or_the_file(
    api: Api, content: str | bytes, fields: list[str]
) -> None:
    status, body = await upload(api, content)
    assert status == 400 and fields_of(body) == fields


async def test_upload_needs_multipart_with_a_file_field(api: Api) -> None:
    status, body, _ = await api.call("POST", "/customers/import/upload", json={"file": "x"})
    assert status == 415
    form = aiohttp.FormData()
    form.add_field("other", b"x", filename="a.csv")
    status, body, _ = await api.call("POST", "/customers/import/upload", data=form)
    assert status == 400 and fields_of(body) == ["file"]


async def test_import_400_and_404(api: Api) -> None:
    status, body, _ = await api.call("POST", "/customers/import", json={})
    assert status == 400 and fields_of(body) == ["fileId"]
    status, body, _ = await api.call("POST", "/customers/import", json={"fileId": 5})
    assert status == 400 and fields_of(body) == ["fileId"]
    status, body = await import_file(api, NO_SUCH)
    assert status == 404
    assert_error(body, 404, "NOT_FOUND")


async def test_uploads_belong_to_their_tenant(api: Api, session: aiohttp.ClientSession, sb: Sandbox) -> None:
    status, body = await upload(api, csv_text(2))
    other = Api(session, sb, account="tenant-2")
    status, _ = await import_file(other, body["id"])
    assert status == 404
