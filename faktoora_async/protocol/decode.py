"""What a response means: typed results from 2xx bodies, typed errors from the rest.

Tolerance (API.md v2): the SDK never fails a call the server answered with 2xx if it can keep something.
A body that does not fit the model exactly is decoded leniently (fields of the wrong type are dropped,
one at a time, until the rest fits); list responses are read from a bare array or from an object whose
list is under ``data``/``items``/``results``/``rows``, with the paging figures in ``meta`` or at the top
level; list items take their id from ``faktooraId``, else ``id``, else ``importId``.  Every response
model keeps the JSON it was decoded from (``model.raw``).
"""

from __future__ import annotations

import abc
import datetime
import email.utils
import functools
import math
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import msgspec

from .. import errors
from ..models import Page, PageMeta
from ..models._base import attach_raw, dec_hook
from ._request import JSON, APIRequest

__all__ = [
    "CanonicalHeaders",
    "CaseInsensitiveHeaders",
    "canonical_header",
    "check_file_type",
    "decode_json",
    "decode_page",
    "decoder_for",
    "error_from_response",
    "is_json_content_type",
    "parse_retry_after",
    "transport_error",
]

T = TypeVar("T")

_BODY_TEXT_CAP = 8192
_LIST_KEYS = ("data", "items", "results", "rows")
_ID_KEYS = ("faktooraId", "id", "importId")
_MAX_DROPS = 32  # fields a lenient decode may drop before it gives up
_PATH = re.compile(r"at `\$(.*)`$")
_SEGMENT = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]")


@functools.cache
def decoder_for(tp: Any) -> msgspec.json.Decoder[Any]:
    """The one JSON decoder for ``tp`` (created on first use, then reused)."""
    return msgspec.json.Decoder(tp, dec_hook=dec_hook)


def is_json_content_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    known = _JSON_TYPES.get(content_type)
    if known is not None:
        return known
    main = content_type.split(";", 1)[0].strip().lower()
    verdict = main == JSON or (main.startswith("application/") and main.endswith("+json"))
    if len(_JSON_TYPES) < _CACHE_CAP:
        _JSON_TYPES[content_type] = verdict
    return verdict


_CACHE_CAP = 256  # distinct content types / header names remembered (a server sends a handful)
_JSON_TYPES: dict[str, bool] = {}  # content type -> is_json_content_type()


def _body_text(body: bytes) -> str:
    return body[:_BODY_TEXT_CAP].decode("utf-8", "replace")


def _expect_json(body: bytes, status: int, content_type: str | None) -> None:
    if not is_json_content_type(content_type):
        raise errors.ResponseDecodeError(
            f"expected a JSON response, got content type {content_type!r}",
            status=status,
            body=_body_text(body),
        )


def _locate(data: Any, path: str) -> tuple[Any, str | int] | None:
    """The container and key/index of msgspec's error ``path`` (``.a[0].b``) in ``data``, if present."""
    steps = [(m.group(1), m.group(2)) for m in _SEGMENT.finditer(path)]
    if not steps:
        return None
    node = data
    for key, index in steps[:-1]:
        try:
            node = node[key] if key is not None else node[int(index)]
        except (KeyError, IndexError, TypeError):
            return None
    key, index = steps[-1]
    if key is not None and isinstance(node, dict) and key in node:
        return node, key
    if index is not None and isinstance(node, list) and int(index) < len(node):
        return node, int(index)
    return None


def _drop(data: Any, path: str) -> bool:
    """Remove the value at msgspec's error ``path`` from ``data``; False if impossible."""
    found = _locate(data, path)
    if found is None:
        return False
    node, where = found
    del node[where]
    return True


_EPOCH_MS_FROM = 10**11  # as seconds, the year 5138: a number this large is epoch milliseconds


def _epoch_ms_as_seconds(value: Any) -> Any:
    """An epoch-milliseconds timestamp as seconds (API.md v2: seconds or ms); None if it is not one."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or abs(value) < _EPOCH_MS_FROM:
        return None
    return value / 1000


def _naive_as_utc(value: Any) -> Any:
    """A timestamp without a zone marked as UTC (API.md v2: "none = UTC"); None if it is not one."""
    return value + "Z" if isinstance(value, str) and not value.endswith("Z") else None


def _replace(data: Any, path: str, fix: Callable[[Any], Any]) -> bool:
    """Replace the value at msgspec's error ``path`` by ``fix(value)``; False when ``fix`` gives None."""
    found = _locate(data, path)
    if found is None:
        return False
    node, where = found
    fixed = fix(node[where])
    if fixed is None:
        return False
    node[where] = fixed
    return True


# msgspec's message for a timestamp API.md v2 tolerates -> how to read it
_TIMESTAMP_FIXES: dict[str, Callable[[Any], Any]] = {
    "Timestamp is out of range": _epoch_ms_as_seconds,
    "Expected `datetime` with a timezone component": _naive_as_utc,
}


