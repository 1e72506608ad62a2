"""The sans-I/O protocol layer: request descriptions in, typed results or typed errors out.

Nothing here performs I/O or imports aiohttp (see gidgethub's ``sansio``): resources describe a call as an
:class:`APIRequest`, the transport sends it, and the functions below turn ``(status, headers, body bytes)``
into msgspec structs or an :mod:`faktoora_async.errors` exception.  All of it is tested with plain bytes.
"""

from __future__ import annotations

import datetime
import email.utils
import functools
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar, cast

import msgspec

from . import errors
from .models import Invoice, Page, PageMeta
from .models._base import date_to_wire, dec_hook, enc_hook

__all__ = [
    "JSON",
    "MAX_INVOICES_PER_REQUEST",
    "APIRequest",
    "build_url",
    "decode_json",
    "decode_page",
    "decoder_for",
    "encode_body",
    "encode_invoices",
    "encode_payloads",
    "error_from_response",
    "invoice_resting_status",
    "invoice_to_builtins",
    "is_json_content_type",
    "parse_retry_after",
    "redact",
]

T = TypeVar("T")

JSON = "application/json"
MAX_INVOICES_PER_REQUEST = 100
_BODY_TEXT_CAP = 8192

_ENCODER = msgspec.json.Encoder(enc_hook=enc_hook, decimal_format="string")


@dataclass(frozen=True)
class APIRequest:
    """A request, described as data.

    ``path`` is relative to the API root (``/invoices``); ``api_version`` picks ``v1`` (the base URL as
    given) or ``v2`` (derived from it).  ``idempotent`` requests (GET, DELETE) may be retried after they
    reached the server; the others only when they provably did not.
    """

    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    content_type: str | None = None
    accept: str = JSON
    api_version: str = "v1"
    headers: tuple[tuple[str, str], ...] = field(default=())

    @property
    def idempotent(self) -> bool:
        return self.method.upper() in {"GET", "HEAD", "OPTIONS", "DELETE", "PUT"}


def query(**params: Any) -> tuple[tuple[str, str], ...]:
    """camelCase query parameters, None values dropped, dates as ``YYYYMMDD``."""
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        head, *rest = key.split("_")
        name = head + "".join(part.title() for part in rest)
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            text = date_to_wire(value)
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        out.append((name, text))
    return tuple(out)


def build_url(base_url: str, path: str, api_version: str = "v1") -> str:
    """Join ``base_url`` (ending in ``/api/v1``) and ``path``; ``v2`` swaps the trailing version segment."""
    base = base_url.rstrip("/")
    if api_version != "v1":
        head, sep, tail = base.rpartition("/")
        if sep and len(tail) >= 2 and tail[0] == "v" and tail[1:].isdigit():
            base = f"{head}/{api_version}"
        else:
            base = f"{base}/{api_version}"  # pragma: no cover - base URL without a version segment
    return base + (path if path.startswith("/") else "/" + path)


def redact(text: str, secret: str | None) -> str:
    """Remove ``secret`` (the API key) from ``text``."""
    if secret and secret in text:
        return text.replace(secret, "***")
    return text


# --------------------------------------------------------------------------------------------- encoding


_PLAIN: frozenset[type] = frozenset({str, int, bool, type(None), Decimal})


