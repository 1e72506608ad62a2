"""HTTP helpers shared by every route module: request keys, JSON in/out, queries, pagination, media types,
file streaming (with the download faults of the request).

A route module reaches the sandbox through two functions: :func:`app_state` (the :class:`SandboxState`)
and :func:`tenant` (what the request's API key and ``x-account-id`` see).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import re
import socket
import struct
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from aiohttp import web

from .errors import bad_request, http_error
from .faults import Decision
from .state import STATE, SandboxState
from .store import Tenant, dumps
from .validation import parse_yyyymmdd

__all__ = [
    "CHUNK",
    "DECISION",
    "PER_PAGE_DEFAULT",
    "PER_PAGE_MAX",
    "TENANT",
    "WILDCARDS",
    "app_state",
    "bytes_stream",
    "choice_query",
    "date_query",
    "drop",
    "file_kind",
    "hash_chunks",
    "inflated_chunks",
    "int_query",
    "json_response",
    "media_types",
    "paginate",
    "read_json",
    "send_bytes",
    "tenant",
]

PER_PAGE_DEFAULT = 25
PER_PAGE_MAX = 1000
CHUNK = 64 * 1024

# web.RequestKey exists from aiohttp 3.12 on; plain strings work (with a warning) before that.
TENANT: Any = web.RequestKey("faktoora_tenant", Tenant) if hasattr(web, "RequestKey") else "faktoora_tenant"
DECISION: Any = (
    web.RequestKey("faktoora_decision", Decision) if hasattr(web, "RequestKey") else "faktoora_decision"
)


def app_state(request: web.Request) -> SandboxState:
    """The sandbox state serving ``request``."""
    return request.app[STATE]


def tenant(request: web.Request) -> Tenant:
    """The tenant of the request (its API key plus ``x-account-id``), set by the middleware."""
    value: Tenant = request[TENANT]
    return value


def json_response(value: Any, status: int = 200) -> web.Response:
    """``value`` as a compact JSON answer (Decimals become strings)."""
    return web.Response(status=status, body=dumps(value), content_type="application/json")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def read_json(request: web.Request) -> Any:
    """The JSON body (numbers with a fraction as Decimal); 415 without ``application/json``, 400 if broken."""
    if request.content_type != "application/json":
        raise http_error(415, "Content-Type must be application/json")
    body = await request.read()
    try:
        return json.loads(body.decode("utf-8"), parse_float=Decimal, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise bad_request(f"body is not valid JSON: {str(exc)[:200]}") from None


def int_query(request: web.Request, name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    """An integer query parameter (>= ``minimum``; values above ``maximum`` are clamped silently)."""
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise bad_request(
            f"{name} must be a positive integer", [{"field": name, "message": "not an integer"}]
        )
    value = int(raw)
    if value < minimum:
        raise bad_request(
            f"{name} must be >= {minimum}", [{"field": name, "message": f"must be >= {minimum}"}]
        )
    if maximum is not None and value > maximum:
        value = maximum
    return value


def choice_query(request: web.Request, name: str, allowed: tuple[str, ...], default: str) -> str:
    """A query parameter that must be one of ``allowed``."""
    raw = request.query.get(name)
    if raw is None:
        return default
    if raw not in allowed:
        raise bad_request(
            f"{name} must be one of {', '.join(allowed)}",
            [{"field": name, "message": f"must be one of {', '.join(allowed)}"}],
        )
    return raw


def date_query(request: web.Request, name: str) -> str | None:
    """A ``YYYYMMDD`` query parameter, or None when absent."""
    raw = request.query.get(name)
    if raw is None:
        return None
    if parse_yyyymmdd(raw) is None:
        raise bad_request(
            f"{name} must be a date YYYYMMDD", [{"field": name, "message": "not a YYYYMMDD date"}]
        )
    return raw


def paginate(request: web.Request, items: list[Any], *, as_json: Callable[[Any], Any]) -> web.Response:
    """One page of ``items`` (``page``, ``perPage`` queries) as ``{"data": [...], "meta": {...}}``."""
    page = int_query(request, "page", 1, 1)
    per_page = int_query(request, "perPage", PER_PAGE_DEFAULT, 1, PER_PAGE_MAX)
    total = len(items)
    start = (page - 1) * per_page
    data = [as_json(item) for item in items[start : start + per_page]]
    meta = {"page": page, "perPage": per_page, "total": total, "totalPages": math.ceil(total / per_page)}
    return json_response({"data": data, "meta": meta})


def media_types(request: web.Request) -> list[str]:
    """The media types of the ``Accept`` header, lower-cased, in order, parameters dropped."""
    raw = request.headers.get("Accept", "")
    out = []
    for part in raw.split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media:
            out.append(media)
    return out


WILDCARDS = frozenset({"*/*", "application/*"})


def file_kind(request: web.Request) -> str:
    """``"pdf"`` or ``"xml"`` as the ``Accept`` header asks (none or a wildcard: the PDF); 406 otherwise."""
    media = media_types(request)
    for value in media:
        if value == "application/pdf":
            return "pdf"
        if value == "application/xml":
            return "xml"
    if not media or any(value in WILDCARDS for value in media):
        return "pdf"
    raise http_error(406, "Accept must be application/pdf or application/xml (or absent for the PDF)")


def drop(request: web.Request, *, reset: bool) -> web.Response:
    """Close (or, with ``reset``, RST) the connection; the 499 placeholder is never sent."""
    transport = request.transport
    if transport is not None:
        if reset:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()
    return web.Response(status=499)


def bytes_stream(data: bytes) -> Iterator[bytes]:
    """``data`` in 64 KiB chunks."""
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


def hash_chunks(chunks: Iterator[bytes]) -> str:
    """The sha256 hex digest of the concatenated ``chunks``."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def inflated_chunks(pdf: bytes, size: int) -> Iterator[bytes]:
    """``pdf`` padded to exactly ``size`` bytes, still a valid PDF, produced in 64 KiB chunks.

    The padding is PDF comment lines appended after the original file, followed by a repeated
    ``startxref``/``%%EOF`` trailer pointing at the original cross-reference section.
    """
    tail = _inflate_tail(pdf)
    pad = size - len(pdf) - len(tail)
    if pad < 2:
        raise ValueError(f"size must be at least {len(pdf) + len(tail) + 2} bytes")
    yield from bytes_stream(pdf)
    line = b"%" + b"0" * (CHUNK - 2) + b"\n"
    full, rest = divmod(pad, len(line))
    for _ in range(full):
        yield line
    if rest == 1:
        yield b"\n"
    elif rest:
        yield b"%" + b"0" * (rest - 2) + b"\n"
    yield tail


