"""Webhook events: receiving faktoora's deliveries and the hub that ``invoices.wait()`` listens to.

faktoora POSTs ``{"action": "invoiceCreate", "faktooraId", "status", "timestamp", "metadata"}`` (API.md v2;
16 actions, see :class:`~faktoora_async.models.WebhookAction`) to subscribed targets.  No signing scheme is
documented, deliveries may repeat and may arrive out of order.
This module turns that into something safe to expose on the internet:

* :func:`parse_event` decodes one delivery from raw bytes: a size cap; any JSON object with an ``action``
  (or a legacy ``event``) is accepted, every other field read tolerantly (opaque ids, timestamps with or
  without zone or as epoch numbers, the raw JSON kept); only non-objects and bodies without an action get
  a :class:`WebhookPayloadError`;
* :func:`check_secret` compares a shared secret (sent as a header or a ``?token=`` query parameter of the
  target URL you subscribe) in constant time;
* :class:`Deduplicator` remembers the last N ``(action, faktooraId, status, timestamp)`` keys (an LRU,
  bounded memory) so a repeated delivery is applied once;
* :class:`WebhookHub` keeps, per invoice, the most advanced status seen and never moves it backwards; the
  client's ``invoices.wait()`` resolves from it and polls only to fill gaps;
* :class:`WebhookReceiver` ties these together for any web framework: ``await receiver.receive(chunks,
  headers=..., query=...)``; ``receiver.on("customerCreate", handler)`` per action, ``on_event`` for all;
  deliveries of unknown actions are passed to the handlers, never refused.  Thin adapters live in
  :mod:`faktoora_async.integrations.fastapi` and :mod:`faktoora_async.integrations.aiohttp`.

Error tree (all are :class:`~faktoora_async.errors.FaktooraError`)::

    WebhookError                  http_status 400
    ├── WebhookPayloadError       400  not JSON, wrong shape, wrong type; ``field`` names the field
    ├── WebhookAuthError          401  shared secret missing or wrong
    ├── WebhookTimeoutError       408  the body did not arrive within ``body_timeout`` (slow sender)
    ├── WebhookTooLargeError      413  body over ``max_bytes``; ``bytes_read`` tells how much was read
    └── WebhookMediaTypeError     415  a Content-Type that is not JSON
"""

from __future__ import annotations

import inspect
import logging
import math
from collections import OrderedDict
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import anyio

from faktoora_async.models.responses import STATUS_RANK  # a status never moves to a lower rank

from ._errors import (
    WebhookAuthError,
    WebhookError,
    WebhookMediaTypeError,
    WebhookPayloadError,
    WebhookTimeoutError,
    WebhookTooLargeError,
)
from ._parse import (
    DEFAULT_MAX_BYTES,
    DEFAULT_SECRET_HEADER,
    DEFAULT_SECRET_QUERY,
    WebhookDelivery,
    check_secret,
    parse_event,
    parse_timestamp,
    read_capped,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "INVOICE_ACTIONS",
    "STATUS_RANK",
    "Deduplicator",
    "ReceiveResult",
    "ReceiverStats",
    "WebhookAuthError",
    "WebhookDelivery",
    "WebhookError",
    "WebhookHub",
    "WebhookMediaTypeError",
    "WebhookPayloadError",
    "WebhookReceiver",
    "WebhookTimeoutError",
    "WebhookTooLargeError",
    "check_secret",
    "feeds_hub",
    "parse_event",
    "parse_timestamp",
    "read_capped",
]

logger = logging.getLogger("faktoora_async.webhooks")


# --------------------------------------------------------------------------------------------- dedupe
class Deduplicator:
    """Remembers the last ``maxsize`` keys (least recently seen are forgotten first)."""

    def __init__(self, maxsize: int = 10_000) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be >= 1")
        self.maxsize = maxsize
        self._seen: OrderedDict[tuple[str, ...], None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, key: object) -> bool:
        return key in self._seen

    def check_and_add(self, key: tuple[str, ...]) -> bool:
        """Return True when ``key`` is new (and remember it), False when it was seen recently."""
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        if len(self._seen) > self.maxsize:
            self._seen.popitem(last=False)
        return True


