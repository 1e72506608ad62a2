"""``client.webhooks``: webhook subscriptions (``/webhooks``)."""

from __future__ import annotations

import builtins

import msgspec

from ..models import WebhookDeleted, WebhookSubscription
from ..protocol import APIRequest, decode_json
from ._base import Resource, segment

__all__ = ["Webhooks"]


class Webhooks(Resource):
    """Subscriptions of URLs to events (``invoiceCreate``, ``invoiceSent``, ``validationJobCompleted``)."""

    async def list(self) -> builtins.list[WebhookSubscription]:
        """All subscriptions (every page)."""
        out: builtins.list[WebhookSubscription] = []
        async for item in self._items(WebhookSubscription, "/webhooks", (), 1, 100):
            out.append(item)
        return out

    async def create(self, action: str, target: str) -> WebhookSubscription:
        """Subscribe ``target`` (an http(s) URL) to ``action``."""
        result: WebhookSubscription = await self._send_json(
            "POST", WebhookSubscription, "/webhooks", {"action": action, "target": target}
        )
        return result

    async def update(
        self, webhook_id: str, *, action: str | None = None, target: str | None = None
    ) -> WebhookSubscription:
        """Change a subscription's action and/or target; returns the subscription as it is now."""
        body = {k: v for k, v in (("action", action), ("target", target)) if v is not None}
        if not body:
            raise ValueError("give action and/or target")
        req = APIRequest(
            "PATCH",
            f"/webhooks/{segment(webhook_id)}",
            body=msgspec.json.encode(body),
            content_type="application/json",
        )
        resp = await self._transport.request(req)
        try:
            return msgspec.json.decode(resp.body, type=WebhookSubscription)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
            pass  # the answer is {"succeed": true}: read the subscription back
        for sub in await self.list():
            if sub.id == webhook_id:
                return sub
        return WebhookSubscription(id=webhook_id, action=action, target=target)

    async def delete(self, webhook_id: str) -> bool:
        """Remove a subscription; True when the server confirmed (``{"succeed": true}``)."""
        resp = await self._transport.request(APIRequest("DELETE", f"/webhooks/{segment(webhook_id)}"))
        if not resp.body.strip():
            return True
        result: WebhookDeleted = decode_json(
            WebhookDeleted, resp.body, status=resp.status, content_type=resp.content_type
        )
        return result.succeed