def _inflate_tail(pdf: bytes) -> bytes:
    pos = pdf.rfind(b"startxref")
    if pos < 0:
        raise ValueError("not a PDF with startxref")
    match = re.match(rb"startxref\s+(\d+)", pdf[pos:])
    if match is None:
        raise ValueError("unreadable startxref")
    return b"startxref\n" + match.group(1) + b"\n%%EOF\n"


async def send_bytes(
    request: web.Request,
    chunks: Iterator[bytes],
    length: int,
    content_type: str,
    filename: str | None = None,
) -> web.StreamResponse:
    """Stream a file download, honouring the truncate/slow faults drawn for this request."""
    state = app_state(request)
    decision: Decision | None = request.get(DECISION)
    resp = web.StreamResponse(status=200)
    resp.content_type = content_type
    resp.content_length = length
    if filename:
        resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    truncate_at = -1
    slow = False
    if decision is not None:
        if decision.truncate and length > 1:
            state.faults.count("truncated_download")
            truncate_at = max(1, length // 2)
        if decision.slow:
            state.faults.count("slow_download")
            slow = True
    await resp.prepare(request)
    sent = 0
    cfg = state.faults.config
    for chunk in chunks:
        if truncate_at >= 0 and sent + len(chunk) >= truncate_at:
            await resp.write(chunk[: truncate_at - sent])
            return drop(request, reset=False)
        if slow:
            step = cfg.slow_chunk_bytes
            for start in range(0, len(chunk), step):
                await resp.write(chunk[start : start + step])
                await asyncio.sleep(cfg.slow_chunk_delay_ms / 1000.0)
        else:
            await resp.write(chunk)
        sent += len(chunk)
    await resp.write_eof()
    return resp
