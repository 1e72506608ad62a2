"""Issue 11: the API.md v2 rows whose raw-HTTP or SDK side had no test elsewhere (row -> tests: the note).

Each test names its row.  Sandbox tests use real HTTP on loopback (``aiohttp`` for the raw side, the SDK as a
user calls it for the SDK side); the tolerance tests run a small real aiohttp server in the test that
answers the alternative shape (or a proxy in front of the sandbox that adds a field), no mocking.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import anyio
import msgspec
import pytest
from _sandbox_http import Api, invoice
from aiohttp import web

from faktoora_async import (
    BadRequestError,
    FaktooraClient,
    InvoiceValidationError,
    NotFoundError,
    NotReadyError,
    RateLimitError,
)
from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.integrations.aiohttp import webhook_handler
from faktoora_async.models import WebhookAction
from faktoora_async.protocol import APIRequest
from faktoora_async.protocol._request import FILE_HEADERS
from faktoora_async.ratelimit.headers import RateLimitInfo
from faktoora_async.sandbox import Sandbox
from faktoora_async.webhooks import WebhookDelivery, WebhookReceiver

pytestmark = pytest.mark.anyio

KEY = "sk_test_api_v2_rows_0123456789"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
INSTANT = dt.datetime(2026, 3, 26, 12, 34, 56, tzinfo=dt.timezone.utc)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def years() -> set[str]:
    """This year in UTC (and tomorrow's, for a run across New Year's Eve)."""
    now = dt.datetime.now(dt.timezone.utc).date()
    return {str(now.year), str((now + dt.timedelta(days=1)).year)}


def payload(index: int, **changes: Any) -> dict[str, Any]:
    """A valid generated invoice without delivery; ``key=None`` removes a field."""
    inv = generate_invoice(index, seed=73)
    inv.pop("delivery", None)
    for key, value in changes.items():
        if value is None:
            inv.pop(key, None)
        else:
            inv[key] = value
    return inv


@asynccontextmanager
async def serve(routes: Sequence[tuple[str, str, Handler]]) -> AsyncIterator[str]:
    """A real aiohttp.web server on loopback; yields its root URL."""
    app = web.Application()
    for method, path, handler in routes:
        app.router.add_route(method, path, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def sandbox_client(**options: Any) -> AsyncIterator[tuple[Sandbox, FaktooraClient]]:
    options.setdefault("processing_delay", (0.0, 0.02))
    async with (
        Sandbox(**options) as sb,
        FaktooraClient(sb.api_key, base_url=sb.base_url, max_retries=0, timeout=30) as client,
    ):
        yield sb, client


def sent(sb: Sandbox) -> int:
    return sum(sum(v.values()) for v in sb.stats()["requests"].values())


# ============================================================================================ Webhooks
async def test_sdk_subscriptions_have_uuid_ids_patch_action_and_delete_succeeds() -> None:
    """Webhooks table: POST -> 201 {id: uuid, action, target, createdAt}; PATCH action; DELETE succeed."""
    async with sandbox_client(allow_private_targets=True) as (_, client):
        sub = await client.webhooks.create(WebhookAction.INVOICE_SENT, "https://93.184.215.14/hook")
        assert UUID.fullmatch(sub.id), sub
        assert sub.created_at is not None and sub.created_at.tzinfo is not None
        assert abs(sub.created_at - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=5)
        assert set(sub.raw) == {"id", "action", "target", "createdAt"}
        changed = await client.webhooks.update(sub.id, action=WebhookAction.CUSTOMER_CREATE)
        assert (changed.id, changed.action, changed.target) == (sub.id, "customerCreate", sub.target)
        [listed] = [s async for s in client.webhooks.list()]
        assert listed.id == sub.id and listed.action == "customerCreate"
        raw = await client.webhooks.with_raw_response.delete(sub.id)
        assert raw.status == 200 and json.loads(raw.content) == {"succeed": True} and raw.parsed is True
        assert [s async for s in client.webhooks.list()] == []


async def test_sdk_sends_the_action_as_the_caller_passes_it() -> None:
    """Webhooks "Subscribing": the SDK sends invoiceCreated as given; the sandbox maps it to invoiceCreate."""
    bodies: list[Any] = []

    async def create(request: web.Request) -> web.Response:
        body = await request.json()
        bodies.append(body)
        answer = {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", **body, "createdAt": "2026-03-26T12:34:56Z"}
        return web.json_response(answer, status=201)

    async with (
        serve([("POST", "/api/v1/webhooks", create)]) as root,
        FaktooraClient(KEY, base_url=root + "/api/v1") as client,
    ):
        sub = await client.webhooks.create(WebhookAction.INVOICE_CREATED, "https://hooks.example.com/x")
    assert bodies == [{"action": "invoiceCreated", "target": "https://hooks.example.com/x"}]
    assert sub.action == "invoiceCreated"  # what the server answered, not rewritten by the SDK
    async with sandbox_client(allow_private_targets=True) as (_, client):
        synonym = await client.webhooks.create("invoiceCreated", "https://hooks.example.com/x")
        assert synonym.action == "invoiceCreate"


REFUSED_FOR_SDK = [
    ("http://127.0.0.1:8080/hook", "loopback"),
    ("http://[::1]/hook", "loopback"),
    ("http://10.1.2.3/hook", "RFC 1918"),
    ("https://172.16.0.9/hook", "RFC 1918"),
    ("http://192.168.1.10/hook", "RFC 1918"),
    ("http://printer.local/hook", "internal name"),
    ("https://hooks.example.invalid/x", "internal name"),
    ("http://localhost:8000/hook", "internal name"),
]


async def test_sdk_private_targets_are_refused_unless_the_switch_is_on() -> None:
    """Webhooks "Target URLs": refused with 400 BAD_REQUEST naming the target; the switch allows them."""
    async with sandbox_client(allow_private_targets=False) as (sb, client):
        assert sb.config.allow_private_targets is False
        for target, reason in REFUSED_FOR_SDK:
            with pytest.raises(BadRequestError) as info:
                await client.webhooks.create(WebhookAction.INVOICE_SENT, target)
            err = info.value
            assert err.status == 400 and err.code == "BAD_REQUEST", target
            assert [e.field for e in err.errors] == ["target"] and reason in err.errors[0].message, target
        public = await client.webhooks.create(WebhookAction.INVOICE_SENT, "https://93.184.215.14/hook")
        with pytest.raises(BadRequestError) as info:
            await client.webhooks.update(public.id, target="http://192.168.0.1/x")
        assert "RFC 1918" in info.value.errors[0].message
        assert [s.target async for s in client.webhooks.list()] == ["https://93.184.215.14/hook"]
    async with sandbox_client(allow_private_targets=True) as (_, client):
        for target, _ in REFUSED_FOR_SDK:
            sub = await client.webhooks.create(WebhookAction.INVOICE_SENT, target)
            assert sub.target == target


async def test_sdk_receiver_reads_customer_and_product_events() -> None:
    """Webhooks "Delivery body": for customer/product events faktooraId is the object's id, metadata it."""
    async with sandbox_client(allow_private_targets=True) as (_, client):
        got: list[WebhookDelivery] = []
        both = anyio.Event()

        def note(delivery: WebhookDelivery) -> None:
            got.append(delivery)
            if len(got) >= 2:
                both.set()

        receiver = WebhookReceiver(client.events, on_event=note)
        async with serve([("POST", "/hook", webhook_handler(receiver))]) as root:
            for action in (WebhookAction.CUSTOMER_CREATE, WebhookAction.PRODUCT_CREATE):
                await client.webhooks.create(action, root + "/hook")
            product = await client.products.create(name="Tee", unit="H87", tax=7)
            customer = await client.customers.create(
                is_company=True, name="ACME GmbH", address="Hauptstr. 1", postcode="10115", city="Berlin"
            )
            with anyio.fail_after(30):
                await both.wait()
        by_action = {d.action: d for d in got}
        assert set(by_action) == {"customerCreate", "productCreate"}
        for delivery, made in (
            (by_action["productCreate"], product),
            (by_action["customerCreate"], customer),
        ):
            assert delivery.faktoora_id == made.id and delivery.status == "created"
            assert dict(delivery.metadata) == made.raw
            assert delivery.timestamp is not None and delivery.timestamp.tzinfo is not None
        assert receiver.stats.rejected == 0
        assert client.events.latest(str(product.id)) is None  # not an invoice status: the hub is not moved


