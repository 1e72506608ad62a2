"""``client.customers`` against the sandbox: CRUD, the full-body PATCH rule, list filters, numbers, and
the CSV import (1,000 rows in one call; a bad row 517 creates nothing and is named)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from faktoora_async import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FaktooraClient,
    FieldValidationError,
    NotFoundError,
)
from faktoora_async.models import Customer, CustomerInput
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

MISSING = "00000000-0000-4000-8000-000000000000"
ACME = {
    "is_company": True,
    "name": "ACME GmbH",
    "address": "Hauptstr. 1",
    "postcode": "10115",
    "city": "Berlin",
}


@pytest.fixture
async def client() -> AsyncIterator[FaktooraClient]:
    async with Sandbox() as sb, FaktooraClient(sb.api_key, base_url=sb.base_url) as c:
        yield c


def customer_csv(rows: int, *, bad_row: int | None = None) -> bytes:
    lines = ["isCompany,name,address,postcode,city,customerId,email,extras"]
    for i in range(1, rows + 1):
        postcode = "5170" if i == bad_row else f"{10000 + i:05d}"
        lines.append(
            f'yes,Firma {i},Weg {i},{postcode},Berlin,C-{i:05d},info{i}@firma.example,"{{""n"": {i}}}"'
        )
    return ("\n".join(lines) + "\n").encode()


async def count(c: FaktooraClient) -> int:
    return len([x async for x in c.customers.list(per_page=1000)])


async def test_create_get_update_delete(client: FaktooraClient) -> None:
    c = client
    number = await c.customers.generate_number()
    assert number == "CUST-0001" and await c.customers.verify_number(number) is True
    made = await c.customers.create(**ACME, customer_id=number, email="ap@acme.example", extras={"crm": 7})
    assert isinstance(made, Customer) and made.id and made.customer_id == number
    assert made.country == "DE" and made.extras == {"crm": 7} and made.created_at is not None
    assert await c.customers.verify_number(number) is False
    assert await c.customers.generate_number() == "CUST-0002"
    assert await c.customers.get(made.id) == made

    # a struct and a camelCase mapping work the same way
    other = await c.customers.create(
        CustomerInput(
            is_company=False,
            first_name="Eva",
            last_name="Muster",
            address="Ring 5",
            postcode="1010",
            city="Wien",
            country="AT",
        )
    )
    third = await c.customers.create(
        {
            "isCompany": False,
            "address": "Gasse 2",
            "postcode": "8001",
            "city": "Zürich",
            "country": "CH",
            "lastName": "Meier",
        }
    )
    assert other.country == "AT" and third.country == "CH"

    assert await c.customers.delete(third.id) is True
    with pytest.raises(NotFoundError):
        await c.customers.get(third.id)
    assert {x.id async for x in c.customers.list()} == {made.id, other.id}


async def test_update_sends_the_required_fields(client: FaktooraClient) -> None:
    c = client
    made = await c.customers.create(**ACME, email="ap@acme.example", category="A")
    # only an optional field given: the required ones are read first (GET + PATCH)
    raw = await c.customers.with_raw_response.update(made.id, city="München", postcode="80331")
    assert raw.responses == 2 and raw.method == "PATCH"
    assert (
        raw.parsed.city == "München" and raw.parsed.email == "ap@acme.example" and raw.parsed.category == "A"
    )
    # every required field (and the country the postcode is checked against) given: one PATCH, nothing read
    full = await c.customers.with_raw_response.update(
        made.id, is_company=True, address="Neu 1", postcode="80331", city="München", extras={}, country="DE"
    )
    assert full.responses == 1 and full.parsed.address == "Neu 1"
    # None clears an optional field; a required one cannot be cleared
    renumbered = await c.customers.update(made.id, customer_id="K-2")  # the customer number is a field
    assert renumbered.customer_id == "K-2" and renumbered.id == made.id
    cleared = await c.customers.update(made.id, email=None, name="ACME AG")
    assert cleared.email is None and cleared.name == "ACME AG" and cleared.category == "A"
    with pytest.raises(FieldValidationError) as info:
        await c.customers.update(made.id, city=None)
    assert info.value.field == "city"
    # the postcode rule uses the stored country when the caller changes only the postcode
    austrian = await c.customers.create(
        is_company=True, address="Ring 1", postcode="1010", city="Wien", country="AT"
    )
    with pytest.raises(FieldValidationError) as info:
        await c.customers.update(austrian.id, postcode="10115")
    assert info.value.field == "postcode" and "AT" in str(info.value)
    moved = await c.customers.update(austrian.id, postcode="10115", country="DE", city="Berlin")
    assert moved.country == "DE" and moved.postcode == "10115"


async def test_list_filters(client: FaktooraClient) -> None:
    c = client
    a = await c.customers.create(**{**ACME, "name": "ACME Berlin"}, category="gold", customer_id="K-1")
    b = await c.customers.create(**{**ACME, "name": "Beta Hamburg", "city": "Hamburg"}, category="gold")
    d = await c.customers.create(
        **{**ACME, "name": "Delta Berlin"}, category="silver", email="acme@delta.example"
    )
    names = [x.name async for x in c.customers.list(sort="name", order="desc")]
    assert names == ["Delta Berlin", "Beta Hamburg", "ACME Berlin"]
    assert {x.id async for x in c.customers.list(category="gold")} == {a.id, b.id}
    assert {x.id async for x in c.customers.list(keywords=["acme"])} == {a.id, d.id}  # name or email
    assert {x.id async for x in c.customers.list(keywords=["acme", "berlin"])} == {a.id, d.id}
    assert {x.id async for x in c.customers.list(keywords="acme", relation_fields=["name"])} == {a.id}
    pages = [len(p) async for p in c.customers.list(per_page=2).pages()]
    assert pages == [2, 1]
    with pytest.raises(BadRequestError) as info:
        await c.customers.list(relation_fields=["colour"])
    assert info.value.errors and info.value.errors[0].field == "relationFields[0]"
    with pytest.raises(ValueError):
        c.customers.list(sort="colour")


async def test_400_401_404_409_paths(client: FaktooraClient) -> None:
    c = client
    before = c.stats["attempts"]
    with pytest.raises(FieldValidationError) as info:  # local: nothing sent
        await c.customers.create(**{**ACME, "postcode": "1011"})
    assert info.value.field == "postcode"
    with pytest.raises(FieldValidationError):
        await c.customers.create(**ACME, colour="red")
    assert c.stats["attempts"] == before
    # a rule only the server knows (VAT id format): 400 naming the field
    with pytest.raises(BadRequestError) as bad:
        await c.customers.create(**ACME, vat_id="123")
    assert [e.field for e in bad.value.errors] == ["vatId"]
    kept = await c.customers.create(**ACME, customer_id="K-9")
    with pytest.raises(BadRequestError) as bad:  # the same rule on PATCH
        await c.customers.update(kept.id, vat_id="123")
    assert [e.field for e in bad.value.errors] == ["vatId"]
    with pytest.raises(ConflictError) as dup:
        await c.customers.create(**ACME, customer_id="K-9")
    assert dup.value.code == "DUPLICATE_CUSTOMER_NUMBER"
    for call in (
        c.customers.get(MISSING),
        c.customers.update(MISSING, city="X"),
        c.customers.delete(MISSING),
        c.customers.import_uploaded(MISSING),
    ):
        with pytest.raises(NotFoundError):
            await call
    async with FaktooraClient("sk_test_not_a_key_0000", base_url=c.base_url) as stranger:
        with pytest.raises(AuthenticationError):
            await stranger.customers.list()
        with pytest.raises(AuthenticationError):
            await stranger.customers.generate_number()


async def test_csv_import_of_1000_rows_in_one_call(client: FaktooraClient, tmp_path: Path) -> None:
    c = client
    path = tmp_path / "customers.csv"
    path.write_bytes(customer_csv(1000))
    raw = await c.customers.with_raw_response.import_csv(path)
    assert raw.responses == 2  # upload + import
    created = raw.parsed
    assert len(created) == 1000 and len({x.id for x in created}) == 1000
    assert created[516].customer_id == "C-00517" and created[516].extras == {"n": 517}
    assert await count(c) == 1000
    assert [x.customer_id async for x in c.customers.list(sort="customerId", per_page=1000)][-1] == "C-01000"


async def test_csv_with_bad_row_517_creates_nothing(client: FaktooraClient, tmp_path: Path) -> None:
    c = client
    path = tmp_path / "bad.csv"
    path.write_bytes(customer_csv(1000, bad_row=517))
    # checked locally first: nothing is uploaded
    before = c.stats["attempts"]
    with pytest.raises(FieldValidationError) as local:
        await c.customers.import_csv(path)
    assert local.value.row == 517 and "row 517" in str(local.value)
    assert [(e.index, e.field) for e in local.value.errors] == [(516, "postcode")]
    assert c.stats["attempts"] == before
    # without the local check the server refuses the whole file and names the row
    with pytest.raises(BadRequestError) as remote:
        await c.customers.import_csv(path, check=False)
    assert [(e.index, e.field) for e in remote.value.errors] == [(516, "postcode")]
    assert "row 517" in str(remote.value)
    assert await count(c) == 0


async def test_csv_row_clashing_with_a_stored_customer_is_found_by_the_server(client: FaktooraClient) -> None:
    c = client
    await c.customers.create(**ACME, customer_id="C-00003")
    with pytest.raises(BadRequestError) as info:
        await c.customers.import_csv(customer_csv(5))  # the local check cannot know the stored numbers
    assert [(e.index, e.field) for e in info.value.errors] == [(2, "customerId")]
    assert await count(c) == 1


async def test_upload_and_import_in_two_steps(client: FaktooraClient) -> None:
    c = client
    uploaded = await c.customers.upload_csv(customer_csv(3))
    assert len(uploaded.id) == 36
    first = await c.customers.import_uploaded(uploaded.id)
    again = await c.customers.import_uploaded(uploaded.id)  # the same file again: the same customers
    assert [x.id for x in first] == [x.id for x in again] and await count(c) == 3
    with pytest.raises(BadRequestError):  # a header the sandbox cannot read
        await c.customers.upload_csv(b"colour,size\nred,L\n")
