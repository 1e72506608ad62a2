"""API.md v2 "Invoice numbers" through the SDK against the sandbox: ``client.settings`` (template, pad
length, counter), ``next_number(template)``, ``verify_number``, the local template check (ValueError naming
the rule), and that the SDK's check and the sandbox's (written apart) agree on every template tried."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from faktoora_async import FaktooraClient, InvoiceNumberSettings
from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.errors import BadRequestError
from faktoora_async.protocol.settings import check_template
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

MALFORMED = [
    ("", "must not be empty"),
    ("YYYY/MM", "must end with a separator and id"),
    ("YYYY/MM-id", "mixes separators"),
    ("YYYY//id", "empty segment"),
    ("/YYYY/id", "empty segment"),
    ("YYYY/id/MM", "id must be the last segment"),
    ("YYYY-id-id", "id may appear only once"),
    ("YYYY id", "character ' ' is not allowed"),
    ("RE-{YYYY}-{counter:05}", "braces are not template syntax"),
    ("YY-id", "unknown date token 'YY'"),
    ("YYYY-YYYY-id", "date token YYYY appears more than once"),
    ("YYYY-ID", "lower-case id"),
    ("RE-" + "X" * 100 + "-id", "at most 100 characters"),
]
CORPUS = [
    *(t for t, _ in MALFORMED),
    "YYYY/MM/id", "YYYY-id", "RE-YYYY-id", "RE-id", "D-id", "YYYY.MM.DD.id", "INV_2026_id", "A1-B2-C3-id",
    "id", "-id", "YYYY-", "YYYY--id", "YYYY-MM-DD-id", "MM-YYYY-id", "DD.MM.YYYY.id", "yyyy-id", "Mm-id",
    "MMM-id", "YYYY-Id", "ÄÖ-id", "RE+YYYY+id", "RE:id", "YYYY/MM/id/", "YYYY/MM//id", "{id}", "YYYY-MM-DD",
]  # fmt: skip


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(processing_delay=(30, 30)) as sandbox:
        yield sandbox


@pytest.fixture
async def client(sb: Sandbox) -> AsyncIterator[FaktooraClient]:
    async with FaktooraClient(sb.api_key, base_url=sb.base_url, max_retries=0) as c:
        yield c


def puts(sb: Sandbox) -> int:
    return sum(sb.stats()["requests"].get("PUT /api/v1/settings/invoice-number-template", {}).values())


async def test_settings_read_and_update(client: FaktooraClient, sb: Sandbox) -> None:
    settings = await client.settings.invoice_number_template()
    assert isinstance(settings, InvoiceNumberSettings)
    assert (settings.template, settings.pad_length, settings.counter) == ("YYYY/MM/id", 5, 0)
    assert settings.raw == {"template": "YYYY/MM/id", "padLength": 5, "counter": 0}
    changed = await client.settings.update_invoice_number_template(template="RE-YYYY-id", pad_length=4)
    assert (changed.template, changed.pad_length, changed.counter) == ("RE-YYYY-id", 4, 0)
    only_pad = await client.settings.update_invoice_number_template(pad_length=6)
    assert (only_pad.template, only_pad.pad_length) == ("RE-YYYY-id", 6)
    preview = await client.invoices.next_number()
    assert re.fullmatch(r"RE-\d{4}-000001", preview.invoice_number) and preview.counter == 0
    raw = await client.settings.with_raw_response.invoice_number_template()
    assert raw.status == 200 and raw.parsed.pad_length == 6
    with pytest.raises(ValueError, match="template and/or pad_length"):
        await client.settings.update_invoice_number_template()


@pytest.mark.parametrize(("template", "rule"), MALFORMED, ids=[r for _, r in MALFORMED])
async def test_bad_templates_are_a_local_value_error(
    client: FaktooraClient, sb: Sandbox, template: str, rule: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(rule)):
        await client.settings.update_invoice_number_template(template=template)
    with pytest.raises(ValueError, match=re.escape(rule)):
        await client.invoices.next_number(template)
    assert puts(sb) == 0  # nothing was sent
    for pad in (0, 11, True, "5"):
        with pytest.raises(ValueError, match="pad_length"):
            await client.settings.update_invoice_number_template(pad_length=pad)  # type: ignore[arg-type]


async def test_sdk_and_sandbox_checks_agree(sb: Sandbox) -> None:
    """Two implementations of the grammar, written apart: the same verdict on every template."""
    async with aiohttp.ClientSession() as session:
        for template in CORPUS:
            try:
                check_template(template)
                local: Any = None
            except ValueError as exc:
                local = str(exc)
            async with session.put(
                sb.base_url + "/settings/invoice-number-template",
                json={"template": template},
                headers={"X-API-KEY": sb.api_key},
            ) as resp:
                server = await resp.json()
            assert (local is None) == (resp.status == 200), (template, local, server)
            if local is not None:
                assert server["errors"][0]["field"] == "template" and server["message"], template


async def test_counter_follows_creation_and_verify_number(client: FaktooraClient) -> None:
    await client.settings.update_invoice_number_template(template="T-id", pad_length=3)
    first = await client.invoices.next_number()
    assert (first.invoice_number, first.counter, first.template) == ("T-001", 0, None)
    assert await client.invoices.verify_number("T-001") is True
    invoice = generate_invoice(1, seed=5)
    invoice["invoiceNumber"] = first.invoice_number
    await client.invoices.create(invoice)
    assert await client.invoices.verify_number("T-001") is False
    again = await client.invoices.next_number()
    assert (again.invoice_number, again.counter) == ("T-002", 1)
    explicit = await client.invoices.next_number("X-YYYY-id")
    assert re.fullmatch(r"X-\d{4}-002", explicit.invoice_number) and explicit.template == "X-YYYY-id"
    settings = await client.settings.invoice_number_template()
    assert settings.counter == 1


async def test_a_server_400_is_a_bad_request_error(client: FaktooraClient, sb: Sandbox) -> None:
    # a rule only the server checks (invoice numbers are at most 100 characters) comes back as an error
    with pytest.raises(BadRequestError) as info:
        await client.invoices.verify_number("x" * 101)
    assert info.value.status == 400 and any(e.field == "invoiceNumber" for e in info.value.errors)