async def test_raw_secret_token_in_the_target_url_reaches_the_receiver() -> None:
    """Webhooks: "a receiver can authenticate faktoora by a secret token in its target URL"."""
    seen: list[tuple[dict[str, str], Any]] = []
    arrived = anyio.Event()

    async def hook(request: web.Request) -> web.Response:
        seen.append((dict(request.query), await request.json()))
        arrived.set()
        return web.Response(status=204)

    async with (
        serve([("POST", "/hook", hook)]) as root,
        aiohttp.ClientSession() as session,
        Sandbox(allow_private_targets=True, processing_delay=(0.0, 0.02)) as sb,
    ):
        api = Api(session, sb)
        target = root + "/hook?token=s3cr3t-t0ken&tenant=a"
        status, sub, _ = await api.call(
            "POST", "/webhooks", json={"action": "invoiceCreate", "target": target}
        )
        assert status == 201 and sub["target"] == target
        (fid,) = await api.create(invoice("TOK-1"))
        with anyio.fail_after(30):
            await arrived.wait()
    [(query, body)] = seen
    assert query == {"token": "s3cr3t-t0ken", "tenant": "a"}
    assert body["action"] == "invoiceCreate" and body["faktooraId"] == fid


# ====================================================================================== Invoice numbers
async def numbers(client: FaktooraClient) -> dict[str, str | None]:
    return {item.faktoora_id or "": item.invoice_number async for item in client.invoices.list(per_page=1000)}


