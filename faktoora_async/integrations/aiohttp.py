"""aiohttp.web adapter for :class:`~faktoora_async.webhooks.WebhookReceiver`.

::

    receiver = WebhookReceiver(client.events, secret=secret)
    app.router.add_post("/webhooks/faktoora", webhook_handler(receiver))

The body is streamed (``request.content.iter_chunked``) and reading stops at ``receiver.max_bytes``; the
status codes are the same as in :mod:`faktoora_async.integrations.fastapi`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from faktoora_async.webhooks import WebhookError, WebhookReceiver

__all__ = ["webhook_handler"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def webhook_handler(receiver: WebhookReceiver, *, chunk_size: int = 16 * 1024) -> Handler:
    """An aiohttp.web handler: ``app.router.add_post(path, webhook_handler(receiver))``."""

    async def faktoora_webhook(request: web.Request) -> web.StreamResponse:
        try:
            result = await receiver.receive(
                request.content.iter_chunked(chunk_size),
                headers=request.headers.items(),
                query=request.query,
            )
        except WebhookError as exc:
            response = web.json_response({"ok": False, "error": str(exc)}, status=exc.http_status)
            if exc.http_status == 413:
                # Close after answering instead of "lingering" (reading and discarding the rest for 10 s).
                response.force_close()
                request.protocol.force_close()
            return response
        return web.json_response({"ok": True, "duplicate": result.duplicate, "advanced": result.advanced})

    return faktoora_webhook
