"""API.md v2 webhooks, SDK side: a real aiohttp.web receiver fed with many body variants over real HTTP,
handlers per action and a catch-all, waiters resolved from hub statuses, and the sandbox's real
deliveries of every documented action through the client's subscriptions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import anyio
import pytest
from aiohttp import web

from faktoora_async import FaktooraClient
from faktoora_async.integrations.aiohttp import webhook_handler
from faktoora_async.models import WebhookAction
from faktoora_async.sandbox import Sandbox
from faktoora_async.webhooks import WebhookDelivery, WebhookHub, WebhookReceiver

pytestmark = pytest.mark.anyio

STAMP = "2026-03-26T12:34:56Z"


@asynccontextmanager
async def serve(receiver: WebhookReceiver) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/hook", webhook_handler(receiver))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    finally:
        await runner.cleanup()


def v2(
    action: str, fid: str | None = "INV123456", status: str | None = "created", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"action": action, "timestamp": STAMP, "metadata": {"k": action}}
    if fid is not None:
        body["faktooraId"] = fid
    if status is not None:
        body["status"] = status
    body.update(extra)
    return body


# (name, body, expected action, expected id, expected status into the hub or None)
VARIANTS: list[tuple[str, Any]] = [
    *((f"documented {a}", v2(a, fid=f"ID-{a}", status="created")) for a in sorted(WebhookAction.ALL)),
    ("no metadata", {"action": "invoiceSent", "faktooraId": "INV1", "status": "sent", "timestamp": STAMP}),
    ("no timestamp", {"action": "invoiceSent", "faktooraId": "INV2", "status": "sent"}),
    ("no status", {"action": "invoiceCreate", "faktooraId": "INV3"}),
    ("no id", {"action": "customerCreate", "metadata": {"id": "c-1"}}),
    ("only an action", {"action": "offerSent"}),
    ("foreign id", v2("invoiceCreate", fid="F3K9Q2Z1", status="created")),
    ("numeric id", v2("invoiceCreate", fid=None, status="created", faktooraId=123456)),
    ("uuid id", v2("productCreate", fid="3fa85f64-5717-4562-b3fc-2c963f66afa6", status=None)),
    ("naive timestamp", v2("invoiceSent", fid="INV4", status="sent", timestamp="2026-03-26T12:34:56")),
    ("epoch seconds", v2("invoiceSent", fid="INV5", status="sent", timestamp=1774528496)),
    ("epoch milliseconds", v2("invoiceSent", fid="INV6", status="sent", timestamp=1774528496123)),
    ("epoch as text", v2("invoiceSent", fid="INV7", status="sent", timestamp="1774528496")),
    ("unknown action", v2("invoicePaid", fid="INV8", status="paid")),
    ("unknown status", v2("invoiceSent", fid="INV9", status="archived")),
    (
        "legacy v1 body",
        {
            "event": "invoice.status",
            "faktooraId": "FABCDEF12",
            "invoiceNumber": "RE-1",
            "status": "sent",
            "timestamp": STAMP,
        },
    ),
    ("extra fields", v2("invoiceSent", fid="INV10", status="sent", signature="x", nested={"a": [1]})),
    ("metadata not an object", v2("letterCreate", metadata=["x"])),
]


async def test_twenty_plus_variants_none_refused_none_lost() -> None:
    hub = WebhookHub()
    seen: list[WebhookDelivery] = []
    per_action: dict[str, list[str | None]] = {}
    receiver = WebhookReceiver(hub, on_event=seen.append)
    for action in WebhookAction.ALL:
        receiver.on(action, lambda d, a=action: per_action.setdefault(a, []).append(d.faktoora_id))

    @receiver.on("invoicePaid")
    async def paid(delivery: WebhookDelivery) -> None:  # an async handler for an action the SDK does not know
        await asyncio.sleep(0)
        per_action.setdefault("invoicePaid", []).append(delivery.faktoora_id)

    assert len(VARIANTS) >= 20
    async with serve(receiver) as url, aiohttp.ClientSession() as session:
        for name, body in VARIANTS:
            async with session.post(url, json=body) as resp:
                assert resp.status == 200, (name, await resp.text())
                assert (await resp.json())["duplicate"] is False, name
        # duplicates: the same deliveries again are acknowledged, applied once
        for name, body in VARIANTS[:5]:
            async with session.post(url, json=body) as resp:
                assert resp.status == 200 and (await resp.json())["duplicate"] is True, name
        # only non-objects (and bodies without an action) are refused
        for bad in (b"[]", b'"invoiceCreate"', b"42", b"null", b'{"faktooraId": "INV1"}', b"{"):
            async with session.post(url, data=bad, headers={"Content-Type": "application/json"}) as resp:
                assert resp.status == 400, bad
    assert len(seen) == len(VARIANTS)  # none lost
    assert receiver.stats.duplicates == 5 and receiver.stats.rejected == 6
    assert {a for a in WebhookAction.ALL} <= set(per_action)
    for action in WebhookAction.ALL:
        assert f"ID-{action}" in per_action[action]
    assert per_action["invoicePaid"] == ["INV8"]
    by_name = dict(zip((n for n, _ in VARIANTS), seen, strict=True))
    assert by_name["numeric id"].faktoora_id == "123456"
    for name in ("naive timestamp", "epoch seconds", "epoch as text"):
        ts = by_name[name].timestamp
        assert ts is not None and ts.isoformat() == "2026-03-26T12:34:56+00:00", name
    assert by_name["epoch milliseconds"].timestamp.isoformat() == "2026-03-26T12:34:56.123000+00:00"  # type: ignore[union-attr]
    assert by_name["no timestamp"].timestamp is None and by_name["no id"].faktoora_id is None
    assert (
        by_name["legacy v1 body"].action == "invoice.status"
        and by_name["legacy v1 body"].invoice_number == "RE-1"
    )
    assert by_name["extra fields"].raw["nested"] == {"a": [1]}
    # invoice statuses reached the hub; other actions did not
    assert hub.latest("INV1") == "sent" and hub.latest("INV4") == "sent" and hub.latest("FABCDEF12") == "sent"
    assert hub.latest("ID-invoiceCreate") == "created" and hub.latest("ID-customerCreate") is None
    assert hub.latest("INV8") is None  # an unknown action is passed to handlers, not taken as a status


async def test_out_of_order_deliveries_and_waiters() -> None:
    hub = WebhookHub()
    receiver = WebhookReceiver(hub)
    async with serve(receiver) as url, aiohttp.ClientSession() as session:
        results: dict[str, str | None] = {}

        async def waiter(fid: str) -> None:
            results[fid] = await hub.wait_for_change(fid, None, timeout=30)

        async with anyio.create_task_group() as tg:
            for fid in ("W1", "W2", "W3"):
                tg.start_soon(waiter, fid)
            await anyio.sleep(0.05)
            posts = [
                v2("invoiceSent", fid="W1", status="sent", timestamp="2026-03-26T12:00:05Z"),
                v2("invoiceCreate", fid="W1", status="created", timestamp="2026-03-26T12:00:01Z"),  # late
                v2("validationJobCompleted", fid="W2", status="created"),
                v2("invoiceCreate", fid="W3", status="review", timestamp=1774528400),
            ]
            for body in posts:
                async with session.post(url, json=body) as resp:
                    assert resp.status == 200
        assert results == {"W1": "sent", "W2": "created", "W3": "review"}
        assert hub.latest("W1") == "sent"  # the older "created" never moved it back
        assert receiver.stats.stale == 1


async def test_sandbox_delivers_every_action_to_sdk_subscriptions() -> None:
    async with (
        Sandbox(processing_delay=(0.05, 0.1), allow_private_targets=True) as sb,
        FaktooraClient(sb.api_key, base_url=sb.base_url) as client,
    ):
        got: dict[str, WebhookDelivery] = {}
        receiver = WebhookReceiver(client.events, on_event=lambda d: got.setdefault(d.action, d))
        async with serve(receiver) as url, aiohttp.ClientSession() as session:
            subs = [await client.webhooks.create(action, url) for action in sorted(WebhookAction.ALL)]
            assert len({s.id for s in subs}) == 16
            synonym = await client.webhooks.create(WebhookAction.INVOICE_CREATED, url)
            assert synonym.action == WebhookAction.INVOICE_CREATE
            for action in sorted(WebhookAction.ALL):
                async with session.post(
                    f"{sb.root_url}/_sandbox/events",
                    json={"action": action, "faktooraId": f"X-{action}", "status": "created"},
                    headers={"X-API-KEY": sb.api_key},
                ) as resp:
                    assert resp.status == 202
            for _ in range(500):
                if set(got) >= WebhookAction.ALL:
                    break
                await anyio.sleep(0.01)
    assert set(got) == WebhookAction.ALL
    for action, delivery in got.items():
        assert delivery.faktoora_id == f"X-{action}" and delivery.status == "created"
        assert delivery.timestamp is not None
        assert json.loads(json.dumps(delivery.raw))["action"] == action