@pytest.mark.parametrize(
    ("template", "pad", "pattern"),
    [
        ("YYYY/MM/id", 5, r"(?P<y>\d{4})/(?P<m>\d{2})/0000(?P<n>\d)"),
        ("YYYY-id", 5, r"(?P<y>\d{4})-0000(?P<n>\d)"),
        ("RE-YYYY-id", 5, r"RE-(?P<y>\d{4})-0000(?P<n>\d)"),
        ("YYYY-id", 4, r"(?P<y>\d{4})-000(?P<n>\d)"),
        ("RE-YYYY-id", 4, r"RE-(?P<y>\d{4})-000(?P<n>\d)"),
        ("YYYY/MM/id", 4, r"(?P<y>\d{4})/(?P<m>\d{2})/000(?P<n>\d)"),
    ],
)
async def test_sdk_templates_and_pad_lengths_number_created_invoices(
    template: str, pad: int, pattern: str
) -> None:
    """Invoice numbers: grammar (YYYY/MM/id, YYYY-id, RE-YYYY-id), pad length, numbering at creation."""
    async with sandbox_client(processing_delay=(30, 30)) as (_, client):
        settings = await client.settings.update_invoice_number_template(template=template, pad_length=pad)
        assert (settings.template, settings.pad_length, settings.counter) == (template, pad, 0)
        preview = await client.invoices.next_number()
        match = re.fullmatch(pattern, preview.invoice_number)
        assert match and match["y"] in years() and match["n"] == "1", preview
        assert preview.counter == 0 and preview.template is None
        first, second = await client.invoices.create(
            [payload(1, invoiceNumber=None), payload(2, invoiceNumber=None)]
        )
        made = await numbers(client)
        assert made[first.faktoora_id] == preview.invoice_number
        assert made[second.faktoora_id] == preview.invoice_number[:-1] + "2"
        assert (await client.settings.invoice_number_template()).counter == 2


async def test_sdk_preview_allocates_nothing() -> None:
    """Invoice numbers: next-number is a preview; `template` is echoed when one was passed."""
    async with sandbox_client(processing_delay=(30, 30)) as (_, client):
        first = await client.invoices.next_number()
        assert first == await client.invoices.next_number()
        assert set(first.raw) == {"invoiceNumber", "counter"}
        other = await client.invoices.next_number("RE-id")
        assert (other.invoice_number, other.counter, other.template) == ("RE-00001", 0, "RE-id")
        assert other.raw == {"invoiceNumber": "RE-00001", "counter": 0, "template": "RE-id"}
        settings = await client.settings.invoice_number_template()
        assert (settings.template, settings.counter) == ("YYYY/MM/id", 0)  # nothing moved, nothing set
        assert await client.invoices.verify_number(first.invoice_number) is True


async def test_sdk_uniqueness_bump() -> None:
    """Invoice numbers "Uniqueness": a used formatted number bumps the counter until one is free."""
    async with sandbox_client(processing_delay=(30, 30)) as (_, client):
        await client.settings.update_invoice_number_template(template="Y-id", pad_length=3)
        await client.invoices.create([payload(3, invoiceNumber="Z-001"), payload(4, invoiceNumber="Z-002")])
        await client.settings.update_invoice_number_template(template="Z-id")
        assert (await client.settings.invoice_number_template()).counter == 0  # Z-00n were not Y-made
        preview = await client.invoices.next_number()
        assert (preview.invoice_number, preview.counter) == ("Z-003", 0)  # Z-001, Z-002 taken: bumped
        assert await client.invoices.verify_number("Z-002") is False
        assert await client.invoices.verify_number("Z-003") is True
        a, b = await client.invoices.create([payload(5, invoiceNumber=None), payload(6, invoiceNumber=None)])
        made = await numbers(client)
        assert (made[a.faktoora_id], made[b.faktoora_id]) == ("Z-003", "Z-004")
        after = await client.invoices.next_number()
        assert (after.invoice_number, after.counter) == ("Z-005", 4)


