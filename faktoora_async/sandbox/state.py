"""The state of one sandbox application: accounts, the store, worker pools, and the invoice/import jobs.

:class:`SandboxState` owns everything a running sandbox holds; route modules reach it as
``request.app[STATE]`` (or :func:`faktoora_async.sandbox.http.app_state`).  The jobs (generation,
sending, validation, import checks) run in the state's :class:`~._tasks.TaskSet`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

from . import _domain, _render_pool
from ._tasks import TaskSet
from .apikeys import KeyRing
from .errors import ApiError
from .faults import FaultConfig, FaultInjector
from .ratelimit import TokenBucket
from .store import (
    FEATURES,
    Account,
    ImportRecord,
    InvoiceRecord,
    Stats,
    Store,
    Tenant,
    safe_name,
    today,
    utcnow,
)
from .validation import validate_profile
from .webhooks import WebhookDispatcher

__all__ = ["DEFAULT_MAX_UPLOAD", "STATE", "ProfileError", "SandboxConfig", "SandboxState"]

logger = logging.getLogger("faktoora_async.sandbox")

T = TypeVar("T")

DEFAULT_MAX_UPLOAD = 10 * 1024 * 1024


class ProfileError(ValueError):
    """A company profile that is not a complete, valid seller; ``errors`` lists ``{field, message}``."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


@dataclass
class SandboxConfig:
    """Start-up options of a sandbox (see ``Sandbox`` for their meaning)."""

    processing_delay: tuple[float, float] = (0.0, 0.0)
    faults: FaultConfig = field(default_factory=FaultConfig)
    seed: int = 0
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD
    render_workers: int = 2
    render_processes: int = 0
    webhook_attempts: int = 3
    webhook_retry_delays: tuple[float, ...] = (0.05, 0.2, 0.5)
    allow_private_targets: bool = False
    """Accept webhook targets faktoora refuses (loopback, RFC 1918, ``.local``...): tests and demos."""


