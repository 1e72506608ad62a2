"""API.md v2 "SDK tolerance": the SDK keeps working when the real service answers a plausible other shape.

Each rule is tested against a small real aiohttp server (in this test, on a loopback port) that answers
the alternative shape; the SDK is used as a user would, with no mocking.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
import pytest
from aiohttp import web

from faktoora_async import BadRequestError, FaktooraClient, RateLimitError
from faktoora_async.models import ImportListItem, InvoiceListItem

pytestmark = pytest.mark.anyio

KEY = "sk_test_tolerance_0123456789"
ITEM = {"invoiceNumber": "RE-1", "issueDate": "20260301", "invoiceStatus": "created", "totalGross": "11.90"}


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=msgspec.json.encode(value), status=status, content_type="application/json",
                        headers=headers)  # fmt: skip


LISTS: dict[str, Callable[[int, int], Any]] = {
    # a bare array: a short page is the last
    "bare": lambda page, per: [dict(ITEM, faktooraId=f"F{page}{i}") for i in range(per if page < 2 else 1)],
    "data-meta": lambda page, per: {
        "data": [dict(ITEM, faktooraId=f"F{page}{i}") for i in range(per)],
        "meta": {"page": page, "perPage": per, "total": 2 * per, "totalPages": 2},
    },
    "items-flat": lambda page, per: {
        "items": [dict(ITEM, id=f"F{page}{i}") for i in range(per)],  # the id as "id"
        "page": page,
        "perPage": per,
        "total": 2 * per,
    },
    "results": lambda page, per: {
        "results": [dict(ITEM, importId=f"IMP{page}{i}") for i in range(per)],  # the id as "importId"
        "totalPages": 2,
    },
    "rows-sparse": lambda page, per: {
        "rows": [{"faktooraId": f"F{page}{i}"} for i in range(per)],  # every other field missing
        "meta": {"totalPages": 2},
    },
}


def _app() -> web.Application:
    app = web.Application()

    async def invoices(request: web.Request) -> web.Response:
        shape = request.match_info["shape"]
        page = int(request.query.get("page", "1"))
        per = int(request.query.get("perPage", "25"))
        return _json(LISTS[shape](page, per))

    async def status(request: web.Request) -> web.Response:
        kind = request.match_info["shape"]
        body: dict[str, Any] = {"invoiceStatus": "archived", "jobStatus": "thinking", "newField": {"a": 1}}
        if kind == "wrong-types":
            body.update(delivery="not a list", validation=7, authority={"x": 1})
        return _json(body)

    async def nest_error(request: web.Request) -> web.Response:
        return _json(
            {
                "statusCode": 400,
                "error": "Bad Request",
                "message": [
                    "invoices.0.buyer.postcode must be a string",
                    "invoices.2.invoiceItems.1.quantity must be a number string",
                    "something without a path",
                ],
            },
            status=400,
        )

    async def throttled(request: web.Request) -> web.Response:
        when = email.utils.formatdate(time.time() + 30, usegmt=True)
        return _json(
            {"code": "TOO_MANY_REQUESTS", "message": "slow down"}, status=429, headers={"Retry-After": when}
        )

    async def text_error(request: web.Request) -> web.Response:
        return web.Response(text="<html>upstream said no</html>", status=400, content_type="text/html")

    async def created(request: web.Request) -> web.Response:
        return _json(
            [{"faktooraId": "INV123456", "detailsPage": "https://app/x", "somethingNew": True}], status=202
        )

    async def deleted(request: web.Request) -> web.Response:
        return (
            web.Response(status=204) if request.match_info["shape"] == "empty" else _json({"succeed": True})
        )

    app.router.add_get("/{shape}/api/v1/invoices", invoices)
    app.router.add_get("/{shape}/api/v1/import/outgoing", invoices)
    app.router.add_get("/{shape}/api/v2/invoices/{id}/status", status)
    app.router.add_post("/nest/api/v1/invoices", nest_error)
    app.router.add_get("/throttle/api/v1/invoices/next-number", throttled)
    app.router.add_get("/text/api/v1/invoices/next-number", text_error)
    app.router.add_post("/created/api/v1/invoices", created)
    app.router.add_delete("/{shape}/api/v1/webhooks/{id}", deleted)
    return app


@pytest.fixture
async def server() -> AsyncIterator[str]:
    runner = web.AppRunner(_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def _client(root: str, shape: str, **kw: Any) -> FaktooraClient:
    return FaktooraClient(KEY, base_url=f"{root}/{shape}/api/v1", **kw)


@pytest.mark.parametrize("shape", sorted(LISTS))
async def test_every_list_envelope_is_read(server: str, shape: str) -> None:
    async with _client(server, shape) as c:
        items = [i async for i in c.invoices.list(per_page=3)]
        imports = [i async for i in c.imports.list(per_page=3)]
    assert len(items) == (4 if shape == "bare" else 6)
    assert all(isinstance(i, InvoiceListItem) and i.faktoora_id for i in items)
    assert all(isinstance(i, ImportListItem) and i.faktoora_id for i in imports)
    if shape == "rows-sparse":
        assert items[0].invoice_number is None and items[0].raw == {"faktooraId": "F10"}
    else:
        assert items[0].invoice_number == "RE-1" and str(items[0].total_gross) == "11.90"
    if shape == "results":
        assert items[0].faktoora_id == "IMP10" and items[0].raw["importId"] == "IMP10"


async def test_unknown_enum_values_and_fields_are_kept(server: str) -> None:
    async with _client(server, "enums") as c:
        status = await c.invoices.status("F1")
    assert status.invoice_status == "archived" and status.job_status == "thinking"
    assert status.raw["newField"] == {"a": 1}  # a field the SDK does not name is still readable


async def test_a_field_of_the_wrong_type_is_dropped_not_fatal(server: str) -> None:
    async with _client(server, "wrong-types") as c:
        status = await c.invoices.status("F1")
    assert status.invoice_status == "archived"
    assert status.delivery == [] and status.validation is None  # unusable: dropped
    assert status.raw["delivery"] == "not a list"  # ... but kept raw


async def test_nestjs_message_lists_become_field_errors(server: str) -> None:
    from faktoora_async.einvoice.generate import generate_invoice

    async with _client(server, "nest", max_retries=0) as c:
        with pytest.raises(BadRequestError) as info:
            await c.invoices.create(generate_invoice(1, seed=2), preflight=False)
    errors = info.value.errors
    assert [(e.index, e.field) for e in errors] == [
        (0, "invoices[0].buyer.postcode"),
        (2, "invoices[2].invoiceItems[1].quantity"),
        (None, None),
    ]
    assert errors[0].message == "invoices.0.buyer.postcode must be a string"
    assert info.value.code == "Bad Request"


async def test_retry_after_as_an_http_date(server: str) -> None:
    async with _client(server, "throttle", max_retries=0) as c:
        with pytest.raises(RateLimitError) as info:
            await c.invoices.next_number()
    assert info.value.retry_after is not None and 25 <= info.value.retry_after <= 31


async def test_non_json_error_bodies_keep_the_right_class(server: str) -> None:
    async with _client(server, "text", max_retries=0) as c:
        with pytest.raises(BadRequestError) as info:
            await c.invoices.next_number()
    assert "upstream said no" in info.value.message and info.value.status == 400


async def test_opaque_ids_and_extra_fields_in_create_answers(server: str) -> None:
    from faktoora_async.einvoice.generate import generate_invoice

    async with _client(server, "created") as c:
        [done] = await c.invoices.create(generate_invoice(1, seed=2), preflight=False)
    assert done.faktoora_id == "INV123456" and done.raw["somethingNew"] is True


@pytest.mark.parametrize("shape", ["empty", "succeed"])
async def test_delete_answers_with_or_without_a_body(server: str, shape: str) -> None:
    call: Callable[[FaktooraClient], Awaitable[bool]] = lambda c: c.webhooks.delete("0b3c")  # noqa: E731
    async with _client(server, shape) as c:
        assert await call(c) is True


def _names(model: type) -> set[str]:
    return {f.encode_name for f in msgspec.structs.fields(model)}


def test_the_content_model_names_every_key_the_content_contract_has() -> None:
    """Every key of the content contract (einvoice.content) is a named field, so nothing needs .raw."""
    from faktoora_async.einvoice import content as contract
    from faktoora_async.models import imports as m

    empty = contract.empty_content()
    assert set(empty) <= _names(m.InvoiceContent), set(empty) - _names(m.InvoiceContent)
    nested = {
        "seller": m.ContentParty, "buyer": m.ContentParty, "delivery": m.ContentDelivery,
        "invoicingPeriod": m.ContentPeriod, "totals": m.ContentTotals, "paymentTerms": m.ContentPaymentTerms,
        "directDebit": m.ContentDirectDebit,
    }  # fmt: skip
    for key, model in nested.items():
        assert set(empty[key]) <= _names(model), (key, set(empty[key]) - _names(model))
    for keys, model in (
        (contract.LINE_KEYS, m.ContentLineItem),
        (contract.TAX_KEYS, m.ContentTax),
        (contract.PAYMENT_MEANS_KEYS, m.ContentPaymentMeans),
        (contract.ALLOWANCE_CHARGE_KEYS, m.ContentAllowanceCharge),
        (contract.ATTACHMENT_KEYS, m.ContentAttachmentRef),
    ):
        assert set(keys) <= _names(model), (model.__name__, set(keys) - _names(model))


def test_a_zero_total_is_a_total() -> None:
    from faktoora_async import protocol

    page = protocol.decode_page(
        InvoiceListItem, b'{"data": [], "meta": {"total": 0, "totalPages": 0}}', page=1, per_page=25
    )
    assert page.meta is not None and page.meta.total == 0 and page.meta.total_pages == 0 and not page.has_next