# --------------------------------------------------------------------------------------------- hub
class WebhookHub:
    """In-memory, per-client record of the newest status each invoice reached, as told by webhooks.

    Memory is bounded: past ``max_invoices`` entries the least recently changed invoice is forgotten (a
    wait on it then simply falls back to polling).
    """

    def __init__(self, max_invoices: int = 200_000) -> None:
        if max_invoices < 1:
            raise ValueError("max_invoices must be >= 1")
        self.max_invoices = max_invoices
        # least recently changed first; the oldest entries are forgotten past ``max_invoices``
        self._latest: OrderedDict[str, str] = OrderedDict()
        self._changed: dict[str, anyio.Event] = {}
        self._waiters: dict[str, int] = {}
        self._fed = 0

    def __repr__(self) -> str:
        return f"WebhookHub(invoices={len(self._latest)}, fed={self._fed}, waiting={len(self._changed)})"

    @property
    def active(self) -> bool:
        """True once any event was fed: waits may then poll less often."""
        return self._fed > 0

    @property
    def fed(self) -> int:
        """How many events were published (including ones that did not move anything)."""
        return self._fed

    def latest(self, faktoora_id: str) -> str | None:
        """The most advanced status seen for ``faktoora_id``, or None."""
        return self._latest.get(faktoora_id)

    def publish(self, faktoora_id: str, status: str) -> bool:
        """Record ``status`` for ``faktoora_id``; return True when it moved the invoice forward."""
        self._fed += 1
        current = self._latest.get(faktoora_id)
        if current is not None and STATUS_RANK.get(status, 0) <= STATUS_RANK.get(current, 0):
            return False
        self._latest[faktoora_id] = status
        self._latest.move_to_end(faktoora_id)
        while len(self._latest) > self.max_invoices:
            self._latest.popitem(last=False)
        event = self._changed.pop(faktoora_id, None)
        if event is not None:
            event.set()
        return True

    def forget(self, faktoora_id: str) -> None:
        """Drop what is known about ``faktoora_id`` (for long-running processes)."""
        self._latest.pop(faktoora_id, None)

    async def wait_for_change(self, faktoora_id: str, since: str | None, timeout: float) -> str | None:
        """Wait up to ``timeout`` seconds for a status newer than ``since``; return it, or None."""
        current = self._latest.get(faktoora_id)
        if current is not None and current != since:
            return current
        event = self._changed.get(faktoora_id)
        if event is None:
            event = self._changed[faktoora_id] = anyio.Event()
        self._waiters[faktoora_id] = self._waiters.get(faktoora_id, 0) + 1
        try:
            with anyio.move_on_after(timeout if math.isfinite(timeout) else None):
                await event.wait()
        finally:
            left = self._waiters[faktoora_id] - 1
            if left:
                self._waiters[faktoora_id] = left
            else:
                # Last waiter gone: do not keep an Event per invoice that timed out.
                del self._waiters[faktoora_id]
                if self._changed.get(faktoora_id) is event:
                    del self._changed[faktoora_id]
        current = self._latest.get(faktoora_id)
        return current if current != since else None


# --------------------------------------------------------------------------------------------- receiver
@dataclass
class ReceiverStats:
    """Counters of a :class:`WebhookReceiver` (for metrics and tests)."""

    received: int = 0
    applied: int = 0
    duplicates: int = 0
    stale: int = 0
    rejected: int = 0
    other: int = 0
    """Accepted deliveries that carry no invoice status (customers, products, unknown actions, ...)."""
    bytes_read: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    by_action: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReceiveResult:
    """What happened to one accepted delivery."""

    delivery: WebhookDelivery
    duplicate: bool
    advanced: bool
    pending: tuple[Awaitable[object], ...] = ()
    """Awaitables returned by async handlers; :meth:`WebhookReceiver.receive` awaits them."""


