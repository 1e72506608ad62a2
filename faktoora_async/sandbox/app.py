"""The sandbox's aiohttp.web application: every route of ``API.md`` under ``/api/v1`` and ``/api/v2``.

The app validates requests with its own rules (``validation.py``), keeps everything in memory
(``store.py``), runs invoice generation, validation and webhook deliveries in tasks it owns, and injects
seeded faults (``faults.py``).  Admin routes live under ``/_sandbox/`` (``admin.py``).

Shapes the contract leaves open, as the sandbox answers them:

- Errors: ``{"code", "statusCode", "message"}`` plus ``"errors": [{"index"?, "field", "message"}]`` on 400
  validation failures and on ``409 DUPLICATE_INVOICE_NUMBER`` (one entry per clashing index).
- Lists (``GET /invoices``, ``/import/outgoing``, ``.../attachments``, ``/webhooks``):
  ``{"data": [...], "meta": {"page", "perPage", "total", "totalPages"}}``.
- ``GET /import/outgoing`` items: ``{faktooraId, invoiceNumber, issueDate, currency, syntax, sourceKind,
  filename, overallStatus, createdAt}``.
- ``/import/outgoing/{id}/content``: the einvoice content model (``faktoora_async.einvoice.content``);
  ``/content/seller``, ``/buyer``, ``/delivery``, ``/paymentterms`` its dicts; ``/lineitems``, ``/taxes``,
  ``/paymentmeans`` its lists; ``/content/summary`` ``ParsedInvoice.summary()``.
- Attachments: ``{id, filename, mimeType, description, size}``; ``.../file`` is application/octet-stream.
- ``/validation``, ``/validation/pdf``, ``/content/pdf``: ``409 NOT_READY`` while the import is pending.
- Webhook subscriptions: ``{id, action, target, createdAt}`` (``POST`` answers 201 with it);
  ``PATCH``/``DELETE`` answer ``{"succeed": true}``.
- Validation: ``status`` ``success`` + ``validity: true`` when the invoice passes, ``error`` +
  ``validity: false`` when rejected, ``error`` + ``validity: null`` when the validator itself failed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as _dt
import functools
import hashlib
import json
import logging
import math
import random
import re
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from aiohttp import BodyPartReader, web

from . import _domain
from ._tasks import TaskSet
from .faults import Decision, FaultConfig, FaultInjector
from .ratelimit import TokenBucket
from .store import (
    FEATURES,
    Account,
    ImportRecord,
    InvoiceRecord,
    Stats,
    Store,
    Subscription,
    Tenant,
    dumps,
    utcnow,
)
from .validation import parse_yyyymmdd, validate_invoice
from .webhooks import ACTIONS, WebhookDispatcher

__all__ = ["STATE", "ApiError", "SandboxConfig", "SandboxState", "create_app"]

logger = logging.getLogger("faktoora_async.sandbox")

T = TypeVar("T")

MAX_INVOICES_PER_REQUEST = 100
MAX_JSON_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_UPLOAD = 10 * 1024 * 1024
PER_PAGE_DEFAULT = 25
PER_PAGE_MAX = 1000
_FID = re.compile(r"F[A-Z0-9]{6,40}")
_WID = re.compile(r"W[A-Z0-9]{6,40}")
_ATT_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")
_ACCOUNT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_TEMPLATE_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z]+)(?::(0?\d{1,2}))?\}|[{}]")
DEFAULT_TEMPLATE = "{YYYY}-{counter:05}"
_CHUNK = 64 * 1024


@dataclass
class SandboxConfig:
    """Start-up options of a sandbox (see ``Sandbox`` for their meaning)."""

    processing_delay: tuple[float, float] = (0.0, 0.0)
    faults: FaultConfig = field(default_factory=FaultConfig)
    seed: int = 0
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD
    render_workers: int = 2
    webhook_attempts: int = 3
    webhook_retry_delays: tuple[float, ...] = (0.05, 0.2, 0.5)


class ApiError(Exception):
    """An error answer in the NestJS shape ``{"code", "statusCode", "message", "errors"?}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        errors: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.headers = headers

    def response(self) -> web.Response:
        body: dict[str, Any] = {"code": self.code, "statusCode": self.status, "message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return web.Response(
            status=self.status, body=dumps(body), content_type="application/json", headers=self.headers
        )


_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
}


def http_error(status: int, message: str, code: str | None = None) -> ApiError:
    return ApiError(status, code or _HTTP_CODES.get(status, "ERROR"), message)


def bad_request(message: str, errors: list[dict[str, Any]] | None = None) -> ApiError:
    return ApiError(400, "BAD_REQUEST", message, errors)


