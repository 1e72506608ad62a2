"""``client.projects`` against the sandbox: every /projects and /project route, documents attached and
detached, with the 400/401/404/409 paths."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator

import pytest

from faktoora_async import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FaktooraClient,
    FieldValidationError,
    NotFoundError,
)
from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.models import Project, ProjectInput, ProjectStatus
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def client() -> AsyncIterator[FaktooraClient]:
    async with Sandbox() as sb, FaktooraClient(sb.api_key, base_url=sb.base_url) as c:
        yield c


async def test_create_get_update_delete(client: FaktooraClient) -> None:
    c = client
    customer = await c.customers.create(
        is_company=True, name="ACME", address="A 1", postcode="10115", city="Berlin"
    )
    made = await c.projects.create(
        name="Umbau",
        customer_id=customer.id,
        eta=datetime.date(2027, 1, 15),
        est_minutes=600,
        currency="EUR",
        place="Berlin",
    )
    assert isinstance(made, Project) and made.id and made.status == ProjectStatus.ACTIVE
    assert made.eta == "2027-01-15" and made.customer is not None and made.customer.name == "ACME"
    assert made.document is None and await c.projects.get(made.id) == made
    other = await c.projects.create(
        ProjectInput(
            name="Wartung",
            status="paused",
            eta=datetime.datetime(2027, 2, 1, 8, 0, tzinfo=datetime.timezone.utc),
        )
    )
    assert other.eta is not None and other.eta.startswith("2027-02-01T08:00:00") and other.status == "paused"

    changed = await c.projects.update(made.id, status="closed", description="fertig")
    assert changed.status == "closed" and changed.description == "fertig" and changed.name == "Umbau"
    cleared = await c.projects.update(made.id, customer_id=None, place=None)
    assert cleared.customer is None and cleared.place is None and cleared.est_minutes == 600

    assert await c.projects.delete(other.id) is True
    with pytest.raises(NotFoundError):
        await c.projects.get(other.id)


async def test_list_filters(client: FaktooraClient) -> None:
    c = client
    cust = await c.customers.create(is_company=True, name="K", address="A", postcode="10115", city="B")
    a = await c.projects.create(name="Alpha Umbau", customer_id=cust.id)
    b = await c.projects.create(name="Beta", status="paused", description="Umbau Halle")
    d = await c.projects.create(name="Gamma", status="closed", customer_id=cust.id)
    assert [p.id async for p in c.projects.list(sort="name", order="desc")] == [d.id, b.id, a.id]
    assert {p.id async for p in c.projects.list(keyword="umbau")} == {a.id, b.id}
    assert {p.id async for p in c.projects.list(status=["paused", "closed"])} == {b.id, d.id}
    assert {p.id async for p in c.projects.list(customer_id=cust.id)} == {a.id, d.id}
    assert [p.id async for p in c.projects.list(customer_id=[cust.id], status="closed")] == [d.id]
    with pytest.raises(ValueError):
        c.projects.list(status="done")


async def test_attach_and_detach_documents(client: FaktooraClient) -> None:
    c = client
    invoice = (await c.invoices.create(generate_invoice(1)))[0].faktoora_id
    first = await c.projects.create(name="Eins")
    second = await c.projects.create(name="Zwei")
    held = await c.projects.attach_document(first.id, invoice, "invoice")
    assert held.document is not None and held.document.invoice_id == invoice
    assert held.document.document_type == "invoice" and held.document.document_id == invoice
    assert (
        await c.projects.attach_document(first.id, invoice, "invoice")
    ).document == held.document  # again: same
    with pytest.raises(ConflictError) as taken:  # the document is in another project
        await c.projects.attach_document(second.id, invoice, "invoice")
    assert taken.value.code == "DOCUMENT_IN_PROJECT"
    with pytest.raises(ConflictError) as full:  # the project holds another document
        await c.projects.attach_document(first.id, "OFFER-1", "offer")
    assert full.value.code == "PROJECT_HAS_DOCUMENT"
    with pytest.raises(NotFoundError):  # naming a document the project does not hold
        await c.projects.detach_document(first.id, "OFFER-1", "offer")
    freed = await c.projects.detach_document(first.id, invoice, "invoice")
    assert freed.document is None
    with pytest.raises(NotFoundError):  # nothing attached any more
        await c.projects.detach_document(first.id)
    moved = await c.projects.attach_document(second.id, invoice, "invoice")
    assert moved.document is not None and moved.document.invoice_id == invoice
    assert (await c.projects.detach_document(second.id)).document is None  # without naming it
    offer = await c.projects.attach_document(second.id, "OFFER-1", "offer")
    assert offer.document is not None and offer.document.document_type == "offer"


async def test_400_401_404_paths(client: FaktooraClient) -> None:
    c = client
    before = c.stats["attempts"]
    with pytest.raises(FieldValidationError) as info:  # local: nothing sent
        await c.projects.create(name="x" * 256)
    assert info.value.field == "name"
    with pytest.raises(FieldValidationError) as info:
        await c.projects.create(name="ok", status="done")
    assert info.value.field == "status"
    with pytest.raises(FieldValidationError):
        await c.projects.update(MISSING, name=None)
    with pytest.raises(ValueError):
        await c.projects.attach_document(MISSING, "F1", "receipt")
    assert c.stats["attempts"] == before
    with pytest.raises(BadRequestError) as bad:  # only the server knows the tenant's customers and invoices
        await c.projects.create(name="ok", customer_id=MISSING)
    assert [e.field for e in bad.value.errors] == ["customerId"]
    project = await c.projects.create(name="ok")
    with pytest.raises(BadRequestError) as bad:  # the same on PATCH
        await c.projects.update(project.id, customer_id=MISSING)
    assert [e.field for e in bad.value.errors] == ["customerId"]
    with pytest.raises(BadRequestError) as bad:
        await c.projects.attach_document(project.id, "FNOSUCHID", "invoice")
    assert [e.field for e in bad.value.errors] == ["documentId"]
    for call in (
        c.projects.get(MISSING),
        c.projects.update(MISSING, name="x"),
        c.projects.delete(MISSING),
        c.projects.attach_document(MISSING, "O-1", "offer"),
        c.projects.detach_document(MISSING),
    ):
        with pytest.raises(NotFoundError):
            await call
    async with FaktooraClient("sk_test_not_a_key_0000", base_url=c.base_url) as stranger:
        with pytest.raises(AuthenticationError):
            await stranger.projects.list()