def _header(headers: Mapping[str, str] | Iterable[tuple[str, str]], name: str) -> str | None:
    items = headers.items() if isinstance(headers, Mapping) else headers
    wanted = name.lower()
    for key, value in items:
        if key.lower() == wanted:
            return value
    return None


def _is_json_media_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("application/json", "") or (media.startswith("application/") and media.endswith("+json"))


HubSource = WebhookHub | Callable[[], WebhookHub]
Handler = Callable[[WebhookDelivery], object]

INVOICE_ACTIONS: Final = frozenset(
    {"invoiceCreate", "invoiceSent", "invoiceOverdue", "validationJobCompleted"}
)
"""Actions whose ``status`` is the invoice's ``invoiceStatus``: they feed the hub (and so the waiters)."""


def feeds_hub(delivery: WebhookDelivery) -> bool:
    """True for a delivery that tells an invoice's status (also a v1 ``event: "invoice.*"`` one)."""
    if delivery.faktoora_id is None or delivery.status is None:
        return False
    return delivery.action in INVOICE_ACTIONS or delivery.action.startswith("invoice.")


class WebhookReceiver:
    """Framework-neutral webhook endpoint logic: secret check, capped read, parse, de-duplicate, feed the hub.

    ``hub`` is the client's ``client.events`` or a zero-argument callable returning it (handy when the client
    is created later, e.g. in a FastAPI lifespan).  ``secret``, when set, must arrive either in the header
    ``secret_header`` or in the query parameter ``secret_query`` of the target URL.  ``body_timeout`` bounds
    the time the whole body may take to arrive (a slow sender cannot hold the endpoint open).
    """

    def __init__(
        self,
        hub: HubSource,
        *,
        secret: str | None = None,
        secret_header: str = DEFAULT_SECRET_HEADER,
        secret_query: str | None = DEFAULT_SECRET_QUERY,
        max_bytes: int = DEFAULT_MAX_BYTES,
        dedupe_size: int = 10_000,
        body_timeout: float | None = 10.0,
        on_event: Handler | None = None,
        handlers: Mapping[str, Handler] | None = None,
    ) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be >= 1")
        self.body_timeout = body_timeout
        self._hub = hub
        self._secret = secret
        self.secret_header = secret_header
        self.secret_query = secret_query
        self.max_bytes = max_bytes
        self.dedupe = Deduplicator(dedupe_size)
        self.on_event = on_event
        self.handlers: dict[str, list[Handler]] = {}
        for action, handler in (handlers or {}).items():
            self.on(action, handler)
        self.stats = ReceiverStats()

    def on(self, action: str, handler: Handler | None = None) -> Any:
        """Call ``handler(delivery)`` for each new delivery of ``action`` (also usable as a decorator).

        ``on_event`` (the catch-all) sees every new delivery, whatever its action, after the action's
        handlers.  A handler may be async: :meth:`receive` awaits what it returns.
        """
        if handler is None:

            def register(fn: Handler) -> Handler:
                self.handlers.setdefault(action, []).append(fn)
                return fn

            return register
        self.handlers.setdefault(action, []).append(handler)
        return handler

    def __repr__(self) -> str:
        secret = "set" if self._secret is not None else "none"
        return f"WebhookReceiver(secret={secret}, max_bytes={self.max_bytes}, stats={self.stats!r})"

    @property
    def hub(self) -> WebhookHub:
        return self._hub if isinstance(self._hub, WebhookHub) else self._hub()

    @hub.setter
    def hub(self, value: HubSource) -> None:
        self._hub = value

    def _reject(self, exc: WebhookError) -> WebhookError:
        self.stats.rejected += 1
        reason = type(exc).__name__
        self.stats.rejected_by_reason[reason] = self.stats.rejected_by_reason.get(reason, 0) + 1
        logger.warning("webhook delivery rejected (%s): %s", exc.http_status, exc)
        return exc

    def authenticate(
        self,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        query: Mapping[str, str] | None = None,
    ) -> None:
        """Check the shared secret (header first, then query token); no-op when no secret is configured."""
        if self._secret is None:
            return
        provided = _header(headers, self.secret_header)
        if provided is None and self.secret_query is not None and query is not None:
            provided = query.get(self.secret_query)
        try:
            check_secret(self._secret, provided)
        except WebhookAuthError as exc:
            raise self._reject(exc) from None

    def check_headers(self, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> int | None:
        """Validate Content-Type and Content-Length; return the declared length (or None)."""
        content_type = _header(headers, "content-type")
        if content_type is not None and not _is_json_media_type(content_type):
            raise self._reject(WebhookMediaTypeError("webhook body must be application/json"))
        length_text = _header(headers, "content-length")
        if length_text is None:
            return None
        try:
            length = int(length_text)
        except ValueError:
            raise self._reject(WebhookPayloadError("Content-Length is not a number")) from None
        if length > self.max_bytes:
            raise self._reject(
                WebhookTooLargeError(
                    f"webhook body of {length} bytes is larger than {self.max_bytes} bytes",
                    limit=self.max_bytes,
                    bytes_read=0,
                )
            )
        return length

    def accept(self, body: bytes) -> ReceiveResult:
        """Parse an already-read body, de-duplicate it, feed the hub (invoice statuses) and call handlers."""
        try:
            delivery = parse_event(body, max_bytes=self.max_bytes)
        except WebhookError as exc:
            raise self._reject(exc) from None
        self.stats.received += 1
        self.stats.by_action[delivery.action] = self.stats.by_action.get(delivery.action, 0) + 1
        if not self.dedupe.check_and_add(delivery.key):
            self.stats.duplicates += 1
            logger.debug("duplicate webhook delivery %r %s ignored", delivery.action, delivery.faktoora_id)
            return ReceiveResult(delivery, duplicate=True, advanced=False)
        advanced = False
        if feeds_hub(delivery):
            assert delivery.faktoora_id is not None and delivery.status is not None
            advanced = self.hub.publish(delivery.faktoora_id, delivery.status)
            if advanced:
                self.stats.applied += 1
            else:
                self.stats.stale += 1
        else:
            self.stats.other += 1
        logger.debug(
            "webhook %r %s -> %s (%s)",
            delivery.action,
            delivery.faktoora_id,
            delivery.status,
            "applied" if advanced else "not newer" if feeds_hub(delivery) else "no invoice status",
        )
        pending = []
        for handler in (*self.handlers.get(delivery.action, ()), *([self.on_event] if self.on_event else [])):
            outcome = handler(delivery)
            if inspect.isawaitable(outcome):
                pending.append(outcome)
        return ReceiveResult(delivery, duplicate=False, advanced=advanced, pending=tuple(pending))

    async def receive(
        self,
        chunks: AsyncIterable[bytes],
        *,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        query: Mapping[str, str] | None = None,
    ) -> ReceiveResult:
        """The whole endpoint: authenticate, check headers, read at most ``max_bytes`` + one chunk, accept.

        The secret and the headers are checked before a single body byte is read.
        """
        headers = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
        self.authenticate(headers, query)
        declared = self.check_headers(headers)
        counted = _CountingStream(chunks)
        body: bytes | None = None
        try:
            with anyio.move_on_after(self.body_timeout):
                body = await read_capped(counted, self.max_bytes, declared_length=declared)
        except WebhookTooLargeError as exc:
            raise self._reject(exc) from None
        finally:
            self.stats.bytes_read += counted.count
        if body is None:
            raise self._reject(
                WebhookTimeoutError(f"webhook body did not arrive within {self.body_timeout} s")
            )
        result = self.accept(body)
        for awaitable in result.pending:
            await awaitable
        return result


class _CountingStream:
    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self._chunks = chunks
        self.count = 0

    async def __aiter__(self) -> Any:
        async for chunk in self._chunks:
            self.count += len(chunk)
            yield chunk