def _to_wire(value: Any) -> Any:
    """Plain data given by a user (dicts in faktoora's own shape) made JSON-ready: dates to ``YYYYMMDD``."""
    kind = type(value)
    if kind is dict:
        return {k: v if type(v) in _PLAIN else _to_wire(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _PLAIN else _to_wire(v) for v in value]
    if kind in _PLAIN or isinstance(value, msgspec.Struct):
        return value
    if isinstance(value, Mapping):
        return {str(k): _to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_wire(v) for v in value]
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return date_to_wire(value)
    if isinstance(value, float):
        # binary floats are never money: go through their shortest repr, sent as a decimal string
        return str(Decimal(repr(value)))
    return value


def invoice_to_builtins(invoice: Invoice | Mapping[str, Any]) -> dict[str, Any]:
    """One invoice as plain JSON-ready data (camelCase keys, decimal strings, ``YYYYMMDD`` dates)."""
    if isinstance(invoice, msgspec.Struct):
        return cast(dict[str, Any], msgspec.to_builtins(invoice, enc_hook=enc_hook))
    if isinstance(invoice, Mapping):
        return cast(dict[str, Any], msgspec.to_builtins(_to_wire(invoice), enc_hook=enc_hook))
    raise TypeError(f"an invoice must be a faktoora_async.Invoice or a dict, got {type(invoice).__name__}")


def invoice_resting_status(invoice: Invoice | Mapping[str, Any]) -> str:
    """Where an invoice settles: draft, review, sent (with a delivery) or created."""
    if isinstance(invoice, Invoice):
        return invoice.resting_status
    if invoice.get("draftOnly"):
        return "draft"
    if invoice.get("reviewMode"):
        return "review"
    return "sent" if invoice.get("delivery") else "created"


def encode_invoices(invoices: Sequence[Invoice | Mapping[str, Any]]) -> bytes:
    """The body of ``POST /invoices``: ``{"invoices": [...]}`` (1 to 100 invoices)."""
    if not invoices:
        raise ValueError("at least one invoice is required")
    if len(invoices) > MAX_INVOICES_PER_REQUEST:
        raise ValueError(f"at most {MAX_INVOICES_PER_REQUEST} invoices per request, got {len(invoices)}")
    items: list[Any] = []
    for inv in invoices:
        if isinstance(inv, Invoice):
            items.append(inv)
        elif isinstance(inv, Mapping):
            items.append(_to_wire(inv))
        else:
            raise TypeError(
                f"an invoice must be a faktoora_async.Invoice or a dict, got {type(inv).__name__}"
            )
    return _ENCODER.encode({"invoices": items})


def encode_payloads(payloads: Sequence[Mapping[str, Any]]) -> bytes:
    """``{"invoices": [...]}`` from invoices already in wire form (see :func:`invoice_to_builtins`)."""
    if not payloads:
        raise ValueError("at least one invoice is required")
    if len(payloads) > MAX_INVOICES_PER_REQUEST:
        raise ValueError(f"at most {MAX_INVOICES_PER_REQUEST} invoices per request, got {len(payloads)}")
    return _ENCODER.encode({"invoices": payloads})


def encode_body(obj: Any) -> bytes:
    """Any JSON body (Structs, dicts) with the SDK's date and decimal rules."""
    return _ENCODER.encode(_to_wire(obj) if isinstance(obj, Mapping) else obj)


# --------------------------------------------------------------------------------------------- decoding


class _WirePage(msgspec.Struct, Generic[T]):
    data: list[T]
    meta: PageMeta | None = None


@functools.cache
def decoder_for(tp: Any) -> msgspec.json.Decoder[Any]:
    """The one JSON decoder for ``tp`` (created on first use, then reused)."""
    return msgspec.json.Decoder(tp, dec_hook=dec_hook)


@functools.cache
def _page_decoder(item_type: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(_WirePage[item_type] | list[item_type], dec_hook=dec_hook)


def is_json_content_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    main = content_type.split(";", 1)[0].strip().lower()
    return main == JSON or (main.startswith("application/") and main.endswith("+json"))


def _body_text(body: bytes) -> str:
    return body[:_BODY_TEXT_CAP].decode("utf-8", "replace")


def decode_json(tp: type[T] | Any, body: bytes, *, status: int = 200, content_type: str | None = JSON) -> T:
    """Decode a 2xx JSON body into ``tp``; any mismatch is a :class:`ResponseDecodeError`."""
    if not is_json_content_type(content_type):
        raise errors.ResponseDecodeError(
            f"expected a JSON response, got content type {content_type!r}",
            status=status,
            body=_body_text(body),
        )
    try:
        return cast(T, decoder_for(cast(Any, tp)).decode(body))
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
        raise errors.ResponseDecodeError(
            f"malformed response body: {exc}", status=status, body=_body_text(body)
        ) from None


def decode_page(
    item_type: type[T],
    body: bytes,
    *,
    page: int,
    per_page: int,
    status: int = 200,
    content_type: str | None = JSON,
) -> Page[T]:
    """A list response: ``{"data": [...], "meta": {...}}`` or a bare array."""
    if not is_json_content_type(content_type):
        raise errors.ResponseDecodeError(
            f"expected a JSON response, got content type {content_type!r}",
            status=status,
            body=_body_text(body),
        )
    try:
        raw = _page_decoder(cast(Any, item_type)).decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
        raise errors.ResponseDecodeError(
            f"malformed list response: {exc}", status=status, body=_body_text(body)
        ) from None
    if isinstance(raw, list):
        return Page(items=raw, page=page, per_page=per_page, meta=None)
    meta = raw.meta
    return Page(
        items=raw.data,
        page=meta.page if meta is not None else page,
        per_page=(meta.per_page or per_page) if meta is not None else per_page,
        meta=meta,
    )


# --------------------------------------------------------------------------------------------- errors

_STATUS_CLASSES: dict[int, type[errors.APIStatusError]] = {
    400: errors.BadRequestError,
    401: errors.AuthenticationError,
    403: errors.PermissionDeniedError,
    404: errors.NotFoundError,
    406: errors.NotAcceptableError,
    409: errors.ConflictError,
    413: errors.PayloadTooLargeError,
    429: errors.RateLimitError,
}
_CONFLICT_CODES: dict[str, type[errors.APIStatusError]] = {
    "DUPLICATE_INVOICE_NUMBER": errors.DuplicateInvoiceNumberError,
    "NOT_READY": errors.NotReadyError,
}


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds (integer/decimal seconds or an HTTP date); None when absent or invalid."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.timezone.utc)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lname = name.lower()
    for key, val in headers.items():
        if key.lower() == lname:
            return val
    return None


def _field_errors(raw: Any) -> list[errors.FieldError]:
    out: list[errors.FieldError] = []
    if not isinstance(raw, list):
        return out
    for item in raw:
        if isinstance(item, Mapping):
            index = item.get("index")
            fld = item.get("field")
            out.append(
                errors.FieldError(
                    index=index if isinstance(index, int) and not isinstance(index, bool) else None,
                    field=str(fld) if fld is not None else None,
                    message=str(item.get("message", "")),
                )
            )
        elif isinstance(item, str):
            out.append(errors.FieldError(index=None, field=None, message=item))
    return out


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    method: str = "",
    url: str = "",
) -> errors.APIStatusError:
    """The typed error for an HTTP error response; never fails on a non-JSON or truncated body."""
    text = _body_text(body)
    code: str | None = None
    message = ""
    field_errors: list[errors.FieldError] = []
    data: Any = None
    if body:
        try:
            data = msgspec.json.decode(body)
        except (msgspec.DecodeError, UnicodeDecodeError):
            data = None
    if isinstance(data, Mapping):
        raw_code = data.get("code") or data.get("error")
        code = str(raw_code) if raw_code is not None else None
        raw_message = data.get("message")
        if isinstance(raw_message, list):
            message = "; ".join(str(m) for m in raw_message)
        elif raw_message is not None:
            message = str(raw_message)
        field_errors = _field_errors(data.get("errors"))
        if not field_errors and isinstance(raw_message, list):
            field_errors = _field_errors(raw_message)
    if not message:
        message = text.strip()[:500] or f"HTTP {status}"
    if status >= 500:
        cls: type[errors.APIStatusError] = errors.ServerError
    else:
        cls = _STATUS_CLASSES.get(status, errors.APIStatusError)
        if status == 409 and code in _CONFLICT_CODES:
            cls = _CONFLICT_CODES[code]
    return cls(
        message,
        status=status,
        code=code,
        errors=field_errors,
        request_id=_header(headers, "x-request-id") or _header(headers, "x-correlation-id"),
        body=text,
        method=method,
        url=url,
        retry_after=parse_retry_after(_header(headers, "retry-after")),
    )
