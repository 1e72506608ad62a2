"""``client.webhooks``: webhook subscriptions (``/webhooks``)."""

from __future__ import annotations

from .._raw import raw_method
from ..models import Succeeded, WebhookSubscription
from ..pagination import AsyncPaginator
from ..protocol import paged
from ..protocol import webhooks as proto
from ._base import DEFAULT_PER_PAGE, Resource

__all__ = ["Webhooks", "WebhooksWithRawResponse"]


class Webhooks(Resource):
    """Subscriptions of URLs to events (``invoiceCreate``, ``invoiceSent``, ``validationJobCompleted``...)."""

    @property
    def with_raw_response(self) -> WebhooksWithRawResponse:
        return WebhooksWithRawResponse(self)

    def list(self, *, page: int = 1, per_page: int = DEFAULT_PER_PAGE) -> AsyncPaginator[WebhookSubscription]:
        """The subscriptions: await for a page, ``async for`` for every one."""
        return self._paginate(
            lambda n, size: paged("/webhooks", (), n, size), WebhookSubscription, page, per_page
        )

    async def create(self, action: str, target: str) -> WebhookSubscription:
        """Subscribe ``target`` (a public http(s) URL) to ``action`` (sent as given)."""
        return await self._r.request(proto.create(action, target), WebhookSubscription)

    async def update(
        self, webhook_id: str, *, action: str | None = None, target: str | None = None
    ) -> WebhookSubscription:
        """Change a subscription's action and/or target; returns the subscription as it is now.

        A server that answers ``{"succeed": true}`` instead of the subscription is read back from the list.
        """
        answer = await self._r.request(proto.update(webhook_id, action=action, target=target), Succeeded)
        if answer.raw.get("id") is not None:
            from ..models._base import attach_raw
            from ..protocol import lenient_convert

            sub: WebhookSubscription = lenient_convert(dict(answer.raw), WebhookSubscription)
            attach_raw(sub, answer.raw)
            return sub
        async for sub in self.list():
            if sub.id == webhook_id:
                return sub
        return WebhookSubscription(id=webhook_id, action=action, target=target)

    async def delete(self, webhook_id: str) -> bool:
        """Remove a subscription; True when the server confirmed (``{"succeed": true}`` or an empty 2xx)."""
        answer = await self._r.request_optional(proto.delete(webhook_id), Succeeded)
        return True if answer is None else answer.succeed


class WebhooksWithRawResponse:
    """``client.webhooks.with_raw_response``."""

    def __init__(self, webhooks: Webhooks) -> None:
        self.list = raw_method(webhooks.list)
        self.create = raw_method(webhooks.create)
        self.update = raw_method(webhooks.update)
        self.delete = raw_method(webhooks.delete)
