"""Webhook events: receiving faktoora's deliveries and the hub that ``invoices.wait()`` listens to.

faktoora POSTs ``{"event": "invoice.status", "faktooraId", "invoiceNumber", "status", "timestamp", ...}`` to
subscribed targets.  No signing scheme is documented, deliveries may repeat and may arrive out of order.
This module turns that into something safe to expose on the internet:

* :func:`parse_event` decodes one delivery from raw bytes: a size cap, a strict schema for the known fields
  (unknown extra fields are ignored so new server fields never break receivers), a clear
  :class:`WebhookPayloadError` naming the offending field;
* :func:`check_secret` compares a shared secret (sent as a header or a ``?token=`` query parameter of the
  target URL you subscribe) in constant time;
* :class:`Deduplicator` remembers the last N ``(faktooraId, status, timestamp)`` keys (an LRU, bounded
  memory) so a repeated delivery is applied once;
* :class:`WebhookHub` keeps, per invoice, the most advanced status seen and never moves it backwards; the
  client's ``invoices.wait()`` resolves from it and polls only to fill gaps;
* :class:`WebhookReceiver` ties these together for any web framework: ``await receiver.receive(chunks,
  headers=..., query=...)``.  Thin adapters live in :mod:`faktoora_async.integrations.fastapi` and
  :mod:`faktoora_async.integrations.aiohttp`.

Error tree (all are :class:`~faktoora_async.errors.FaktooraError`)::

    WebhookError                  http_status 400
    ├── WebhookPayloadError       400  not JSON, wrong shape, wrong type; ``field`` names the field
    ├── WebhookAuthError          401  shared secret missing or wrong
    ├── WebhookTimeoutError       408  the body did not arrive within ``body_timeout`` (slow sender)
    ├── WebhookTooLargeError      413  body over ``max_bytes``; ``bytes_read`` tells how much was read
    └── WebhookMediaTypeError     415  a Content-Type that is not JSON
"""

from __future__ import annotations

import datetime as _dt
import hmac
import logging
import math
import re
from collections import OrderedDict
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import anyio
import msgspec

from faktoora_async.errors import FaktooraError
from faktoora_async.models.responses import STATUS_RANK  # a status never moves to a lower rank

__all__ = [
    "DEFAULT_MAX_BYTES",
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
    "parse_event",
    "read_capped",
]

logger = logging.getLogger("faktoora_async.webhooks")


#: A status delivery is a few hundred bytes; 64 KiB leaves room for large ``metadata``.
DEFAULT_MAX_BYTES: Final = 64 * 1024
DEFAULT_SECRET_HEADER: Final = "X-Faktoora-Webhook-Secret"
DEFAULT_SECRET_QUERY: Final = "token"
_FAKTOORA_ID = re.compile(r"F[A-Z0-9]{6,64}")


# --------------------------------------------------------------------------------------------- errors
class WebhookError(FaktooraError):
    """A webhook delivery was refused; ``http_status`` is what a receiver should answer."""

    http_status: int = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class WebhookPayloadError(WebhookError):
    """The body is not a valid delivery; ``field`` is the JSON path of the problem (``$.status``) or None."""

    http_status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class WebhookAuthError(WebhookError):
    """The shared secret is missing or wrong.  The message never contains either secret."""

    http_status = 401