async def test_sdk_counter_moves_to_the_largest_embedded_value() -> None:
    """Invoice numbers [decided]: a template-made number moves the counter to the largest, never back."""
    async with sandbox_client(processing_delay=(30, 30)) as (_, client):
        await client.settings.update_invoice_number_template(template="A-id", pad_length=5)
        await client.invoices.create(
            [payload(7, invoiceNumber="A-00005"), payload(8, invoiceNumber="A-00002")]
        )
        preview = await client.invoices.next_number()
        assert (preview.invoice_number, preview.counter) == ("A-00006", 5)
        await client.invoices.create(payload(9, invoiceNumber="B-00040"))  # not made by the template
        assert (await client.settings.invoice_number_template()).counter == 5


# ========================================================================== Content of created invoices
async def test_sdk_every_content_route_of_a_created_invoice() -> None:
    """Outgoing imports and content: every route answers for a created invoice's own faktooraId (SDK),
    each model equal to (and keeping) the raw JSON the sandbox answers."""
    async with sandbox_client() as (sb, client), aiohttp.ClientSession() as session:
        api = Api(session, sb)
        body = generate_invoice(7, seed=44, categories=["S"], format="xrechnung", lines=3)
        body["invoiceNumber"] = "CC-SDK-1"
        [created] = await client.invoices.create(body)
        await client.invoices.wait(created)
        fid = created.faktoora_id

        async def raw(tail: str) -> Any:
            status, answer, _ = await api.call("GET", f"/import/outgoing/{fid}{tail}")
            assert status == 200, (tail, answer)
            return answer

        content = await client.imports.content(fid)
        assert content.invoice_number == "CC-SDK-1" and content.raw == await raw("/content")
        summary = await client.imports.summary(fid)
        assert summary.invoice_number == "CC-SDK-1" and summary.raw == await raw("/content/summary")
        lines = await client.imports.line_items(fid)
        assert [x.raw for x in lines] == await raw("/content/lineitems") and len(lines) == 3
        assert [x.raw for x in await client.imports.taxes(fid)] == await raw("/content/taxes")
        means = await client.imports.payment_means(fid)
        assert [x.raw for x in means] == await raw("/content/paymentmeans")
        for method, tail in (
            (client.imports.payment_terms, "/content/paymentterms"),
            (client.imports.seller, "/content/seller"),
            (client.imports.buyer, "/content/buyer"),
            (client.imports.delivery, "/content/delivery"),
        ):
            part = await method(fid)
            expected = await raw(tail)
            assert (part.raw if part is not None else None) == (expected or None), tail
        seller = await client.imports.seller(fid)
        assert seller is not None and seller.name == content.seller.name  # type: ignore[union-attr]
        pdf = await client.invoices.download(fid)
        xml = await client.invoices.download(fid, format="xml")
        assert await client.imports.pdf(fid) == pdf and await client.imports.source(fid) == xml
        assert (await client.imports.validation(fid)).status == "accepted"
        report = await client.imports.validation_pdf(fid)
        assert isinstance(report, bytes) and report.startswith(b"%PDF")
        st = await client.imports.status(fid)
        assert (st.validation_status, st.visualization_status, st.overall_status) == ("accepted",) * 3
        assert [a async for a in client.imports.attachments(fid)] == []
        with pytest.raises(NotFoundError):
            await client.imports.attachment(fid, "1")
        with pytest.raises(NotFoundError):
            await client.imports.attachment_file(fid, "1")
        assert [i async for i in client.imports.list()] == []  # a created invoice is not an upload


