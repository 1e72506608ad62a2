"""``client.products`` against the sandbox: every /products and /product route, with its 400/401/404/409."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from faktoora_async import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FaktooraClient,
    FieldValidationError,
    NotFoundError,
)
from faktoora_async.models import GlobalId, ProductInput, ProductRecord
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def client() -> AsyncIterator[FaktooraClient]:
    async with Sandbox() as sb, FaktooraClient(sb.api_key, base_url=sb.base_url) as c:
        yield c


async def test_create_get_update_delete(client: FaktooraClient) -> None:
    c = client
    assert await c.products.valid_code("B-1") is True
    made = await c.products.create(
        name="Beratung",
        unit="HUR",
        tax=19,
        price="120.50",
        code="B-1",
        buyer_assigned_id="K-77",
        global_id={"id": "4012345000009", "schemeId": "0160"},
        inventory_count=3,
        time="1.5",
    )
    assert isinstance(made, ProductRecord) and made.id and made.created_at is not None
    assert made.tax == Decimal(19) and made.price == Decimal("120.50") and made.inventory_count == 3
    assert made.buyer_assigned_id == "K-77" and made.raw["buyerAssignedID"] == "K-77"
    assert made.global_id == {"id": "4012345000009", "schemeId": "0160"} and made.time == Decimal("1.5")
    assert await c.products.valid_code("B-1") is False
    assert await c.products.get(made.id) == made

    struct = await c.products.create(
        ProductInput(
            name="Schraube ⌀ 4 mm", unit="H87", tax=Decimal("7"), global_id=GlobalId(id="1", scheme_id="0088")
        )
    )
    assert struct.name == "Schraube ⌀ 4 mm"

    changed = await c.products.update(made.id, price=Decimal("130"), description="per hour")
    assert (
        changed.price == Decimal("130") and changed.description == "per hour" and changed.name == "Beratung"
    )
    cleared = await c.products.update(made.id, description=None)
    assert cleared.description is None and cleared.price == Decimal("130")

    assert await c.products.delete(struct.id) is True
    with pytest.raises(NotFoundError):
        await c.products.get(struct.id)
    assert [p.id async for p in c.products.list()] == [made.id]


async def test_list_filters(client: FaktooraClient) -> None:
    c = client
    a = await c.products.create(
        name="Beratung", unit="HUR", tax=19, price=100, code="A1", description="Stunde"
    )
    b = await c.products.create(name="Schulung", unit="DAY", tax=19, price=800, code="A2")
    d = await c.products.create(
        name="Kabel", unit="MTR", tax=7, price="2.5", code="K1", description="Beratung inkl."
    )
    assert [p.id async for p in c.products.list(sort="price", order="desc")] == [b.id, a.id, d.id]
    assert [p.id async for p in c.products.list(sort="name")] == [a.id, d.id, b.id]
    assert {p.id async for p in c.products.list(keyword="beratung")} == {a.id, d.id}
    assert [p.id async for p in c.products.list(code="A2")] == [b.id]
    assert [len(page) async for page in c.products.list(per_page=2).pages()] == [2, 1]
    with pytest.raises(ValueError):
        c.products.list(sort="colour")


async def test_400_401_404_409_paths(client: FaktooraClient) -> None:
    c = client
    before = c.stats["attempts"]
    for bad, field in [({"name": "Kaffee ☕"}, "name"), ({"unit": "hours"}, "unit"), ({"tax": 120}, "tax")]:
        with pytest.raises(FieldValidationError) as info:  # local: nothing sent
            await c.products.create(**{"name": "Tee", "unit": "C62", "tax": 7, **bad})
        assert info.value.field == field
    with pytest.raises(FieldValidationError):
        await c.products.create(name="Tee", unit="C62", tax=7, colour="green")
    assert c.stats["attempts"] == before
    with pytest.raises(BadRequestError) as info:  # a code of the right shape that is no Rec 20 unit
        await c.products.create(name="Tee", unit="ZZZ", tax=7)
    assert [e.field for e in info.value.errors] == ["unit"]
    made = await c.products.create(name="Tee", unit="C62", tax=7, code="T")
    with pytest.raises(BadRequestError) as info:  # the same on PATCH
        await c.products.update(made.id, unit="ZZZ")
    assert [e.field for e in info.value.errors] == ["unit"]
    with pytest.raises(ConflictError) as dup:
        await c.products.create(name="Tee 2", unit="C62", tax=7, code="T")
    assert dup.value.code == "DUPLICATE_PRODUCT_CODE"
    with pytest.raises(FieldValidationError):
        await c.products.update(made.id, tax=None)
    for call in (c.products.get(MISSING), c.products.update(MISSING, price=1), c.products.delete(MISSING)):
        with pytest.raises(NotFoundError):
            await call
    async with FaktooraClient("sk_test_not_a_key_0000", base_url=c.base_url) as stranger:
        with pytest.raises(AuthenticationError):
            await stranger.products.valid_code("T")
