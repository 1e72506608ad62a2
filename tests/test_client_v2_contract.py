"""API.md v2 rows of issue 11 through the SDK (the raw-HTTP side is in tests/test_sandbox_*.py).

Invoices without a number or a seller, the XRechnung syntax switch, PEPPOL delivery, the content of a
created invoice under /import/outgoing/{faktooraId}.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from faktoora_async import FaktooraClient, Invoice, InvoiceValidationError
from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.models._base import dec_hook
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio


def _invoice(index: int, **changes: Any) -> dict[str, Any]:
    inv = generate_invoice(index, seed=51)
    inv.pop("delivery", None)
    for key, value in changes.items():
        if value is None:
            inv.pop(key, None)
        else:
            inv[key] = value
    return inv


@pytest.fixture
async def sandbox() -> AsyncIterator[tuple[Sandbox, FaktooraClient]]:
    async with (
        Sandbox(processing_delay=(0.0, 0.02), seed=19) as sb,
        FaktooraClient(sb.api_key, base_url=sb.base_url) as client,
    ):
        yield sb, client


async def test_an_invoice_without_a_number_gets_the_next_one(sandbox: tuple[Sandbox, FaktooraClient]) -> None:
    _, client = sandbox
    preview = await client.invoices.next_number()
    plain = _invoice(1, invoiceNumber=None)
    struct = msgspec.convert(_invoice(2, invoiceNumber=None), Invoice, dec_hook=dec_hook, strict=False)
    assert struct.invoice_number is None
    client.invoices.preflight([plain, struct])  # not a pre-flight error (API.md v2)
    first, second = await client.invoices.create([plain, struct])
    assert first.invoice_number is None  # allocated by the server, not known before
    await client.invoices.wait(first)
    await client.invoices.wait(second)
    numbers = {item.faktoora_id: item.invoice_number async for item in client.invoices.list()}
    assert numbers[first.faktoora_id] == preview.invoice_number
    assert numbers[second.faktoora_id] not in (None, preview.invoice_number)
    with pytest.raises(InvoiceValidationError) as info:  # a number that is given must not be blank
        await client.invoices.create(_invoice(3, invoiceNumber=" "))
    assert [v.rule_id for v in info.value.violations] == ["BR-02"]


async def test_an_invoice_without_a_seller_is_issued_by_the_account_profile(
    sandbox: tuple[Sandbox, FaktooraClient],
) -> None:
    sb, client = sandbox
    [created] = await client.invoices.create(_invoice(4, seller=None))
    await client.invoices.wait(created)
    content = await client.imports.content(created.faktoora_id)  # a created invoice's own content
    profile = sb.profile()
    assert content.seller is not None and content.seller.name == profile["name"]
    assert content.invoice_number == created.invoice_number
    summary = await client.imports.summary(created.faktoora_id)
    assert summary.invoice_number == created.invoice_number and summary.seller_name == profile["name"]
    assert (await client.imports.source(created.faktoora_id)).lstrip().startswith(b"<")


@pytest.mark.parametrize(("schema", "root"), [("CII", b"CrossIndustryInvoice"), ("UBL", b"Invoice")])
async def test_schema_selects_the_xrechnung_syntax(
    sandbox: tuple[Sandbox, FaktooraClient], schema: str, root: bytes
) -> None:
    _, client = sandbox
    [created] = await client.invoices.create(
        _invoice(5 if schema == "CII" else 6, format="xrechnung", schema=schema)
    )
    await client.invoices.wait(created)
    xml = await client.invoices.download(created.faktoora_id, format="xml")
    head = xml[:400]
    assert root in head and (b"CrossIndustryInvoice" not in head) == (schema == "UBL")


async def test_the_old_ubl_format_is_refused_before_sending(sandbox: tuple[Sandbox, FaktooraClient]) -> None:
    sb, client = sandbox
    before = sum(sum(v.values()) for v in sb.stats()["requests"].values())
    with pytest.raises(InvoiceValidationError) as info:
        await client.invoices.create(_invoice(7, format="xrechnung:ubl"))
    assert any(v.path.endswith(".format") for v in info.value.violations)
    assert sum(sum(v.values()) for v in sb.stats()["requests"].values()) == before  # nothing was sent


async def test_a_peppol_delivery_reaches_sent(sandbox: tuple[Sandbox, FaktooraClient]) -> None:
    sb, client = sandbox
    peppol = {"type": "peppol", "recipient": "0204:04011000-12345-03"}
    [created] = await client.invoices.create(_invoice(8, delivery=peppol))
    assert created.resting_status == "sent"
    status = await client.invoices.wait(created)
    assert status.invoice_status == "sent"
    assert [(d.type, d.recipient) for d in status.delivery] == [("peppol", "0204:04011000-12345-03")]
    assert any(entry.get("to") == "0204:04011000-12345-03" for entry in sb.outbox)