async def test_sdk_content_is_not_ready_until_the_file_exists() -> None:
    """Outgoing imports and content [decided]: 409 NOT_READY until the created invoice's file exists."""
    async with sandbox_client(processing_delay=(30, 30)) as (_, client):
        [created] = await client.invoices.create(payload(10))
        fid = created.faktoora_id
        calls: list[Callable[[str], Awaitable[Any]]] = [
            client.imports.content,
            client.imports.summary,
            client.imports.status,
            client.imports.validation,
            client.imports.source,
            client.imports.pdf,
        ]
        for call in calls:
            with pytest.raises(NotReadyError) as info:
                await call(fid)
            assert info.value.status == 409 and info.value.code == "NOT_READY", call


# ==================================================================================== Downloads, seller
async def test_sdk_downloads_are_the_pdf_a_request_without_accept_gets() -> None:
    """Outgoing invoices: no Accept (or */*) -> the PDF; the SDK's default download is that PDF."""
    async with sandbox_client() as (sb, client), aiohttp.ClientSession() as session:
        [created] = await client.invoices.create(payload(11, invoiceNumber="NA-SDK/1"))
        await client.invoices.wait(created)
        fid = created.faktoora_id
        by_id = await client.invoices.download(fid)
        by_number = await client.invoices.download(invoice_number="NA-SDK/1")
        assert by_id == by_number and by_id.startswith(b"%PDF")
        for url, params in (
            (f"{sb.base_url}/invoices/{fid}", {}),
            (f"{sb.base_url}/invoices", {"invoiceNumber": "NA-SDK/1"}),
        ):
            async with session.get(
                url, params=params, headers={"X-API-KEY": sb.api_key}, skip_auto_headers=["Accept"]
            ) as resp:
                assert "Accept" not in resp.request_info.headers
                assert resp.content_type == "application/pdf" and await resp.read() == by_id
        # curl's default Accept through the SDK's own transport: the PDF is taken as the answer
        got = await client._transport.download(
            APIRequest("GET", f"/invoices/{fid}", accept="*/*", headers=FILE_HEADERS),
            to=None,
            default_name=lambda headers: "x.pdf",
        )
        assert got.status == 200 and got.headers["Content-Type"] == "application/pdf" and got.result == by_id


async def test_sdk_invoice_without_seller_uses_the_tenants_profile() -> None:
    """Invoice payload "seller" [decided]: one profile per key and tenant, set with PUT /_sandbox/profile."""
    async with (
        Sandbox(processing_delay=(0.0, 0.02)) as sb,
        aiohttp.ClientSession() as session,
        FaktooraClient(sb.api_key, base_url=sb.base_url) as default_tenant,
        FaktooraClient(sb.api_key, base_url=sb.base_url, account_id="branch-9") as branch,
    ):
        default = sb.profile()
        headers = {"X-API-KEY": sb.api_key, "x-account-id": "branch-9"}
        mine = {**default, "name": "Filiale Neun GmbH", "city": "Köln", "postcode": "50667"}
        async with session.put(f"{sb.root_url}/_sandbox/profile", json=mine, headers=headers) as resp:
            assert resp.status == 200 and await resp.json() == mine
        [a] = await default_tenant.invoices.create(payload(12, seller=None))
        [b] = await branch.invoices.create(payload(13, seller=None))
        await default_tenant.invoices.wait(a)
        await branch.invoices.wait(b)
        seller_a = (await default_tenant.imports.content(a.faktoora_id)).seller
        seller_b = (await branch.imports.content(b.faktoora_id)).seller
        assert seller_a is not None and seller_a.name == default["name"]
        assert seller_b is not None and (seller_b.name, seller_b.city) == ("Filiale Neun GmbH", "Köln")
        assert b"Filiale Neun GmbH" in await branch.invoices.download(b.faktoora_id, format="xml")


async def test_sdk_preflight_checks_a_seller_only_when_given() -> None:
    """Invoice payload "seller": the SDK's pre-flight checks the seller only when one is given."""
    async with sandbox_client() as (sb, client):
        client.invoices.preflight([payload(14, seller=None)])  # no seller: no finding
        bad = payload(15)
        bad["seller"] = {**bad["seller"], "name": "", "postcode": None}
        before = sent(sb)
        with pytest.raises(InvoiceValidationError) as info:
            await client.invoices.create(bad)
        paths = {v.path for v in info.value.violations}
        assert any(p.startswith("invoices[0].seller") for p in paths), paths
        assert sent(sb) == before  # nothing was sent