def lenient_convert(data: Any, tp: Any) -> Any:
    """``data`` (plain JSON values) as ``tp``, dropping fields that do not fit until the rest does.

    Raises ``msgspec.ValidationError`` when even that fails (a required field missing or unusable).
    """
    for _ in range(_MAX_DROPS):
        try:
            return msgspec.convert(data, tp, dec_hook=dec_hook, strict=False)
        except msgspec.ValidationError as exc:
            text = str(exc)
            match = _PATH.search(text)
            if match is None:
                raise
            fix = _TIMESTAMP_FIXES.get(text.split(" - at ", 1)[0].strip())
            if fix is not None and _replace(data, match.group(1), fix):
                continue
            if not _drop(data, match.group(1)) or "required field" in text:
                raise
    return msgspec.convert(data, tp, dec_hook=dec_hook, strict=False)


def _attach_all(value: Any, raw: Any) -> None:
    if isinstance(value, msgspec.Struct):
        attach_raw(value, raw)
    elif isinstance(value, list) and isinstance(raw, list):
        for item, item_raw in zip(value, raw, strict=False):
            if isinstance(item, msgspec.Struct):
                attach_raw(item, item_raw)


def decode_json(tp: type[T] | Any, body: bytes, *, status: int = 200, content_type: str | None = JSON) -> T:
    """Decode a 2xx JSON body into ``tp``; only a body nothing can be kept of is a ResponseDecodeError."""
    # (a content type already known to be JSON costs no call)
    known = content_type is not None and _JSON_TYPES.get(content_type) is True
    if not known and not is_json_content_type(content_type):
        _expect_json(body, status, content_type)
    value: T
    key: Any = tp  # (the decoder cache's key; a plain assignment, no cast() call on this hot path)
    try:
        value = decoder_for(key).decode(body)
    except msgspec.ValidationError as first:  # (a subclass of DecodeError: caught first)
        try:
            raw = msgspec.json.decode(body)
            value = lenient_convert(msgspec.json.decode(body), tp)  # a second copy: it drops fields
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
            raise errors.ResponseDecodeError(
                f"response does not fit {getattr(tp, '__name__', tp)}: {first}",
                status=status,
                body=_body_text(body),
            ) from None
        _attach_all(value, raw)
        return value
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise errors.ResponseDecodeError(
            f"malformed response body: {exc}", status=status, body=_body_text(body)
        ) from None
    if isinstance(value, msgspec.Struct):
        attach_raw(value, body)  # decoded lazily, on first access of .raw
    elif isinstance(value, list) and value and isinstance(value[0], msgspec.Struct):
        _attach_all(value, msgspec.json.decode(body))
    return value


@functools.cache
def _id_field(item_type: Any) -> str | None:
    """The wire name of ``item_type``'s id field, when it is one of the tolerated id names."""
    try:
        names = {f.encode_name for f in msgspec.structs.fields(item_type)}
    except TypeError:
        return None
    for key in _ID_KEYS:
        if key in names:
            return key
    return None


def _item(item_type: Any, raw: Any) -> Any:
    data = raw
    id_key = _id_field(item_type)
    if isinstance(raw, dict):
        data = dict(raw)
        if id_key is not None and data.get(id_key) is None:
            for key in _ID_KEYS:
                if data.get(key) is not None:
                    data[id_key] = data[key]
                    break
    value = lenient_convert(data, item_type)
    if isinstance(value, msgspec.Struct):
        attach_raw(value, raw)
    return value


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _first(source: Mapping[str, Any], *names: str) -> int | None:
    """The first of ``names`` holding an integer (0 included)."""
    for name in names:
        value = _int(source.get(name))
        if value is not None:
            return value
    return None


def _meta(envelope: Mapping[str, Any], requested: int) -> PageMeta | None:
    source = envelope.get("meta") if isinstance(envelope.get("meta"), Mapping) else envelope
    assert isinstance(source, Mapping)
    page = _first(source, "page", "currentPage") or requested
    per_page = _first(source, "perPage", "per_page", "limit")
    total = _first(source, "total", "totalCount", "count")
    total_pages = _first(source, "totalPages", "pageCount", "lastPage")
    if per_page is None and total is None and total_pages is None:
        return None
    return PageMeta(page=page, per_page=per_page, total=total, total_pages=total_pages)