class WebhookTooLargeError(WebhookError):
    """The body is larger than the limit; reading stopped after ``bytes_read`` bytes."""

    http_status = 413

    def __init__(self, message: str, *, limit: int, bytes_read: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.bytes_read = bytes_read


class WebhookTimeoutError(WebhookError):
    """The body did not arrive completely within the receiver's ``body_timeout``."""

    http_status = 408


class WebhookMediaTypeError(WebhookError):
    """The request declares a Content-Type that is not JSON."""

    http_status = 415


# --------------------------------------------------------------------------------------------- parsing
class _Body(msgspec.Struct, rename="camel"):
    event: str
    faktoora_id: str
    status: str
    timestamp: _dt.datetime
    invoice_number: str | None = None
    metadata: dict[str, Any] | None = None


_BODY_DECODER: Final = msgspec.json.Decoder(_Body)


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One decoded webhook delivery."""

    event: str
    faktoora_id: str
    status: str
    timestamp: _dt.datetime
    invoice_number: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        """The de-duplication key: ``(faktooraId, status, timestamp in ISO 8601 UTC)``."""
        return (self.faktoora_id, self.status, self.timestamp.isoformat())


def _utc(value: _dt.datetime) -> _dt.datetime:
    if value.tzinfo is None:
        raise WebhookPayloadError("timestamp has no UTC offset", field="$.timestamp")
    return value.astimezone(_dt.timezone.utc)


_MSGSPEC_PATH = re.compile(r" - at `(\$[^`]*)`$")


def parse_event(
    body: bytes | bytearray | memoryview, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> WebhookDelivery:
    """Decode one delivery from raw bytes, or raise a :class:`WebhookError` subclass.

    Known fields must have their documented types (``faktooraId``, ``status``, ``event``, ``timestamp``
    strings; ``invoiceNumber`` string or null; ``metadata`` object or null); unknown fields are ignored.
    """
    raw = bytes(body)
    if len(raw) > max_bytes:
        raise WebhookTooLargeError(
            f"webhook body is larger than {max_bytes} bytes", limit=max_bytes, bytes_read=len(raw)
        )
    try:
        decoded = _BODY_DECODER.decode(raw)
    except msgspec.ValidationError as exc:
        text = str(exc)
        match = _MSGSPEC_PATH.search(text)
        if match is None and text.startswith("Object missing required field"):
            name = text.split("`")[1] if "`" in text else None
            path = f"$.{name}" if name else None
        else:
            path = match.group(1) if match else "$"
        raise WebhookPayloadError(f"invalid webhook body: {text}", field=path) from None
    except msgspec.DecodeError as exc:
        raise WebhookPayloadError(f"webhook body is not valid JSON: {exc}") from None
    for name, value in (("event", decoded.event), ("status", decoded.status)):
        if not value or len(value) > 64 or not value.isascii() or not value.isprintable():
            raise WebhookPayloadError(f"{name} must be a short printable string", field=f"$.{name}")
    if not _FAKTOORA_ID.fullmatch(decoded.faktoora_id):
        raise WebhookPayloadError("faktooraId is not a faktoora id (F + upper-case letters/digits)",
                                  field="$.faktooraId")  # fmt: skip
    if decoded.invoice_number is not None and len(decoded.invoice_number) > 1000:
        raise WebhookPayloadError("invoiceNumber is too long", field="$.invoiceNumber")
    return WebhookDelivery(
        event=decoded.event,
        faktoora_id=decoded.faktoora_id,
        status=decoded.status,
        timestamp=_utc(decoded.timestamp),
        invoice_number=decoded.invoice_number,
        metadata=decoded.metadata or {},
    )


async def read_capped(
    chunks: AsyncIterable[bytes], max_bytes: int, *, declared_length: int | None = None
) -> bytes:
    """Collect a streamed body, stopping (and raising) as soon as it exceeds ``max_bytes``.

    A ``declared_length`` (the Content-Length header) over the limit is refused before reading anything.
    """
    if declared_length is not None and declared_length > max_bytes:
        raise WebhookTooLargeError(
            f"webhook body of {declared_length} bytes is larger than {max_bytes} bytes",
            limit=max_bytes,
            bytes_read=0,
        )
    buffer = bytearray()
    async for chunk in chunks:
        buffer += chunk
        if len(buffer) > max_bytes:
            raise WebhookTooLargeError(
                f"webhook body is larger than {max_bytes} bytes", limit=max_bytes, bytes_read=len(buffer)
            )
    return bytes(buffer)


def check_secret(expected: str | bytes, provided: str | bytes | None) -> None:
    """Raise :class:`WebhookAuthError` unless ``provided`` equals ``expected`` (constant-time compare)."""
    want = expected.encode() if isinstance(expected, str) else expected
    if provided is None:
        raise WebhookAuthError("webhook secret missing")
    got = provided.encode("utf-8", "surrogateescape") if isinstance(provided, str) else provided
    if not hmac.compare_digest(want, got):
        raise WebhookAuthError("webhook secret does not match")


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
    bytes_read: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReceiveResult:
    """What happened to one accepted delivery."""

    delivery: WebhookDelivery
    duplicate: bool
    advanced: bool


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
        on_event: Callable[[WebhookDelivery], object] | None = None,
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
        self.stats = ReceiverStats()

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
        """Parse an already-read body, de-duplicate it and feed the hub."""
        try:
            delivery = parse_event(body, max_bytes=self.max_bytes)
        except WebhookError as exc:
            raise self._reject(exc) from None
        self.stats.received += 1
        if not self.dedupe.check_and_add(delivery.key):
            self.stats.duplicates += 1
            logger.debug("duplicate webhook delivery %s/%s ignored", delivery.faktoora_id, delivery.status)
            return ReceiveResult(delivery, duplicate=True, advanced=False)
        advanced = self.hub.publish(delivery.faktoora_id, delivery.status)
        if advanced:
            self.stats.applied += 1
        else:
            self.stats.stale += 1
        logger.debug(
            "webhook %s %s -> %s (%s)",
            delivery.event,
            delivery.faktoora_id,
            delivery.status,
            "applied" if advanced else "not newer",
        )
        if self.on_event is not None:
            self.on_event(delivery)
        return ReceiveResult(delivery, duplicate=False, advanced=advanced)

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
        return self.accept(body)


class _CountingStream:
    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self._chunks = chunks
        self.count = 0

    async def __aiter__(self) -> Any:
        async for chunk in self._chunks:
            self.count += len(chunk)
            yield chunk
