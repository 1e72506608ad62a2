"""Receive faktoora webhooks with aiohttp.web and let ``invoices.wait()`` resolve from them.

The script starts a small aiohttp.web server, subscribes it to ``invoiceCreate`` and ``invoiceSent``,
creates a few invoices, waits for each (webhook first, polling only fills gaps), prints what happened and
removes its subscriptions again::

    python examples/webhook_receiver_aiohttp.py            # embedded sandbox, loopback webhooks
    FAKTOORA_API_KEY=... FAKTOORA_BASE_URL=... PUBLIC_URL=https://hooks.example.com \\
        PORT=8080 python examples/webhook_receiver_aiohttp.py

faktoora itself only delivers to public HTTPS targets: ``PUBLIC_URL`` must reach ``PORT`` on this machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sys
from collections.abc import AsyncIterator

from aiohttp import web

from faktoora_async import FaktooraClient
from faktoora_async.einvoice.generate import generate_invoice
from faktoora_async.errors import FaktooraError
from faktoora_async.integrations.aiohttp import webhook_handler
from faktoora_async.webhooks import WebhookDelivery, WebhookReceiver

WEBHOOK_PATH = "/webhooks/faktoora"


@contextlib.asynccontextmanager
async def connect() -> AsyncIterator[FaktooraClient]:
    """A client for FAKTOORA_BASE_URL/FAKTOORA_API_KEY, or for an embedded sandbox when they are unset."""
    base_url, api_key = os.environ.get("FAKTOORA_BASE_URL"), os.environ.get("FAKTOORA_API_KEY")
    async with contextlib.AsyncExitStack() as stack:
        if not base_url or not api_key:
            from faktoora_async.sandbox import Sandbox

            sandbox = await stack.enter_async_context(
                Sandbox(processing_delay=(0.2, 0.5), allow_private_targets=True)  # receiver on loopback
            )
            base_url, api_key = sandbox.base_url, sandbox.api_key
        yield await stack.enter_async_context(FaktooraClient(api_key, base_url=base_url))


async def main(count: int = 3) -> int:
    secret = secrets.token_urlsafe(24)
    async with connect() as client:
        seen: set[str] = set()
        all_seen = asyncio.Event()
        expected: set[str] = set()

        def on_event(delivery: WebhookDelivery) -> None:
            seen.add(delivery.faktoora_id)
            if expected and expected <= seen:
                all_seen.set()

        receiver = WebhookReceiver(client.events, secret=secret, on_event=on_event)
        app = web.Application()
        app.router.add_post(WEBHOOK_PATH, webhook_handler(receiver))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "0")))
            await site.start()
            port = runner.addresses[0][1]
            public = os.environ.get("PUBLIC_URL") or f"http://127.0.0.1:{port}"
            target = f"{public.rstrip('/')}{WEBHOOK_PATH}?token={secret}"
            subscriptions = [
                await client.webhooks.create(action, target) for action in ("invoiceCreate", "invoiceSent")
            ]
            print(f"receiving webhooks on port {port}")
            try:
                seed = secrets.randbelow(1_000_000)
                created = await client.invoices.create([generate_invoice(i, seed=seed) for i in range(count)])
                expected.update(invoice.faktoora_id for invoice in created)
                for invoice in created:
                    status = await client.invoices.wait(invoice.faktoora_id, timeout=60)
                    print(f"{invoice.faktoora_id}: {status.invoice_status}")
                # wait() may have confirmed a status by polling just before its webhook arrived
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(all_seen.wait(), 10)
            finally:
                for subscription in subscriptions:
                    await client.webhooks.delete(subscription.id)
            stats = receiver.stats
            print(
                f"webhooks: {stats.received} received, {stats.applied} applied, "
                f"{stats.duplicates} duplicates, {stats.stale} out of order, {stats.rejected} rejected"
            )
            return 0 if all_seen.is_set() else 1
        finally:
            await runner.cleanup()


def _env_int(name: str, default: int, low: int, high: int) -> int:
    """An integer setting from the environment; a bad one ends the script with one line (exit 2)."""
    text = os.environ.get(name, str(default))
    if not text.isdigit() or not low <= int(text) <= high:
        print(f"error: {name} must be a whole number from {low} to {high}, not {text!r}", file=sys.stderr)
        raise SystemExit(2)
    return int(text)


if __name__ == "__main__":
    count = _env_int("COUNT", 3, 1, 100)  # one create call takes up to 100 invoices
    _env_int("PORT", 0, 0, 65535)
    try:
        raise SystemExit(asyncio.run(main(count)))
    except FaktooraError as exc:  # a bad key or URL, an unreachable server: one line
        print(f"failed: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except OSError as exc:  # e.g. PORT already in use
        print(f"failed: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
