"""Reading one webhook delivery: the size cap, tolerant parsing (API.md v2), the shared secret."""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import math
import re
from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import msgspec

from ._errors import WebhookAuthError, WebhookPayloadError, WebhookTooLargeError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_SECRET_HEADER",
    "DEFAULT_SECRET_QUERY",
    "WebhookDelivery",
    "check_secret",
    "parse_event",
    "parse_timestamp",
    "read_capped",
]

#: A status delivery is a few hundred bytes; 64 KiB leaves room for large ``metadata``.
DEFAULT_MAX_BYTES: Final = 64 * 1024
DEFAULT_SECRET_HEADER: Final = "X-Faktoora-Webhook-Secret"
DEFAULT_SECRET_QUERY: Final = "token"


# --------------------------------------------------------------------------------------------- parsing
_MAX_ACTION = 200
_MAX_TEXT = 1000


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One decoded webhook delivery (API.md v2: ``{"action", "faktooraId", "status", "timestamp",
    "metadata"}``), read tolerantly: only ``action`` (or a legacy ``event``) is required.

    ``faktoora_id`` is opaque (for customer/product events the object's id); ``timestamp`` is UTC (a naive
    value is taken as UTC, epoch seconds or milliseconds are converted) or None when absent or unreadable;
    ``invoice_number`` comes from ``metadata.invoiceNumber`` (or a legacy top-level ``invoiceNumber``);
    ``raw`` is the whole JSON object, so a field this SDK does not name is still readable.
    """

    action: str
    faktoora_id: str | None = None
    status: str | None = None
    timestamp: _dt.datetime | None = None
    invoice_number: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    digest: str = field(default="", repr=False)

    @property
    def event(self) -> str:
        """The action (the name of version 1 of this field)."""
        return self.action

    @property
    def key(self) -> tuple[str, ...]:
        """The de-duplication key: action, id, status and the instant (ISO 8601 UTC).

        A delivery without id, status or timestamp is keyed by a digest of its body instead, so two
        different such deliveries are never taken for one another.
        """
        stamp = self.timestamp.isoformat() if self.timestamp is not None else ""
        key: tuple[str, ...] = (self.action, self.faktoora_id or "", self.status or "", stamp)
        if not (self.faktoora_id and self.status and stamp):
            key = (*key, self.digest)
        return key


def parse_timestamp(value: Any) -> _dt.datetime | None:
    """A UTC datetime from ISO 8601 (with or without zone; none = UTC) or epoch seconds/milliseconds."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            value = float(text)
        else:
            try:
                parsed = _dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            except ValueError:
                return None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=_dt.timezone.utc)
            return parsed.astimezone(_dt.timezone.utc)
    if isinstance(value, (int, float)) and math.isfinite(value):
        seconds = value / 1000 if abs(value) >= 1e11 else value  # 1e11 s is the year 5138: milliseconds
        try:
            return _dt.datetime.fromtimestamp(seconds, _dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _string(value: Any) -> str | None:
    """A non-empty string (cut to 1000 characters), else None."""
    return value[:_MAX_TEXT] if isinstance(value, str) and value else None


def _text(value: Any) -> str | None:
    """A string field read tolerantly: numbers become their text, anything else None."""
    if isinstance(value, str):
        return value[:_MAX_TEXT] if value else None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def parse_event(
    body: bytes | bytearray | memoryview, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> WebhookDelivery:
    """Decode one delivery from raw bytes, or raise a :class:`WebhookError` subclass.

    Any JSON object with a string ``action`` (or, from older senders, ``event``) is a delivery; every other
    field is optional and read tolerantly (ids are opaque, wrong types become None, ``raw`` keeps them).
    Refused (:class:`WebhookPayloadError`): a body that is not JSON or not an object, or has no action.
    """
    raw = bytes(body)
    if len(raw) > max_bytes:
        raise WebhookTooLargeError(
            f"webhook body is larger than {max_bytes} bytes", limit=max_bytes, bytes_read=len(raw)
        )
    try:
        decoded = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise WebhookPayloadError(f"webhook body is not valid JSON: {exc}") from None
    if not isinstance(decoded, dict):
        raise WebhookPayloadError("webhook body must be a JSON object", field="$")
    name = "action" if "action" in decoded else "event"
    action = decoded.get(name)
    if not isinstance(action, str) or not action.strip():
        raise WebhookPayloadError(
            "webhook body needs an action (or a legacy event): a non-empty string", field=f"$.{name}"
        )
    metadata = decoded.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    number = _text(metadata.get("invoiceNumber")) or _text(decoded.get("invoiceNumber"))
    return WebhookDelivery(
        action=action[:_MAX_ACTION],
        faktoora_id=_text(decoded.get("faktooraId")) or _text(decoded.get("id")),
        status=_string(decoded.get("status")),
        timestamp=parse_timestamp(decoded.get("timestamp")),
        invoice_number=number,
        metadata=metadata,
        raw=decoded,
        digest=hashlib.sha256(raw).hexdigest()[:32],
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