def decode_page(
    item_type: type[T],
    body: bytes,
    *,
    page: int,
    per_page: int,
    status: int = 200,
    content_type: str | None = JSON,
) -> Page[T]:
    """A list response in any tolerated envelope (see the module docstring)."""
    _expect_json(body, status, content_type)
    try:
        raw = msgspec.json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise errors.ResponseDecodeError(
            f"malformed list response: {exc}", status=status, body=_body_text(body)
        ) from None
    meta: PageMeta | None = None
    extra: dict[str, Any] = {}
    if isinstance(raw, list):
        rows: list[Any] = raw
    elif isinstance(raw, dict):
        key = next((k for k in _LIST_KEYS if isinstance(raw.get(k), list)), None)
        if key is None:
            raise errors.ResponseDecodeError(
                "list response has no list (looked for a bare array or data/items/results/rows)",
                status=status,
                body=_body_text(body),
            )
        rows = raw[key]
        meta = _meta(raw, page)
        extra = {k: v for k, v in raw.items() if k not in (key, "meta")}
    else:
        raise errors.ResponseDecodeError(
            f"list response is a JSON {type(raw).__name__}", status=status, body=_body_text(body)
        )
    items: list[T] = []
    for row in rows:
        try:
            items.append(_item(item_type, row))
        except msgspec.ValidationError as exc:
            raise errors.ResponseDecodeError(
                f"list item does not fit {getattr(item_type, '__name__', item_type)}: {exc}",
                status=status,
                body=_body_text(body),
            ) from None
    return Page(
        items=items,
        page=meta.page if meta is not None else page,
        per_page=(meta.per_page or per_page) if meta is not None else per_page,
        meta=meta,
        extra=extra,
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
# NestJS ValidationPipe messages: "invoices.0.buyer.postcode must be a string"
_NEST_PATH = re.compile(r"^(invoices)\.(\d+)((?:\.[A-Za-z_]\w*|\.\d+)*)\s")


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


class CaseInsensitiveHeaders(abc.ABC):  # noqa: B024 (a marker: the transport registers its types)
    """Header mappings whose ``get()`` ignores case (aiohttp's, registered by the transport, which alone
    may import them): :func:`header` asks them once and scans nothing."""


class CanonicalHeaders(dict[str, str]):
    """A plain ``dict`` of response headers whose names are all :func:`canonical_header` (the transport's
    ``Response.headers``): :func:`header` finds a name in it with one lookup instead of a scan."""


_CANONICAL: dict[str, str] = {}  # header name as sent -> canonical_header(name)


def canonical_header(name: str) -> str:
    """A header name as the SDK's response header dicts spell it: ``Title-Case``, and ``Content-Type``."""
    canonical = _CANONICAL.get(name)
    if canonical is None:
        canonical = "Content-Type" if name.lower() == "content-type" else name.title()
        if len(_CANONICAL) < _CACHE_CAP:
            _CANONICAL[name] = canonical
    return canonical


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name."""
    value = headers.get(name)
    if value is not None or isinstance(headers, CaseInsensitiveHeaders):
        return value  # (get() was case-insensitive already)
    if isinstance(headers, CanonicalHeaders):
        return headers.get(canonical_header(name))
    lname = name.lower()
    for key, val in headers.items():
        if key.lower() == lname:
            return val
    return None


def _nest_field_error(text: str) -> errors.FieldError:
    match = _NEST_PATH.match(text)
    if match is None:
        return errors.FieldError(index=None, field=None, message=text)
    index = int(match.group(2))
    rest = re.sub(r"\.(\d+)", r"[\1]", match.group(3))
    return errors.FieldError(index=index, field=f"invoices[{index}]{rest}", message=text)


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
            out.append(_nest_field_error(item))
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
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
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
        request_id=header(headers, "x-request-id") or header(headers, "x-correlation-id"),
        body=text,
        method=method,
        url=url,
        retry_after=parse_retry_after(header(headers, "retry-after")),
    )


def transport_error(kind: str, req: APIRequest, detail: str, host: str = "") -> errors.FaktooraError:
    """The typed error for an attempt that got no HTTP response (``kind`` as in retry.Outcome)."""
    method = req.method.upper()
    if kind == "tls":
        return errors.ConnectError(f"TLS certificate error: {detail}", method=method, url=req.path)
    if kind == "connect":
        where = f" to {host}" if host else ""
        return errors.ConnectError(f"cannot connect{where}: {detail}", method=method, url=req.path)
    what = "timed out" if kind == "timeout" else f"failed: {detail}"
    if not req.idempotent:
        return errors.AmbiguousRequestError(
            f"{method} {req.path} {what} after it may have reached the server; not retried",
            method=method,
            url=req.path,
        )
    if kind == "timeout":
        return errors.RequestTimeoutError(f"{method} {req.path} timed out", method=method, url=req.path)
    return errors.TransportError(f"{method} {req.path} {what}", method=method, url=req.path)


def check_file_type(content_type: str | None, accept: str, status: int) -> None:
    """A file response must have the requested media type (or be untyped / octet-stream)."""
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if not ctype:
        return
    allowed = {part.split(";", 1)[0].strip().lower() for part in accept.split(",")}
    if "*/*" in allowed:
        return
    allowed.add("application/octet-stream")
    if "application/xml" in allowed:
        allowed.add("text/xml")
    if ctype not in allowed:
        raise errors.ResponseDecodeError(f"expected {accept}, got {ctype}", status=status, body="")