class SandboxState:
    """Everything one sandbox application holds."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.accounts: dict[str, Account] = {}
        self.store = Store(config.seed)
        self.stats = Stats()
        self.faults = FaultInjector(config.faults)
        self.tasks = TaskSet()
        self.webhooks = WebhookDispatcher(
            self.tasks,
            self.stats,
            self.faults,
            max_attempts=config.webhook_attempts,
            retry_delays=config.webhook_retry_delays,
        )
        self._delay_rng = random.Random(f"delay:{config.seed}")
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._pdf_executor: concurrent.futures.ThreadPoolExecutor | None = None

    # --- accounts -------------------------------------------------------------------------------
    def add_account(
        self,
        api_key: str,
        *,
        features: frozenset[str] | set[str] | list[str] | tuple[str, ...] = (),
        rate: float | None = None,
        burst: float | None = None,
    ) -> Account:
        if not api_key or len(api_key) > 200 or any(c.isspace() for c in api_key):
            raise ValueError("an API key is 1-200 characters without spaces")
        unknown = set(features) - FEATURES
        if unknown:
            raise ValueError(f"unknown features: {sorted(unknown)}")
        bucket = TokenBucket(rate, burst) if rate is not None else None
        account = Account(api_key, frozenset(features), bucket)
        self.accounts[api_key] = account
        return account

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        # Two bounded pools: quick work (XML, parsing, validation) never queues behind costly PDFs.
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="faktoora-sandbox-work"
        )
        self._pdf_executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.config.render_workers, thread_name_prefix="faktoora-sandbox-pdf"
        )
        await self.webhooks.start()

    async def stop(self) -> None:
        await self.tasks.close()
        await self.webhooks.close()
        loop = asyncio.get_running_loop()
        for name in ("_executor", "_pdf_executor"):
            executor = getattr(self, name)
            if executor is not None:
                setattr(self, name, None)
                await loop.run_in_executor(
                    None, functools.partial(executor.shutdown, wait=True, cancel_futures=True)
                )

    def reset(self) -> None:
        """Forget invoices, imports, subscriptions, outbox, logs and counters (accounts and faults stay).

        Running jobs and deliveries are cancelled (they finish within the app's task set).
        """
        self.tasks.cancel_pending()
        for record in self.store.invoices.values():
            record.deleted = True
        self.store.reset()
        self.webhooks.log.clear()
        self.stats.__init__()  # type: ignore[misc]
        self.faults.counts.clear()
        self.faults.configure(self.faults.config)
        self._delay_rng = random.Random(f"delay:{self.config.seed}")

    async def in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Run quick blocking ``fn`` (XML, parsing, validation, hashing) in the work pool."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def in_pdf_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a PDF rendering ``fn`` in the PDF pool (``render_workers`` threads)."""
        return await asyncio.get_running_loop().run_in_executor(self._pdf_executor, fn, *args)

    # --- invoice lifecycle ----------------------------------------------------------------------
    def draw_delays(self) -> tuple[float, float, float]:
        """``(queued, processing, validating)`` seconds of one invoice, drawn from the seeded stream.

        Generation takes a uniform draw from ``processing_delay`` (half queued, half processing); a
        validation job takes a second, independent draw.
        """
        low, high = self.config.processing_delay
        if high <= low:
            return low / 2, low / 2, low
        total = self._delay_rng.uniform(low, high)
        return total / 2, total / 2, self._delay_rng.uniform(low, high)

    def event(self, record: InvoiceRecord, event: str = "invoice.status") -> dict[str, Any]:
        body: dict[str, Any] = {
            "event": event,
            "faktooraId": record.faktoora_id,
            "invoiceNumber": record.invoice_number,
            "status": record.invoice_status,
            "timestamp": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "metadata": {
                "format": record.payload.get("format") or "xrechnung",
                "issueDate": record.issue_date,
                "accountId": record.tenant.account_id or None,
            },
        }
        if record.validation is not None:
            body["metadata"]["validation"] = dict(record.validation)
        return body

    def set_status(self, record: InvoiceRecord, status: str) -> None:
        record.invoice_status = status
        record.changed()
        action = "invoiceSent" if status == "sent" else "invoiceCreate"
        self.webhooks.emit(record.tenant, action, self.event(record))

    def send(self, record: InvoiceRecord) -> None:
        delivery = record.delivery
        if delivery is None:
            return
        self.store.outbox.append(
            {
                "faktooraId": record.faktoora_id,
                "invoiceNumber": record.invoice_number,
                "accountId": record.tenant.account_id or None,
                "to": delivery.get("recipient"),
                "cc": delivery.get("carbonCopy"),
                "bcc": delivery.get("blindCarbonCopy"),
                "subject": f"Invoice {record.invoice_number}",
                "attachments": [
                    f"{_safe_name(record.invoice_number)}.pdf",
                    f"{_safe_name(record.invoice_number)}.xml",
                ],
                "sentAt": utcnow(),
            }
        )
        self.set_status(record, "sent")

    def approve(self, record: InvoiceRecord) -> None:
        if record.invoice_status not in ("draft", "review"):
            if record.invoice_status is None:
                raise ApiError(409, "NOT_READY", "the invoice is still being generated")
            raise ApiError(409, "INVALID_STATE", f"invoice is {record.invoice_status}, not draft or review")
        self.set_status(record, "created")
        self.send(record)

    async def process(self, record: InvoiceRecord) -> None:
        """Background job: queued -> processing -> generated (-> sent) (-> validated)."""
        queued, processing, _ = record.delays
        await asyncio.sleep(queued)
        if _gone(record):
            return
        record.job_status = "processing"
        record.changed()
        await asyncio.sleep(processing)
        if _gone(record):
            return
        if record.gen_fail:
            self.faults.count("generation_failure")
            record.job_status = "failed"
            record.error = "document generation failed (injected fault)"
            record.changed()
            return
        try:
            xml = await self.in_thread(_domain.render_xml, record.payload)
        except Exception as exc:
            logger.warning("generation of %s failed: %s", record.faktoora_id, exc)
            record.job_status = "failed"
            record.error = f"document generation failed: {exc}"
            record.changed()
            return
        if _gone(record):
            return
        record.xml, record.xml_sha256 = xml, _domain.sha256(xml)
        record.job_status = None
        validate = (
            bool(record.payload.get("validate")) and "invoiceValidation" in record.tenant.account.features
        )
        if validate:
            record.validation = {"status": "processing", "validity": None, "createdAt": utcnow()}
        self.set_status(record, record.mode)
        if record.mode == "created":
            self.send(record)
        if validate:
            await self._validate(record, xml)

    async def ensure_pdf(self, record: InvoiceRecord) -> bytes:
        """The invoice's PDF, rendered in the worker pool on first use and cached (one render at a time)."""
        if record.pdf is not None:
            return record.pdf
        assert record.xml is not None
        if record.pdf_lock is None:
            record.pdf_lock = asyncio.Lock()
        async with record.pdf_lock:
            if record.pdf is None:
                pdf = await self.in_pdf_thread(_domain.render_pdf, record.payload, record.xml)
                record.pdf, record.pdf_sha256 = pdf, _domain.sha256(pdf)
        return record.pdf

    async def _validate(self, record: InvoiceRecord, xml: bytes) -> None:
        assert record.validation is not None
        await asyncio.sleep(record.delays[2])
        if _gone(record):
            return
        try:
            accepted, verdict = await self.in_thread(_domain.validate_xml, xml)
        except Exception as exc:
            logger.warning("validation of %s failed: %s", record.faktoora_id, exc)
            record.validation = {**record.validation, "status": "error", "validity": None}
        else:
            record.verdict = verdict
            record.validation = {
                **record.validation,
                "status": "success" if accepted else "error",
                "validity": accepted,
            }
        record.changed()
        self.webhooks.emit(record.tenant, "validationJobCompleted", self.event(record, "invoice.validation"))

    async def process_import(self, record: ImportRecord) -> None:
        try:
            accepted, verdict = await self.in_thread(_domain.validate_parsed, record.parsed)
        except Exception as exc:
            logger.warning("validation of import %s failed: %s", record.faktoora_id, exc)
            record.validation_status = "failed"
        else:
            record.verdict, record.accepted = verdict, accepted
            record.validation_status = "accepted" if accepted else "failed"
        try:
            record.content_pdf = await self.in_pdf_thread(_domain.content_pdf, record.content)
            record.visualization_status = "accepted"
        except Exception as exc:
            logger.warning("visualisation of import %s failed: %s", record.faktoora_id, exc)
            record.visualization_status = "failed"


def _gone(record: InvoiceRecord) -> bool:
    """True once the invoice was deleted or the sandbox reset (checked after every await)."""
    return record.deleted


STATE = web.AppKey("faktoora_sandbox_state", SandboxState)
# web.RequestKey exists from aiohttp 3.12 on; plain strings work (with a warning) before that.
_TENANT: Any = web.RequestKey("faktoora_tenant", Tenant) if hasattr(web, "RequestKey") else "faktoora_tenant"
_DECISION: Any = (
    web.RequestKey("faktoora_decision", Decision) if hasattr(web, "RequestKey") else "faktoora_decision"
)


def _safe_name(number: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", number).strip("._")
    return cleaned[:100] or "invoice"


# --- middleware ---------------------------------------------------------------------------------
def _drop(request: web.Request, *, reset: bool) -> web.Response:
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


def _error_from_http_exception(exc: web.HTTPException) -> ApiError:
    status = exc.status
    if status == 404:
        return http_error(404, "no such route")
    if status == 405:
        allow = exc.headers.get("Allow", "")
        return ApiError(405, "METHOD_NOT_ALLOWED", "method not allowed here", headers={"Allow": allow})
    if status == 413:
        return http_error(413, "request body too large")
    return http_error(status, exc.reason or "error")


@web.middleware
async def sandbox_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    state = request.app[STATE]
    resource = request.match_info.route.resource
    template = resource.canonical if resource is not None else "<unmatched>"
    key = f"{request.method} {template}"
    resp: web.StreamResponse
    status: int | str
    try:
        if template.startswith("/_sandbox"):
            resp = await handler(request)
        else:
            resp = await _api(request, handler, state)
        status = resp.status
        if status == 499:
            status = "dropped"
    except ApiError as exc:
        resp = exc.response()
        status = exc.status
    except web.HTTPException as exc:
        err = _error_from_http_exception(exc)
        resp = err.response()
        status = err.status
    except asyncio.CancelledError:
        state.stats.count(key, "aborted")
        raise
    except ConnectionError:
        # The client went away mid-response (a cancelled or ruptured download): normal, not a server
        # error.  Re-raising would make aiohttp log it at ERROR; answer a placeholder on the dead
        # connection instead (aiohttp drops it quietly).
        state.stats.count(key, "aborted")
        logger.debug("client disconnected during %s %s", request.method, request.path)
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=499)
    except Exception:
        logger.exception("sandbox handler failed on %s %s", request.method, request.path)
        err = http_error(500, "internal sandbox error")
        resp, status = err.response(), 500
    state.stats.count(key, status)
    return resp


async def _api(
    request: web.Request,
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    state: SandboxState,
) -> web.StreamResponse:
    account = state.accounts.get(request.headers.get("X-API-KEY", ""))
    if account is None:
        raise http_error(401, "missing or unknown API key")
    account_id = request.headers.get("x-account-id", "")
    if account_id and not _ACCOUNT_ID.fullmatch(account_id):
        raise bad_request("x-account-id must be 1-64 letters, digits or _.:-")
    bucket = account.bucket
    if bucket is not None:
        wait = bucket.take()
        if wait:
            raise ApiError(
                429,
                "TOO_MANY_REQUESTS",
                "rate limit exceeded",
                headers={"Retry-After": TokenBucket.retry_after_header(wait)},
            )
    request[_TENANT] = state.store.tenant(account, account_id)
    decision = state.faults.draw()
    if decision.delay:
        state.faults.count("latency")
        await asyncio.sleep(decision.delay)
    if decision.error_status is not None:
        state.faults.count(f"http_{decision.error_status}")
        raise http_error(decision.error_status, "injected fault")
    if decision.reset:
        state.faults.count("reset")
        return _drop(request, reset=True)
    request[_DECISION] = decision
    resp = await handler(request)
    if decision.ambiguous and request.method == "POST" and 200 <= resp.status < 300:
        state.faults.count("ambiguous_post")
        return _drop(request, reset=False)
    return resp


# --- helpers ------------------------------------------------------------------------------------
def _tenant(request: web.Request) -> Tenant:
    tenant: Tenant = request[_TENANT]
    return tenant


def _json(value: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=dumps(value), content_type="application/json")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def read_json(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise http_error(415, "Content-Type must be application/json")
    body = await request.read()
    try:
        return json.loads(body.decode("utf-8"), parse_float=Decimal, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise bad_request(f"body is not valid JSON: {str(exc)[:200]}") from None


def _int_query(
    request: web.Request, name: str, default: int, minimum: int, maximum: int | None = None
) -> int:
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


def _choice_query(request: web.Request, name: str, allowed: tuple[str, ...], default: str) -> str:
    raw = request.query.get(name)
    if raw is None:
        return default
    if raw not in allowed:
        raise bad_request(
            f"{name} must be one of {', '.join(allowed)}",
            [{"field": name, "message": f"must be one of {', '.join(allowed)}"}],
        )
    return raw


def paginate(request: web.Request, items: list[Any], *, as_json: Callable[[Any], Any]) -> web.Response:
    page = _int_query(request, "page", 1, 1)
    per_page = _int_query(request, "perPage", PER_PAGE_DEFAULT, 1, PER_PAGE_MAX)
    total = len(items)
    start = (page - 1) * per_page
    data = [as_json(item) for item in items[start : start + per_page]]
    meta = {"page": page, "perPage": per_page, "total": total, "totalPages": math.ceil(total / per_page)}
    return _json({"data": data, "meta": meta})


def _media_types(request: web.Request) -> list[str]:
    raw = request.headers.get("Accept", "")
    out = []
    for part in raw.split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media:
            out.append(media)
    return out


def _file_kind(request: web.Request) -> str:
    for media in _media_types(request):
        if media == "application/pdf":
            return "pdf"
        if media == "application/xml":
            return "xml"
    raise http_error(406, "Accept must be application/pdf or application/xml")


def _invoice(request: web.Request) -> InvoiceRecord:
    fid = request.match_info["faktooraId"]
    record = _tenant(request).invoices.get(fid) if _FID.fullmatch(fid) else None
    if record is None:
        raise http_error(404, "no invoice with this faktooraId")
    return record


def _bytes_stream(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), _CHUNK):
        yield data[start : start + _CHUNK]


def inflated_chunks(pdf: bytes, size: int) -> Iterator[bytes]:
    """``pdf`` padded to exactly ``size`` bytes, still a valid PDF, produced in 64 KiB chunks.

    The padding is PDF comment lines appended after the original file, followed by a repeated
    ``startxref``/``%%EOF`` trailer pointing at the original cross-reference section.
    """
    tail = _inflate_tail(pdf)
    pad = size - len(pdf) - len(tail)
    if pad < 2:
        raise ValueError(f"size must be at least {len(pdf) + len(tail) + 2} bytes")
    yield from _bytes_stream(pdf)
    line = b"%" + b"0" * (_CHUNK - 2) + b"\n"
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
    state = request.app[STATE]
    decision: Decision | None = request.get(_DECISION)
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
            return _drop(request, reset=False)
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


async def _send_invoice_file(request: web.Request, record: InvoiceRecord, kind: str) -> web.StreamResponse:
    if record.xml is None:
        if record.job_status == "failed":
            raise ApiError(409, "NOT_READY", f"the file does not exist: {record.error}")
        raise ApiError(409, "NOT_READY", "the file is not generated yet")
    name = _safe_name(record.invoice_number)
    if kind == "xml":
        return await send_bytes(
            request, _bytes_stream(record.xml), len(record.xml), "application/xml", f"{name}.xml"
        )
    pdf = await request.app[STATE].ensure_pdf(record)
    if record.inflate_to is not None:
        chunks = inflated_chunks(pdf, record.inflate_to)
        return await send_bytes(request, chunks, record.inflate_to, "application/pdf", f"{name}.pdf")
    return await send_bytes(request, _bytes_stream(pdf), len(pdf), "application/pdf", f"{name}.pdf")


# --- /invoices ----------------------------------------------------------------------------------
async def create_invoices(request: web.Request) -> web.Response:
    state = request.app[STATE]
    tenant = _tenant(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise bad_request('body must be an object {"invoices": [...]}')
    extra = [k for k in body if k != "invoices"]
    if extra:
        raise bad_request("unknown field", [{"field": k, "message": "unknown field"} for k in extra[:20]])
    invoices = body.get("invoices")
    if not isinstance(invoices, list):
        raise bad_request("invoices must be a list", [{"field": "invoices", "message": "must be a list"}])
    if not invoices:
        raise bad_request(
            "invoices must not be empty", [{"field": "invoices", "message": "must not be empty"}]
        )
    if len(invoices) > MAX_INVOICES_PER_REQUEST:
        raise ApiError(
            413,
            "PAYLOAD_TOO_LARGE",
            f"at most {MAX_INVOICES_PER_REQUEST} invoices per request ({len(invoices)} sent)",
        )
    errors: list[dict[str, Any]] = []
    for index, invoice in enumerate(invoices):
        errors.extend(validate_invoice(invoice, index))
    if errors:
        raise bad_request(f"{len(errors)} validation error(s)", errors)
    positions: dict[str, list[int]] = {}
    for index, invoice in enumerate(invoices):
        positions.setdefault(invoice["invoiceNumber"], []).append(index)
    clashes: list[dict[str, Any]] = []
    for number, indexes in positions.items():
        stored = number in tenant.by_number
        if stored or len(indexes) > 1:
            for index in indexes:
                clashes.append(
                    {
                        "index": index,
                        "field": f"invoices[{index}].invoiceNumber",
                        "message": (
                            f"invoice number {number!r} already exists"
                            if stored
                            else f"invoice number {number!r} appears more than once in this request"
                        ),
                    }
                )
    if clashes:
        clashes.sort(key=lambda e: e["index"])
        state.stats.duplicates_rejected += len(clashes)
        names = ", ".join(str(e["index"]) for e in clashes)
        raise ApiError(409, "DUPLICATE_INVOICE_NUMBER", f"duplicate invoice number at index {names}", clashes)
    base = f"{request.scheme}://{request.host}/invoice/details/"
    gen_rate = state.faults.config.generation_failure_rate
    out = []
    for invoice in invoices:
        fid = state.store.new_id()
        record = InvoiceRecord(
            faktoora_id=fid,
            tenant=tenant,
            seq=state.store.next_seq(),
            payload=invoice,
            created_at=utcnow(),
            delays=state.draw_delays(),
            gen_fail=bool(gen_rate) and state.faults.keyed("generation", fid) < gen_rate,
        )
        state.store.add_invoice(record)
        state.tasks.spawn(state.process(record))
        out.append({"faktooraId": fid, "detailsPage": base + fid})
    return _json(out, 202)


_SORT_KEYS: dict[str, Callable[[InvoiceRecord], Any]] = {
    "issueDate": lambda r: (r.issue_date, r.seq),
    "invoiceNumber": lambda r: (r.invoice_number, r.seq),
    "createdAt": lambda r: r.seq,
}


def _date_query(request: web.Request, name: str) -> str | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    if parse_yyyymmdd(raw) is None:
        raise bad_request(
            f"{name} must be a date YYYYMMDD", [{"field": name, "message": "not a YYYYMMDD date"}]
        )
    return raw


async def list_or_download(request: web.Request) -> web.StreamResponse:
    media = _media_types(request)
    kind = None
    for m in media:
        if m in ("application/pdf", "application/xml"):
            kind = "pdf" if m == "application/pdf" else "xml"
            break
    tenant = _tenant(request)
    if kind is not None:
        number = request.query.get("invoiceNumber")
        if not number:
            raise bad_request("invoiceNumber is required to download a file")
        record = tenant.by_number.get(number)
        if record is None:
            raise http_error(404, "no invoice with this invoiceNumber")
        return await _send_invoice_file(request, record, kind)
    if media and not any(m in ("application/json", "*/*", "application/*") for m in media):
        raise http_error(406, "Accept must be application/json, application/pdf or application/xml")
    keyword = request.query.get("keyword")
    number = request.query.get("invoiceNumber")
    date_from = _date_query(request, "issueDateFrom")
    date_to = _date_query(request, "issueDateTo")
    sort = _choice_query(request, "sort", ("issueDate", "invoiceNumber", "createdAt"), "createdAt")
    order = _choice_query(request, "order", ("asc", "desc"), "asc")
    for name, value in (("keyword", keyword), ("invoiceNumber", number)):
        if value is not None and len(value) > 200:
            raise bad_request(f"{name} is too long", [{"field": name, "message": "at most 200 characters"}])
    records: list[InvoiceRecord] = list(tenant.invoices.values())
    if number is not None:
        records = [r for r in records if r.invoice_number == number]
    if keyword:
        kw = keyword.casefold()
        records = [
            r
            for r in records
            if kw in r.invoice_number.casefold() or kw in str(r.payload["buyer"]["name"]).casefold()
        ]
    if date_from is not None:
        records = [r for r in records if r.issue_date >= date_from]
    if date_to is not None:
        records = [r for r in records if r.issue_date <= date_to]
    records.sort(key=_SORT_KEYS[sort], reverse=order == "desc")
    return paginate(request, records, as_json=InvoiceRecord.list_item)


async def download_invoice(request: web.Request) -> web.StreamResponse:
    kind = _file_kind(request)
    return await _send_invoice_file(request, _invoice(request), kind)


async def invoice_status(request: web.Request) -> web.Response:
    fid = request.match_info["faktooraId"]
    record = request[_TENANT].invoices.get(fid)
    if record is None:
        raise http_error(404, "no invoice with this faktooraId")
    return web.Response(body=record.status_body(), content_type="application/json")


async def validation_report(request: web.Request) -> web.StreamResponse:
    record = _invoice(request)
    validation = record.validation
    if validation is None or validation.get("status") == "processing" or record.verdict is None:
        raise http_error(404, "no finished validation for this invoice")
    if record.report_pdf is None:
        state = request.app[STATE]
        record.report_pdf = await state.in_pdf_thread(
            _domain.report_pdf, record.verdict, "Validation report", record.invoice_number
        )
    data = record.report_pdf
    name = f"{_safe_name(record.invoice_number)}-validation.pdf"
    return await send_bytes(request, _bytes_stream(data), len(data), "application/pdf", name)


async def delete_invoice(request: web.Request) -> web.Response:
    tenant = _tenant(request)
    if "invoiceDeleteMode" not in tenant.account.features:
        raise ApiError(403, "FEATURE_DISABLED", "deleting invoices needs the invoiceDeleteMode feature")
    record = _invoice(request)
    request.app[STATE].store.delete_invoice(record)
    return web.Response(status=204)


def render_template(template: str, counter: int, today: _dt.date) -> str:
    """Render a number template: ``{YYYY} {YY} {MM} {DD} {counter} {counter:05}``; ``{{``/``}}`` = braces."""
    values = {"YYYY": f"{today.year:04d}", "YY": f"{today.year % 100:02d}", "MM": f"{today.month:02d}"}
    values["DD"] = f"{today.day:02d}"
    out: list[str] = []
    pos = 0
    for match in _TEMPLATE_TOKEN.finditer(template):
        out.append(template[pos : match.start()])
        pos = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            out.append(token[0])
            continue
        name, width = match.group(1), match.group(2)
        if name == "counter":
            out.append(f"{counter:0{int(width)}d}" if width else str(counter))
        elif name in values and width is None:
            out.append(values[name])
        else:
            raise ValueError(f"unknown placeholder {token!r}")
    out.append(template[pos:])
    return "".join(out)


async def next_number(request: web.Request) -> web.Response:
    template = request.query.get("template", DEFAULT_TEMPLATE)
    if not template or len(template) > 200:
        raise bad_request(
            "template must be 1-200 characters", [{"field": "template", "message": "bad length"}]
        )
    counter = _tenant(request).counter
    try:
        number = render_template(template, counter + 1, _dt.datetime.now(_dt.timezone.utc).date())
    except ValueError as exc:
        raise bad_request(str(exc), [{"field": "template", "message": str(exc)}]) from None
    return _json({"invoiceNumber": number, "counter": counter})


# --- /import/outgoing ---------------------------------------------------------------------------
_IMPORT_SORT: dict[str, Callable[[ImportRecord], Any]] = {
    "createdAt": lambda r: r.seq,
    "invoiceNumber": lambda r: (str(r.content.get("invoiceNumber") or ""), r.seq),
    "issueDate": lambda r: (str(r.content.get("issueDate") or ""), r.seq),
}


async def list_imports(request: web.Request) -> web.Response:
    sort = _choice_query(request, "sort", tuple(_IMPORT_SORT), "createdAt")
    order = _choice_query(request, "order", ("asc", "desc"), "asc")
    records = sorted(_tenant(request).imports.values(), key=_IMPORT_SORT[sort], reverse=order == "desc")
    return paginate(request, records, as_json=ImportRecord.list_item)


async def upload_import(request: web.Request) -> web.Response:
    state = request.app[STATE]
    if request.content_type != "multipart/form-data":
        raise http_error(415, "Content-Type must be multipart/form-data with a field named file")
    limit = state.config.max_upload_bytes
    try:
        reader = await request.multipart()
        data: bytes | None = None
        filename = ""
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                raise bad_request("nested multipart is not supported")
            if part.name != "file" or data is not None:
                await part.release()
                continue
            filename = part.filename or "upload"
            buf = bytearray()
            while True:
                chunk = await part.read_chunk(_CHUNK)
                if not chunk:
                    break
                buf += chunk
                if len(buf) > limit:
                    raise ApiError(413, "PAYLOAD_TOO_LARGE", f"the file is larger than {limit} bytes")
            data = bytes(buf)
    except (ValueError, AssertionError) as exc:
        raise bad_request(f"malformed multipart body: {str(exc)[:200]}") from None
    if data is None:
        raise bad_request(
            "the multipart field file is missing", [{"field": "file", "message": "is required"}]
        )
    if not data:
        raise ApiError(400, "UNSUPPORTED_FILE", "the file is empty")
    try:
        parsed = await state.in_thread(_domain.parse_document, data)
    except _domain.UnreadableFile as exc:
        raise ApiError(400, "UNSUPPORTED_FILE", f"not a readable e-invoice: {exc}") from None
    except Exception as exc:  # a parser bug must still not store anything
        logger.warning("parser crashed on an upload: %r", exc)
        raise ApiError(400, "UNSUPPORTED_FILE", "not a readable e-invoice") from None
    is_pdf = data.startswith(b"%PDF")
    xml = getattr(parsed, "xml", None)
    record = ImportRecord(
        faktoora_id=state.store.new_id(),
        tenant=_tenant(request),
        seq=state.store.next_seq(),
        filename=filename[:255],
        source=data,
        source_type="application/pdf" if is_pdf else "application/xml",
        parsed=parsed,
        created_at=utcnow(),
        xml=bytes(xml) if isinstance(xml, (bytes, bytearray)) else None,
    )
    state.store.add_import(record)
    state.tasks.spawn(state.process_import(record))
    return _json({"faktooraId": record.faktoora_id}, 202)


def _import(request: web.Request) -> ImportRecord:
    fid = request.match_info["faktooraId"]
    record = _tenant(request).imports.get(fid) if _FID.fullmatch(fid) else None
    if record is None:
        raise http_error(404, "no imported invoice with this faktooraId")
    return record


_CONTENT_PARTS = {
    "lineitems": "lineItems",
    "taxes": "taxes",
    "paymentterms": "paymentTerms",
    "paymentmeans": "paymentMeans",
    "seller": "seller",
    "buyer": "buyer",
    "delivery": "delivery",
}


async def import_content(request: web.Request) -> web.Response:
    return _json(_import(request).content)


async def import_summary(request: web.Request) -> web.Response:
    record = _import(request)
    summary = getattr(record.parsed, "summary", None)
    return _json(summary() if callable(summary) else {})


def _content_part_handler(key: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        return _json(_import(request).content.get(key))

    return handler


async def import_content_pdf(request: web.Request) -> web.StreamResponse:
    record = _import(request)
    if record.content_pdf is None:
        if record.visualization_status == "failed":
            raise ApiError(409, "NOT_READY", "the PDF view could not be rendered")
        raise ApiError(409, "NOT_READY", "the PDF view is not rendered yet")
    data = record.content_pdf
    return await send_bytes(request, _bytes_stream(data), len(data), "application/pdf")


async def import_source(request: web.Request) -> web.StreamResponse:
    record = _import(request)
    if record.xml is not None:
        return await send_bytes(request, _bytes_stream(record.xml), len(record.xml), "application/xml")
    return await send_bytes(request, _bytes_stream(record.source), len(record.source), record.source_type)


async def import_validation(request: web.Request) -> web.Response:
    record = _import(request)
    if record.validation_status == "pending":
        raise ApiError(409, "NOT_READY", "the validation is still running")
    return _json({"status": "accepted" if record.accepted else "rejected"})


async def import_validation_pdf(request: web.Request) -> web.StreamResponse:
    record = _import(request)
    if record.validation_status == "pending":
        raise ApiError(409, "NOT_READY", "the validation is still running")
    if record.verdict is None:
        raise http_error(404, "the validation produced no report")
    if record.report_pdf is None:
        number = str(record.content.get("invoiceNumber") or record.faktoora_id)
        record.report_pdf = await request.app[STATE].in_pdf_thread(
            _domain.report_pdf, record.verdict, "Validation report", number
        )
    data = record.report_pdf
    return await send_bytes(request, _bytes_stream(data), len(data), "application/pdf")


async def import_status(request: web.Request) -> web.Response:
    return _json(_import(request).status())


def _attachments(record: ImportRecord) -> list[Any]:
    return list(getattr(record.parsed, "attachments", []) or [])


def attachment_json(att: Any) -> dict[str, Any]:
    return {
        "id": str(att.id),
        "filename": att.filename,
        "mimeType": att.mime_type,
        "description": att.description,
        "size": len(att.content),
    }


async def import_attachments(request: web.Request) -> web.Response:
    return paginate(request, _attachments(_import(request)), as_json=attachment_json)


def _attachment(request: web.Request) -> Any:
    record = _import(request)
    att_id = request.match_info["attachmentId"]
    if _ATT_ID.fullmatch(att_id):
        for att in _attachments(record):
            if str(att.id) == att_id:
                return att
    raise http_error(404, "no attachment with this id")


async def import_attachment(request: web.Request) -> web.Response:
    return _json(attachment_json(_attachment(request)))


async def import_attachment_file(request: web.Request) -> web.StreamResponse:
    data = bytes(_attachment(request).content)
    return await send_bytes(request, _bytes_stream(data), len(data), "application/octet-stream")


# --- /webhooks ----------------------------------------------------------------------------------
def _subscription_body(body: Any, *, partial: bool) -> dict[str, str]:
    if not isinstance(body, dict):
        raise bad_request('body must be an object {"action", "target"}')
    errors = [{"field": k, "message": "unknown field"} for k in body if k not in ("action", "target")]
    out: dict[str, str] = {}
    action = body.get("action")
    if action is None and not partial:
        errors.append({"field": "action", "message": "is required"})
    elif action is not None:
        if action not in ACTIONS:
            errors.append({"field": "action", "message": f"must be one of {', '.join(sorted(ACTIONS))}"})
        else:
            out["action"] = action
    target = body.get("target")
    if target is None and not partial:
        errors.append({"field": "target", "message": "is required"})
    elif target is not None:
        if (
            not isinstance(target, str)
            or not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", target)
            or len(target) > 2000
        ):
            errors.append({"field": "target", "message": "must be an http(s) URL"})
        else:
            out["target"] = target
    if partial and not out and not errors:
        errors.append({"field": "action", "message": "nothing to change"})
    if errors:
        raise bad_request("invalid webhook subscription", errors)
    return out


async def list_webhooks(request: web.Request) -> web.Response:
    subs = list(_tenant(request).subscriptions.values())
    return paginate(request, subs, as_json=Subscription.to_json)


async def create_webhook(request: web.Request) -> web.Response:
    values = _subscription_body(await read_json(request), partial=False)
    state = request.app[STATE]
    sub = Subscription(state.store.new_id("W"), values["action"], values["target"], utcnow())
    _tenant(request).subscriptions[sub.id] = sub
    return _json(sub.to_json(), 201)


def _subscription(request: web.Request) -> Subscription:
    wid = request.match_info["webhookId"]
    sub = _tenant(request).subscriptions.get(wid) if _WID.fullmatch(wid) else None
    if sub is None:
        raise http_error(404, "no webhook subscription with this id")
    return sub


async def update_webhook(request: web.Request) -> web.Response:
    sub = _subscription(request)
    values = _subscription_body(await read_json(request), partial=True)
    sub.action = values.get("action", sub.action)
    sub.target = values.get("target", sub.target)
    return _json({"succeed": True})


async def delete_webhook(request: web.Request) -> web.Response:
    sub = _subscription(request)
    del _tenant(request).subscriptions[sub.id]
    return _json({"succeed": True})


# --- app ----------------------------------------------------------------------------------------
def _add_api_routes(app: web.Application, prefix: str) -> None:
    r = app.router
    r.add_get(f"{prefix}/invoices/next-number", next_number)
    r.add_post(f"{prefix}/invoices", create_invoices)
    r.add_get(f"{prefix}/invoices", list_or_download)
    r.add_get(prefix + "/invoices/{faktooraId}/status", invoice_status)
    r.add_get(prefix + "/invoices/{faktooraId}/validation-report", validation_report)
    r.add_get(prefix + "/invoices/{faktooraId}", download_invoice)
    r.add_delete(prefix + "/invoices/{faktooraId}", delete_invoice)
    r.add_get(f"{prefix}/import/outgoing", list_imports)
    r.add_post(f"{prefix}/import/outgoing", upload_import)
    base = prefix + "/import/outgoing/{faktooraId}"
    r.add_get(f"{base}/content", import_content)
    r.add_get(f"{base}/content/summary", import_summary)
    r.add_get(f"{base}/content/pdf", import_content_pdf)
    for segment, key in _CONTENT_PARTS.items():
        r.add_get(f"{base}/content/{segment}", _content_part_handler(key))
    r.add_get(f"{base}/source", import_source)
    r.add_get(f"{base}/validation", import_validation)
    r.add_get(f"{base}/validation/pdf", import_validation_pdf)
    r.add_get(f"{base}/status", import_status)
    r.add_get(f"{base}/attachments", import_attachments)
    r.add_get(base + "/attachment/{attachmentId}", import_attachment)
    r.add_get(base + "/attachment/{attachmentId}/file", import_attachment_file)
    r.add_get(f"{prefix}/webhooks", list_webhooks)
    r.add_post(f"{prefix}/webhooks", create_webhook)
    r.add_patch(prefix + "/webhooks/{webhookId}", update_webhook)
    r.add_delete(prefix + "/webhooks/{webhookId}", delete_webhook)


def create_app(state: SandboxState) -> web.Application:
    """The aiohttp application of a sandbox holding ``state``."""
    from .admin import add_admin_routes

    limit = max(MAX_JSON_BYTES, state.config.max_upload_bytes + 1024 * 1024)
    app = web.Application(middlewares=[sandbox_middleware], client_max_size=limit)
    app[STATE] = state
    for prefix in ("/api/v1", "/api/v2"):
        _add_api_routes(app, prefix)
    add_admin_routes(app)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await state.start()
        yield
        await state.stop()

    app.cleanup_ctx.append(lifecycle)
    return app


def hash_chunks(chunks: Iterator[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()