class SandboxState:
    """Everything one sandbox application holds."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.accounts: dict[str, Account] = {}
        self.keys = KeyRing()
        """Every user's API keys (issue 12: lifecycle, rotation); authenticates each API request."""
        self.store = Store()
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
        self._pdf_executor: concurrent.futures.Executor | None = None

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
        self.keys.register_start(account)
        return account

    def tenant_of(self, api_key: str, account_id: str = "") -> Tenant:
        """The tenant of a usable key (a start key or one made by ``/apikeys``) and ``x-account-id``.

        ``KeyError`` for a key that is unknown, revoked or expired.
        """
        account = self.accounts.get(api_key)
        if account is None:
            try:
                account = self.keys.authenticate(api_key).account
            except ApiError:
                raise KeyError("unknown API key") from None
        return self.store.tenant(account, account_id)

    def set_profile(self, api_key: str, account_id: str, seller: Any) -> dict[str, Any]:
        """Replace a tenant's company profile; ``ValueError`` naming each problem of ``seller``."""
        errors = validate_profile(seller)
        if errors:
            raise ProfileError(errors)
        owner = self.tenant_of(api_key, account_id)
        owner.profile = dict(seller)
        return dict(owner.profile)

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        # Two bounded pools: quick work (XML, parsing, validation) never queues behind costly PDFs.
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="faktoora-sandbox-work"
        )
        if self.config.render_processes > 0:  # every core renders (issue 14): see _render_pool
            pool = _render_pool.pdf_executor(self.config.render_processes)
            _render_pool.warm(pool, self.config.render_processes)
            self._pdf_executor = pool
        else:
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

        API keys made through ``/apikeys`` are forgotten; each account's start key is active again.

        Running jobs and deliveries are cancelled (they finish within the app's task set).
        """
        self.tasks.cancel_pending()
        for record in self.store.invoices.values():
            record.deleted = True
        self.store.reset()
        self.keys.reset()
        self.webhooks.log.clear()
        self.stats.__init__()  # type: ignore[misc]
        self.faults.counts.clear()
        self.faults.configure(self.faults.config)
        self._delay_rng = random.Random(f"delay:{self.config.seed}")

    async def in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Run quick blocking ``fn`` (XML, parsing, validation, hashing) in the work pool."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def in_pdf_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a PDF rendering ``fn`` in the PDF pool (``render_processes`` worker processes, else
        ``render_workers`` threads); in processes ``fn`` and its arguments travel by pickling."""
        assert self._pdf_executor is not None, "the sandbox is not started"
        return await _render_pool.run(self._pdf_executor, fn, *args)

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

    def notify_invoice(self, record: InvoiceRecord, action: str) -> None:
        """Deliver webhook ``action`` about ``record`` (status = its ``invoiceStatus``)."""
        self.webhooks.notify(
            record.tenant, action, record.faktoora_id, record.invoice_status, invoice_metadata(record)
        )

    def set_status(self, record: InvoiceRecord, status: str) -> None:
        """Move the invoice to ``status``: ``invoiceCreate`` (draft, review, created) or ``invoiceSent``."""
        record.invoice_status = status
        record.changed()
        self.notify_invoice(record, "invoiceSent" if status == "sent" else "invoiceCreate")
        if status == "sent" and _overdue(record):
            self.notify_invoice(record, "invoiceOverdue")

    def send(self, record: InvoiceRecord) -> None:
        """Deliver a created invoice with a ``delivery`` (e-mail or PEPPOL): outbox entry, then ``sent``."""
        delivery = record.delivery
        if delivery is None:
            return
        name = safe_name(record.invoice_number)
        peppol = delivery.get("type") == "peppol"
        self.store.outbox.append(
            {
                "type": "peppol" if peppol else "email",
                "faktooraId": record.faktoora_id,
                "invoiceNumber": record.invoice_number,
                "accountId": record.tenant.account_id or None,
                "to": delivery.get("recipient"),
                "cc": delivery.get("carbonCopy"),
                "bcc": delivery.get("blindCarbonCopy"),
                "subject": None if peppol else f"Invoice {record.invoice_number}",
                "attachments": [f"{name}.xml"] if peppol else [f"{name}.pdf", f"{name}.xml"],
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
        record.xml = xml  # its sha256 is made when asked (InvoiceRecord.xml_sha256)
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
                record.pdf = pdf
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
        self.notify_invoice(record, "validationJobCompleted")

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

    async def invoice_view(self, record: InvoiceRecord) -> ImportRecord:
        """A created invoice as ``/import/outgoing/{faktooraId}`` serves it; 409 NOT_READY before its file.

        Made on first use from the generated XML (parsed and validated in the work pool, the verdict of
        a finished validation job reused); its PDF view is the invoice's own PDF, rendered on demand.
        """
        if record.view is not None:
            return record.view
        xml = record.xml
        if xml is None:
            if record.job_status == "failed":
                raise ApiError(409, "NOT_READY", f"the file does not exist: {record.error}")
            raise ApiError(409, "NOT_READY", "the file is not generated yet")
        if record.view_lock is None:
            record.view_lock = asyncio.Lock()
        async with record.view_lock:
            if record.view is None:
                parsed = await self.in_thread(_domain.parse_document, xml)
                view = ImportRecord(
                    faktoora_id=record.faktoora_id,
                    tenant=record.tenant,
                    seq=record.seq,
                    filename=f"{safe_name(record.invoice_number)}.xml",
                    source=xml,
                    source_type="application/xml",
                    parsed=parsed,
                    created_at=record.created_at,
                    xml=xml,
                    invoice=record,
                    visualization_status="accepted",
                )
                job = record.validation
                if job is not None and job["status"] != "processing" and record.verdict is not None:
                    view.verdict, view.accepted = record.verdict, bool(job["validity"])
                    view.validation_status = "accepted" if view.accepted else "failed"
                else:
                    await self._check_view(view)
                record.view = view
        return record.view

    async def _check_view(self, view: ImportRecord) -> None:
        try:
            accepted, verdict = await self.in_thread(_domain.validate_parsed, view.parsed)
        except Exception as exc:
            logger.warning("validation of invoice %s failed: %s", view.faktoora_id, exc)
            view.validation_status = "failed"
        else:
            view.verdict, view.accepted = verdict, accepted
            view.validation_status = "accepted" if accepted else "failed"


def invoice_metadata(record: InvoiceRecord) -> dict[str, Any]:
    """The ``metadata`` of an invoice's webhook deliveries."""
    doc = record.payload
    meta: dict[str, Any] = {
        "invoiceNumber": record.invoice_number,
        "issueDate": record.issue_date,
        "dueDate": doc.get("dueDate"),
        "format": doc.get("format") or "xrechnung",
        "schema": doc.get("schema") or "CII",
        "currency": doc.get("currency") or "EUR",
        "totalGross": record.total_gross,
        "buyerName": doc["buyer"]["name"],
        "accountId": record.tenant.account_id or None,
    }
    if record.delivery is not None:
        delivery = record.delivery
        meta["delivery"] = {"type": delivery.get("type"), "recipient": delivery.get("recipient")}
    if record.validation is not None:
        meta["validation"] = dict(record.validation)
    return meta


def _overdue(record: InvoiceRecord) -> bool:
    """A sent invoice whose ``dueDate`` (YYYYMMDD) is before today (UTC)."""
    due = record.payload.get("dueDate")
    return isinstance(due, str) and due < today().strftime("%Y%m%d")


def _gone(record: InvoiceRecord) -> bool:
    """True once the invoice was deleted or the sandbox reset (checked after every await)."""
    return record.deleted


STATE = web.AppKey("faktoora_sandbox_state", SandboxState)
"""The application key of the :class:`SandboxState` (``request.app[STATE]``)."""