# ===================================================================================== Formats, PEPPOL
async def test_sdk_schema_values_and_the_old_ubl_format() -> None:
    """Invoice payload "format"/"schema": CII|UBL only (UBL with xrechnung); xrechnung:ubl is a 400."""
    async with sandbox_client() as (sb, client):
        for changes, path in (
            ({"schema": "ubl"}, "invoices[0].schema"),
            ({"format": "zf:2", "schema": "UBL"}, "invoices[0].schema"),
            ({"format": "xrechnung:ubl"}, "invoices[0].format"),
        ):
            with pytest.raises(InvoiceValidationError) as local:
                await client.invoices.create(payload(16, **changes))
            assert path in {v.path for v in local.value.violations}, changes
            # the same invoice past the pre-flight: the sandbox's 400 names the same field
            with pytest.raises(BadRequestError) as server:
                await client.invoices.create(payload(16, **changes), preflight=False)
            assert server.value.status == 400 and server.value.code == "BAD_REQUEST"
            assert [e.field for e in server.value.errors] == [path], changes
        assert sb.stats()["invoicesStored"] == 0


async def test_sdk_bad_peppol_recipients_are_bad_requests() -> None:
    """Invoice payload "delivery" [decided]: {"type": "peppol", "recipient": "<scheme>:<id>"} is validated."""
    async with sandbox_client() as (sb, client):
        for recipient, words in (
            ("0204:not-a-leitweg", "Leitweg-ID"),
            ("1234:abc", "not a CEF EAS code"),
            ("04011000-12345-03", "<scheme>:"),
        ):
            delivery = {"type": "peppol", "recipient": recipient}
            with pytest.raises(BadRequestError) as info:
                await client.invoices.create(payload(17, delivery=delivery))
            [error] = [e for e in info.value.errors if e.field == "invoices[0].delivery.recipient"]
            assert words in error.message and error.index == 0, recipient
        assert sb.stats()["invoicesStored"] == 0 and sb.outbox == []


# ========================================================================================== Tolerance
async def test_raw_sandbox_rate_limit_is_retry_after_seconds_and_nothing_else() -> None:
    """Rate limits [decided]: 429 with Retry-After: <seconds>; no other rate headers."""
    async with aiohttp.ClientSession() as session, Sandbox(rate=0.5, burst=1) as sb:
        seen = []
        for _ in range(2):
            async with session.get(f"{sb.base_url}/invoices", headers={"X-API-KEY": sb.api_key}) as resp:
                seen.append((resp.status, dict(resp.headers), await resp.json()))
    (ok, ok_headers, _), (limited, headers, body) = seen
    assert (ok, limited) == (200, 429)
    assert re.fullmatch(r"[1-9]\d*", headers["Retry-After"]), headers
    assert body["code"] == "TOO_MANY_REQUESTS" and body["statusCode"] == 429
    for names in (ok_headers, headers):
        assert not [h for h in names if h.lower().startswith(("ratelimit", "x-ratelimit"))], names


