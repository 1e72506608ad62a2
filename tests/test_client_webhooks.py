"""``client.webhooks`` subscriptions, and ``invoices.wait()`` driven by events fed to ``client.events``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from faktoora_async import BadRequestError, FaktooraClient, NotFoundError, RetryConfig
from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.sandbox import Sandbox
from faktoora_async.webhooks import WebhookHub

pytestmark = pytest.mark.anyio


async def test_subscription_crud() -> None:
    async with Sandbox() as sb, FaktooraClient(sb.api_key, base_url=sb.base_url) as c:
        assert [s async for s in c.webhooks.list()] == []
        sub = await c.webhooks.create("invoiceCreate", "https://example.com/hook")
        assert sub.id and sub.action == "invoiceCreate" and sub.target == "https://example.com/hook"
        other = await c.webhooks.create("invoiceSent", "http://127.0.0.1:9/x")
        assert {s.id async for s in c.webhooks.list()} == {sub.id, other.id}
        changed = await c.webhooks.update(sub.id, target="https://example.com/v2")
        assert changed.id == sub.id and changed.target == "https://example.com/v2"
        assert changed.action == "invoiceCreate"
        assert await c.webhooks.delete(other.id) is True
        assert [s.id async for s in c.webhooks.list()] == [sub.id]
        with pytest.raises(NotFoundError):
            await c.webhooks.delete(other.id)
        with pytest.raises(BadRequestError) as info:
            await c.webhooks.create("noSuchAction", "ftp://nope")
        assert {e.field for e in info.value.errors} >= {"action", "target"}
        with pytest.raises(ValueError):
            await c.webhooks.update(sub.id)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, WebhookHub, list[dict[str, object]]]]:
    """A real webhook target on loopback that feeds every delivery into a hub."""
    hub = WebhookHub()
    seen: list[dict[str, object]] = []

    async def handle(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        seen.append(body)
        hub.publish(str(body["faktooraId"]), str(body["status"]))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook", hub, seen
    finally:
        await runner.cleanup()


def status_gets(sb: Sandbox) -> int:
    return sum(sb.stats()["requests"].get("GET /api/v2/invoices/{faktooraId}/status", {}).values())


async def test_wait_resolves_from_events_with_fewer_polls(
    receiver: tuple[str, WebhookHub, list[dict[str, object]]],
) -> None:
    target, hub, seen = receiver
    async with (
        Sandbox(processing_delay=(1.0, 1.0)) as sb,
        FaktooraClient(sb.api_key, base_url=sb.base_url, events=hub, retry=RetryConfig(max_retries=2)) as c,
    ):
        assert c.events is hub
        for action in ("invoiceCreate", "invoiceSent"):
            await c.webhooks.create(action, target)

        # first invoice: nothing fed yet, so wait() polls
        first = generate_invoice(0, seed=4)
        first.pop("delivery", None)
        (a,) = await c.invoices.create(first)
        before = status_gets(sb)
        assert (await c.invoices.wait(a.faktoora_id, timeout=30)).invoice_status == "created"
        polled = status_gets(sb) - before
        assert hub.active and hub.latest(a.faktoora_id) == "created"

        # second invoice: the hub is fed, wait() listens and confirms with one GET
        second = generate_invoice(1, seed=4)
        second["delivery"] = {"type": "email", "recipient": "x@example.com"}
        (b,) = await c.invoices.create(second)
        before = status_gets(sb)
        final = await c.invoices.wait(b.faktoora_id, timeout=30)
        evented = status_gets(sb) - before
        assert final.invoice_status == "sent"
        assert evented <= 3 < polled + 1
        assert evented < polled
        assert any(e["faktooraId"] == b.faktoora_id and e["status"] == "sent" for e in seen)


async def test_an_early_event_is_confirmed_by_the_server_before_wait_returns() -> None:
    hub = WebhookHub()
    async with (
        Sandbox(processing_delay=(0.6, 0.6)) as sb,
        FaktooraClient(sb.api_key, base_url=sb.base_url, events=hub) as c,
    ):
        invoice = generate_invoice(2, seed=4)
        invoice.pop("delivery", None)
        (created,) = await c.invoices.create(invoice)
        hub.publish(created.faktoora_id, "created")  # an event that runs ahead of the server
        assert (await c.invoices.status(created.faktoora_id)).invoice_status is None
        # the webhook-mode safety poll (10 s) is at the timeout: only the quick re-check can finish in time
        final = await c.invoices.wait(created.faktoora_id, timeout=9)
        assert final.invoice_status == "created"
