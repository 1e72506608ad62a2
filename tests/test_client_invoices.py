"""``client.invoices`` against the real sandbox over loopback HTTP: every endpoint and every error class."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest

from faktoora_async import (
    AuthenticationError,
    BadRequestError,
    DuplicateInvoiceNumberError,
    FaktooraClient,
    GenerationFailedError,
    Invoice,
    InvoiceValidationError,
    NotAcceptableError,
    NotFoundError,
    NotReadyError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    RetryConfig,
    ServerError,
    WaitTimeoutError,
)
from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.models._base import dec_hook
from faktoora_async.protocol import APIRequest
from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

FAST_RETRY = RetryConfig(max_retries=3, backoff_base=0.01, backoff_max=0.05, deadline=30)


def payload(index: int, **flags: Any) -> dict[str, Any]:
    """A valid generated invoice; ``delivery=None`` removes the e-mail delivery."""
    inv = generate_invoice(index, seed=11)
    for key, value in flags.items():
        if value is None:
            inv.pop(key, None)
        else:
            inv[key] = value
    return inv


def requests(sb: Sandbox, key: str) -> dict[str, int]:
    return dict(sb.stats()["requests"].get(key, {}))


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(processing_delay=(0.01, 0.03), seed=3) as sandbox:
        yield sandbox


@pytest.fixture
async def client(sb: Sandbox) -> AsyncIterator[FaktooraClient]:
    async with FaktooraClient(sb.api_key, base_url=sb.base_url, retry=FAST_RETRY, timeout=20) as c:
        yield c


async def test_create_modes_and_wait_for_each_resting_state(sb: Sandbox, client: FaktooraClient) -> None:
    direct = payload(0, delivery=None, draftOnly=None, reviewMode=None)
    sent = payload(1, delivery={"type": "email", "recipient": "buyer@example.com"})
    draft = payload(2, draftOnly=True, delivery=None)
    review = payload(3, reviewMode=True, delivery={"type": "email", "recipient": "r@example.com"})
    created = await client.invoices.create([direct, sent, draft, review])
    assert len(created) == 4 and all(c.faktoora_id.startswith("F") for c in created)
    assert all(c.details_page for c in created)
    assert requests(sb, "POST /api/v1/invoices") == {"202": 1}

    states = [await client.invoices.wait(c.faktoora_id, timeout=30) for c in created]
    assert [s.invoice_status for s in states] == ["created", "sent", "draft", "review"]
    assert states[1].delivery and states[1].delivery[0].recipient == "buyer@example.com"

    await sb.approve(created[3].faktoora_id)
    after = await client.invoices.wait(created[3].faktoora_id, until="sent", timeout=30)
    assert after.invoice_status == "sent"


async def test_create_accepts_one_struct(client: FaktooraClient) -> None:
    inv = msgspec.convert(payload(4), Invoice, dec_hook=dec_hook, strict=False)
    assert isinstance(inv.issue_date, datetime.date)
    (created,) = await client.invoices.create(inv)
    status = await client.invoices.wait(created.faktoora_id, timeout=30)
    assert status.invoice_status in {"created", "sent"}


async def test_preflight_lists_every_violation_and_sends_nothing(sb: Sandbox, client: FaktooraClient) -> None:
    bad_buyer = payload(5)
    bad_buyer["buyer"] = {**bad_buyer["buyer"], "name": ""}
    bad_item = payload(6)
    bad_item["invoiceItems"][0]["product"]["quantity"] = "lots"
    with pytest.raises(InvoiceValidationError) as info:
        await client.invoices.create([payload(7), bad_buyer, bad_item])
    err = info.value
    assert {e.index for e in err.errors} >= {1, 2}
    assert 0 not in {e.index for e in err.errors}
    assert "invoices[2]" in str(err)
    assert requests(sb, "POST /api/v1/invoices") == {}


async def test_more_than_100_is_a_value_error(sb: Sandbox, client: FaktooraClient) -> None:
    with pytest.raises(ValueError, match="at most 100"):
        await client.invoices.create([payload(i) for i in range(101)], preflight=False)
    with pytest.raises(ValueError):
        await client.invoices.create([])
    assert requests(sb, "POST /api/v1/invoices") == {}


async def test_server_side_400_with_field_errors(client: FaktooraClient) -> None:
    bad = payload(8)
    del bad["issueDate"]
    with pytest.raises(BadRequestError) as info:
        await client.invoices.create([payload(9), bad], preflight=False)
    assert info.value.status == 400 and info.value.code
    assert any(e.index == 1 and e.field and "issueDate" in e.field for e in info.value.errors)


async def test_duplicate_invoice_number(client: FaktooraClient) -> None:
    first = payload(10)
    await client.invoices.create(first)
    with pytest.raises(DuplicateInvoiceNumberError) as info:
        await client.invoices.create([payload(11), first])
    assert info.value.status == 409 and info.value.code == "DUPLICATE_INVOICE_NUMBER"
    assert info.value.indexes == [1]


async def test_list_paginates_over_more_than_three_pages(sb: Sandbox, client: FaktooraClient) -> None:
    batch = [payload(100 + i) for i in range(26)]
    created = await client.invoices.create(batch, preflight=False)
    items = [item async for item in client.invoices.list(per_page=7)]
    assert len(items) == 26
    assert {i.faktoora_id for i in items} == {c.faktoora_id for c in created}
    assert requests(sb, "GET /api/v1/invoices") == {"200": 4}

    pages = [p async for p in client.invoices.list(per_page=7, sort="invoiceNumber", order="desc").pages()]
    assert [len(p) for p in pages] == [7, 7, 7, 5]
    assert pages[0].meta is not None and pages[0].meta.total == 26 and pages[0].meta.total_pages == 4
    numbers = [i.invoice_number for p in pages for i in p]
    assert numbers == sorted(numbers, reverse=True)

    second = await client.invoices.list(page=2, per_page=10)
    assert second.page == 2 and len(second.items) == 10 and second.has_next
    one = [i async for i in client.invoices.list(invoice_number=batch[3]["invoiceNumber"])]
    assert [i.faktoora_id for i in one] == [created[3].faktoora_id]
    day = datetime.date.fromisoformat(
        f"{batch[0]['issueDate'][:4]}-{batch[0]['issueDate'][4:6]}-{batch[0]['issueDate'][6:]}"
    )
    same_day = [i async for i in client.invoices.list(issue_date_from=day, issue_date_to=day)]
    assert created[0].faktoora_id in {i.faktoora_id for i in same_day}
    assert all(i.issue_date == day for i in same_day)
    buyer_word = batch[5]["buyer"]["name"].split()[0]
    by_keyword = [i async for i in client.invoices.list(keyword=buyer_word)]
    assert created[5].faktoora_id in {i.faktoora_id for i in by_keyword}


async def test_download_by_id_and_number_to_memory_file_and_folder(
    client: FaktooraClient, tmp_path: Path
) -> None:
    inv = payload(20, invoiceNumber="RE/2026/../CON", delivery=None)
    (created,) = await client.invoices.create(inv)
    await client.invoices.wait(created.faktoora_id, timeout=30)
    fid = created.faktoora_id

    pdf = await client.invoices.download(fid)
    assert pdf.startswith(b"%PDF")
    xml = await client.invoices.download(fid, format="xml")
    assert xml.lstrip().startswith(b"<")
    by_number = await client.invoices.download(invoice_number=inv["invoiceNumber"], format="xml")
    assert by_number == xml

    target = await client.invoices.download(fid, to=tmp_path / "one.pdf")
    assert target.path == tmp_path / "one.pdf" and target.path.read_bytes() == pdf
    assert Path(target) == target.path  # a DownloadResult is path-like

    folder = tmp_path / "out"
    folder.mkdir()
    named = await client.invoices.download(invoice_number=inv["invoiceNumber"], to=folder)
    assert named.path.parent == folder.resolve() and named.path.suffix == ".pdf"
    assert ".." not in named.path.name and "/" not in named.path.name
    result = await client.invoices.download(fid, format="xml", to=folder)
    assert not isinstance(result, bytes)
    assert result.sha256 == hashlib.sha256(xml).hexdigest() and result.size == len(xml)
    assert result.path.parent == folder.resolve() and result.path.suffix == ".xml"
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []  # no temp files left

    with pytest.raises(ValueError):
        await client.invoices.download()
    with pytest.raises(ValueError):
        await client.invoices.download(fid, format="docx")


async def test_not_ready_before_generation() -> None:
    async with (
        Sandbox(processing_delay=(30, 30)) as slow,
        FaktooraClient(slow.api_key, base_url=slow.base_url) as client,
    ):
        (created,) = await client.invoices.create(payload(21))
        status = await client.invoices.status(created.faktoora_id)
        assert status.invoice_status is None and status.job_status in {"queued", "processing"}
        assert status.generating
        with pytest.raises(NotReadyError) as info:
            await client.invoices.download(created.faktoora_id)
        assert info.value.status == 409 and info.value.code == "NOT_READY"
        with pytest.raises(WaitTimeoutError) as timeout:
            await client.invoices.wait(created.faktoora_id, timeout=0.3)
        assert timeout.value.last_status is not None
        assert isinstance(timeout.value, TimeoutError)


async def test_validation_report(client: FaktooraClient, tmp_path: Path) -> None:
    (plain,) = await client.invoices.create(payload(22, validate=None))
    (validated,) = await client.invoices.create(payload(23, validate=True))
    await client.invoices.wait(plain.faktoora_id, timeout=30)
    with pytest.raises(NotFoundError):
        await client.invoices.validation_report(plain.faktoora_id)
    status = await client.invoices.wait(validated.faktoora_id, timeout=30)
    for _ in range(200):
        if status.validation is not None and status.validation.status in {"success", "error"}:
            break
        status = await client.invoices.status(validated.faktoora_id)
        await anyio.sleep(0.05)
    assert status.validation is not None and status.validation.status in {"success", "error"}
    report = await client.invoices.validation_report(validated.faktoora_id)
    assert report.startswith(b"%PDF")
    path = await client.invoices.validation_report(validated.faktoora_id, to=tmp_path)
    assert path.path.read_bytes() == report


async def test_delete_and_feature_disabled(sb: Sandbox, client: FaktooraClient) -> None:
    (created,) = await client.invoices.create(payload(24))
    await client.invoices.wait(created.faktoora_id, timeout=30)
    await client.invoices.delete(created.faktoora_id)
    with pytest.raises(NotFoundError) as info:
        await client.invoices.status(created.faktoora_id)
    assert info.value.status == 404
    async with (
        Sandbox(features={"invoiceValidation"}) as limited,
        FaktooraClient(limited.api_key, base_url=limited.base_url) as other,
    ):
        (kept,) = await other.invoices.create(payload(25))
        with pytest.raises(PermissionDeniedError) as denied:
            await other.invoices.delete(kept.faktoora_id)
        assert denied.value.status == 403 and denied.value.code == "FEATURE_DISABLED"


async def test_next_number(client: FaktooraClient) -> None:
    first = await client.invoices.next_number()
    assert first.invoice_number and first.counter is not None
    # API.md v2 grammar (v1 here was "INV-{YYYY}-{counter:05}", now a local ValueError naming the rule)
    templated = await client.invoices.next_number("INV-YYYY-id")
    assert templated.invoice_number.startswith("INV-") and templated.template == "INV-YYYY-id"
    with pytest.raises(ValueError, match="braces are not template syntax"):
        await client.invoices.next_number("INV-{YYYY}-{counter:05}")
    # v2: an invoice whose number the account's template made moves the counter on to it
    await client.invoices.create(payload(26, invoiceNumber=first.invoice_number))
    again = await client.invoices.next_number()
    assert again.counter == first.counter + 1  # type: ignore[operator]


async def test_authentication_error(sb: Sandbox) -> None:
    async with FaktooraClient("sk_test_wrong", base_url=sb.base_url) as bad:
        with pytest.raises(AuthenticationError) as info:
            await bad.invoices.next_number()
    assert info.value.status == 401
    assert "sk_test_wrong" not in str(info.value) and "sk_test_wrong" not in repr(info.value)


async def test_not_acceptable_and_payload_too_large(client: FaktooraClient) -> None:
    (created,) = await client.invoices.create(payload(27))
    await client.invoices.wait(created.faktoora_id, timeout=30)
    with pytest.raises(NotAcceptableError) as info:
        await client._transport.request(
            APIRequest("GET", f"/invoices/{created.faktoora_id}", accept="text/csv")
        )
    assert info.value.status == 406
    body = msgspec.json.encode({"invoices": [payload(300 + i) for i in range(101)]})
    with pytest.raises(PayloadTooLargeError) as too_large:
        await client._transport.request(
            APIRequest("POST", "/invoices", body=body, content_type="application/json")
        )
    assert too_large.value.status == 413


async def test_rate_limit_error_without_retries() -> None:
    async with (
        Sandbox(rate=0.5, burst=1) as limited,
        FaktooraClient(limited.api_key, base_url=limited.base_url, max_retries=0) as client,
    ):
        await client.invoices.next_number()
        with pytest.raises(RateLimitError) as info:
            await client.invoices.next_number()
    assert info.value.status == 429 and info.value.retry_after is not None and info.value.retry_after >= 1


async def test_server_error_without_retries() -> None:
    async with (
        Sandbox(faults={"error_rate": 1.0, "error_statuses": [502]}) as broken,
        FaktooraClient(broken.api_key, base_url=broken.base_url, max_retries=0) as client,
    ):
        with pytest.raises(ServerError) as info:
            await client.invoices.next_number()
        assert info.value.status == 502
        assert requests(broken, "GET /api/v1/invoices/next-number") == {"502": 1}


async def test_generation_failure_raises() -> None:
    async with (
        Sandbox(faults={"generation_failure_rate": 1.0}, processing_delay=(0.01, 0.02)) as failing,
        FaktooraClient(failing.api_key, base_url=failing.base_url) as client,
    ):
        (created,) = await client.invoices.create(payload(28))
        with pytest.raises(GenerationFailedError) as info:
            await client.invoices.wait(created.faktoora_id, timeout=30)
    assert info.value.faktoora_id == created.faktoora_id
    assert info.value.status is not None and info.value.status.job_status == "failed"


async def test_wait_timeout_for_a_draft_expected_to_be_created(client: FaktooraClient) -> None:
    (created,) = await client.invoices.create(payload(29, draftOnly=True))
    with pytest.raises(WaitTimeoutError) as info:
        await client.invoices.wait(created.faktoora_id, until="created", timeout=0.5)
    assert info.value.last_status is not None and info.value.last_status.invoice_status == "draft"
    with pytest.raises(ValueError):
        await client.invoices.wait(created.faktoora_id, until="archived")