async def test_sdk_reads_ratelimit_headers_and_retry_after_seconds() -> None:
    """Rate limits, SDK tolerance: RateLimit-* and X-RateLimit-* are used; Retry-After in seconds."""
    answer = {"invoiceNumber": "X-1", "counter": 0}

    async def ietf(request: web.Request) -> web.Response:
        headers = {
            "RateLimit-Limit": "100",
            "RateLimit-Remaining": "42",
            "RateLimit-Reset": "3",
            "RateLimit-Policy": "100;w=10",
        }
        return web.json_response(answer, headers=headers)

    async def legacy(request: web.Request) -> web.Response:
        return web.json_response(answer, headers={"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "59"})

    async def throttled(request: web.Request) -> web.Response:
        body = {"code": "TOO_MANY_REQUESTS", "statusCode": 429, "message": "slow down"}
        return web.json_response(body, status=429, headers={"Retry-After": "7"})

    routes = [
        ("GET", "/ietf/api/v1/invoices/next-number", ietf),
        ("GET", "/legacy/api/v1/invoices/next-number", legacy),
        ("GET", "/throttle/api/v1/invoices/next-number", throttled),
    ]
    async with serve(routes) as root:
        async with FaktooraClient(KEY, base_url=root + "/ietf/api/v1") as client:
            assert (await client.invoices.next_number()).invoice_number == "X-1"
            info = client.rate_limiter.last_headers
            assert info == RateLimitInfo(limit=100, remaining=42, reset=3, window=10)
            assert client.rate_limiter.rate == pytest.approx(10.0)  # 100 per 10 s: the server's word
        async with FaktooraClient(KEY, base_url=root + "/legacy/api/v1") as client:
            await client.invoices.next_number()
            assert client.rate_limiter.last_headers == RateLimitInfo(limit=60, remaining=59)
        async with FaktooraClient(KEY, base_url=root + "/throttle/api/v1", max_retries=0) as client:
            with pytest.raises(RateLimitError) as err:
                await client.invoices.next_number()
            assert err.value.retry_after == pytest.approx(7.0)


def _sparse_lists() -> list[tuple[str, str, Handler]]:
    async def webhooks(request: web.Request) -> web.Response:
        rows = [{"id": "w-1", "action": "invoiceSent"}, {"faktooraId": "w-2"}, {"importId": "w-3"}]
        return web.json_response({"items": rows, "total": 3, "page": 1, "perPage": 25})

    async def webhooks_without_id(request: web.Request) -> web.Response:
        return web.json_response([{"action": "invoiceSent", "target": "https://hooks.example.com/x"}])

    async def attachments(request: web.Request) -> web.Response:
        return web.json_response([{"id": "a-1", "filename": "t.csv"}, {"importId": "a-2"}, {}])

    return [
        ("GET", "/ids/api/v1/webhooks", webhooks),
        ("GET", "/noid/api/v1/webhooks", webhooks_without_id),
        ("GET", "/ids/api/v1/import/outgoing/{fid}/attachments", attachments),
    ]


async def test_sdk_list_items_of_webhooks_and_attachments_take_any_id_name() -> None:
    """Pagination, SDK tolerance: list items with every field optional, the id faktooraId/id/importId."""
    async with serve(_sparse_lists()) as root, FaktooraClient(KEY, base_url=root + "/ids/api/v1") as client:
        subs = [s async for s in client.webhooks.list()]
        assert [s.id for s in subs] == ["w-1", "w-2", "w-3"] and subs[1].action is None
        assert subs[2].raw == {"importId": "w-3"}
        atts = [a async for a in client.imports.attachments("INV123456")]
        assert [a.id for a in atts] == ["a-1", "a-2", None] and atts[0].filename == "t.csv"


async def test_sdk_a_webhook_list_item_without_an_id_is_kept() -> None:
    async with serve(_sparse_lists()) as root, FaktooraClient(KEY, base_url=root + "/noid/api/v1") as client:
        [sub] = [s async for s in client.webhooks.list()]
        assert sub.action == "invoiceSent" and sub.raw["target"] == "https://hooks.example.com/x"


def _timestamps(value: Any) -> list[tuple[str, str, Handler]]:
    async def webhooks(request: web.Request) -> web.Response:
        return web.json_response({"data": [{"id": "w-1", "createdAt": value}], "meta": {"total": 1}})

    async def invoices(request: web.Request) -> web.Response:
        return web.json_response({"data": [{"faktooraId": "INV123456", "createdAt": value}]})

    return [("GET", "/api/v1/webhooks", webhooks), ("GET", "/api/v1/invoices", invoices)]


async def created_ats(value: Any) -> list[dt.datetime | None]:
    async with serve(_timestamps(value)) as root, FaktooraClient(KEY, base_url=root + "/api/v1") as client:
        subs = [s.created_at async for s in client.webhooks.list()]
        items = [i.created_at async for i in client.invoices.list()]
    return subs + items


@pytest.mark.parametrize(
    "value", ["2026-03-26T12:34:56Z", "2026-03-26T14:34:56+02:00", 1774528496, "1774528496"]
)
async def test_sdk_response_timestamps_with_a_zone_or_in_epoch_seconds(value: Any) -> None:
    """Basics "Timestamps": ISO 8601 [doc]; SDK tolerance: with a zone, or epoch seconds."""
    for got in await created_ats(value):
        assert got is not None and got.tzinfo is not None and got == INSTANT, (value, got)


async def test_sdk_a_naive_response_timestamp_is_utc() -> None:
    for got in await created_ats("2026-03-26T12:34:56"):
        assert got is not None and got.tzinfo is not None and got == INSTANT, got


async def test_sdk_an_epoch_milliseconds_response_timestamp_is_read() -> None:
    for got in await created_ats(1774528496123):
        assert got == INSTANT + dt.timedelta(milliseconds=123), got


# --- raw JSON on every response model, through a proxy that adds a field the SDK does not name -----------
FUTURE = {"fieldFromTheFuture": {"n": 1}}


def _mark(value: Any) -> Any:
    if isinstance(value, list):
        return [_mark(item) for item in value]
    if isinstance(value, dict):
        marked = {**value, **FUTURE}
        for key in ("data", "items"):
            if isinstance(value.get(key), list):
                marked[key] = [_mark(item) for item in value[key]]
        return marked
    return value


@asynccontextmanager
async def future_proxy(sb: Sandbox) -> AsyncIterator[str]:
    """A real reverse proxy in front of the sandbox adding ``fieldFromTheFuture`` to each JSON object."""
    async with aiohttp.ClientSession(auto_decompress=False) as upstream:

        async def forward(request: web.Request) -> web.Response:
            headers = {
                k: v
                for k, v in request.headers.items()
                if k.lower() in {"x-api-key", "x-account-id", "accept", "content-type", "accept-encoding"}
            }
            async with upstream.request(
                request.method, sb.root_url + request.path_qs, headers=headers, data=await request.read()
            ) as resp:
                data = await resp.read()
                if resp.content_type == "application/json" and 200 <= resp.status < 300 and data:
                    return web.json_response(_mark(json.loads(data)), status=resp.status)
                out = {k: v for k, v in resp.headers.items() if k.lower() in {"content-type", "retry-after"}}
                return web.Response(body=data, status=resp.status, headers=out)

        async with serve([("*", "/{tail:.*}", forward)]) as root:
            yield root


async def test_sdk_every_response_model_keeps_its_raw_json() -> None:
    """Basics: 'it keeps what it can parse and exposes the raw JSON' (issue 11: every response model)."""
    async with (
        Sandbox(processing_delay=(0.0, 0.02), allow_private_targets=True) as sb,
        future_proxy(sb) as root,
        FaktooraClient(sb.api_key, base_url=root + "/api/v1", max_retries=0) as client,
    ):
        models: dict[str, Any] = {}
        models["NextNumber"] = await client.invoices.next_number()
        models["InvoiceNumberSettings"] = await client.settings.invoice_number_template()
        models["InvoiceNumberSettings(PUT)"] = await client.settings.update_invoice_number_template(
            pad_length=4
        )
        [created] = await client.invoices.create(payload(18))
        models["CreatedInvoice"] = created
        models["InvoiceStatus"] = await client.invoices.wait(created)
        [models["InvoiceListItem"]] = [i async for i in client.invoices.list()]
        sub = await client.webhooks.create(WebhookAction.INVOICE_SENT, "https://93.184.215.14/hook")
        models["WebhookSubscription(POST)"] = sub
        [models["WebhookSubscription(list)"]] = [s async for s in client.webhooks.list()]
        fid = created.faktoora_id
        models["InvoiceContent"] = await client.imports.content(fid)
        models["ContentSummary"] = await client.imports.summary(fid)
        models["ContentParty"] = await client.imports.seller(fid)
        models["ContentLineItem"] = (await client.imports.line_items(fid))[0]
        models["ContentTax"] = (await client.imports.taxes(fid))[0]
        models["ImportValidation"] = await client.imports.validation(fid)
        models["ImportStatus"] = await client.imports.status(fid)
        missing = {name for name, model in models.items() if model.raw.get("fieldFromTheFuture") != {"n": 1}}
        assert missing == set(), missing
        assert models["InvoiceStatus"].invoice_status == "created"
        assert await client.webhooks.delete(sub.id) is True


async def test_sdk_an_updated_subscription_keeps_its_raw_json() -> None:
    async with (
        Sandbox(allow_private_targets=True) as sb,
        future_proxy(sb) as root,
        FaktooraClient(sb.api_key, base_url=root + "/api/v1", max_retries=0) as client,
    ):
        sub = await client.webhooks.create(WebhookAction.INVOICE_SENT, "https://93.184.215.14/hook")
        changed = await client.webhooks.update(sub.id, action=WebhookAction.PRODUCT_CREATE)
        assert changed.action == "productCreate"
        assert changed.raw.get("fieldFromTheFuture") == {"n": 1}, changed.raw


def test_models_named_here_are_response_models() -> None:
    """The names the raw-JSON test checks are the SDK's response models (so the test means what it says)."""
    from faktoora_async import models

    names = ["NextNumber", "InvoiceNumberSettings", "CreatedInvoice", "InvoiceStatus", "InvoiceListItem",
             "WebhookSubscription", "InvoiceContent", "ContentSummary", "ImportValidation", "ImportStatus",
             "ContentParty", "ContentLineItem", "ContentTax"]  # fmt: skip
    for name in names:
        model = getattr(models, name)
        assert issubclass(model, msgspec.Struct) and hasattr(model, "raw"), name
