"""Webhook deliveries: the sandbox POSTs event bodies to subscribed targets with bounded retries.

Each delivery runs in a task of the application's :class:`~._tasks.TaskSet`.  A delivery is attempted
up to ``max_attempts`` times until a target answers 2xx.  An injected failure (``webhookFailureRate``)
still sends the request but counts the attempt as failed and retries, so receivers see repeats.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
from collections import deque
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

from ._tasks import TaskSet
from .store import Stats, Subscription, Tenant, dumps, utcnow

if TYPE_CHECKING:
    from .faults import FaultInjector

logger = logging.getLogger("faktoora_async.sandbox")

ACTIONS = frozenset(
    {
        "invoiceCreate",
        "invoiceSent",
        "invoiceOverdue",
        "invoiceIncomingCreate",
        "invoiceIncomingSent",
        "offerCreate",
        "offerSent",
        "letterCreate",
        "letterSent",
        "reminderCreate",
        "reminderSent",
        "orderConfirmationCreate",
        "orderConfirmationSent",
        "customerCreate",
        "productCreate",
        "validationJobCompleted",
    }
)
"""The 16 webhook ``action`` values faktoora documents (API.md v2)."""

SYNONYMS = {"invoiceCreated": "invoiceCreate"}
"""Subscription actions accepted for another (production's page still names ``invoiceCreated``)."""


def canonical_action(action: str) -> str | None:
    """The documented action ``action`` subscribes to, or None when it is not one."""
    action = SYNONYMS.get(action, action)
    return action if action in ACTIONS else None


def event_body(
    action: str, object_id: str, status: str | None, metadata: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A webhook delivery body: ``{"action", "faktooraId", "status", "timestamp", "metadata"}``."""
    return {
        "action": action,
        "faktooraId": object_id,
        "status": status,
        "timestamp": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "metadata": dict(metadata or {}),
    }


class WebhookDispatcher:
    def __init__(
        self,
        tasks: TaskSet,
        stats: Stats,
        faults: FaultInjector,
        *,
        max_attempts: int = 3,
        retry_delays: tuple[float, ...] = (0.05, 0.2, 0.5),
        timeout: float = 5.0,
        log_size: int = 10_000,
    ) -> None:
        self._tasks = tasks
        self._stats = stats
        self._faults = faults
        self.max_attempts = max_attempts
        self.retry_delays = retry_delays
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self.log: deque[dict[str, Any]] = deque(maxlen=log_size)
        self._log_id = 0

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def notify(
        self,
        tenant: Tenant,
        action: str,
        object_id: str,
        status: str | None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Deliver event ``action`` about ``object_id`` to the tenant's subscriptions for it.

        The body is API.md v2's ``{"action", "faktooraId", "status", "timestamp", "metadata"}``; for
        customer/product events ``object_id`` is the object's id and ``metadata`` the object.
        """
        self.emit(tenant, action, event_body(action, object_id, status, metadata))

    def emit(self, tenant: Tenant, action: str, body: dict[str, Any]) -> None:
        for sub in list(tenant.subscriptions.values()):
            if sub.action == action:
                self._tasks.spawn(self._deliver(sub, action, body))

    async def _deliver(self, sub: Subscription, action: str, body: dict[str, Any]) -> None:
        data = dumps(body)
        # keyed by what the seed and the requests fix (not by random ids, nor by the target's host and
        # port: a test's receiver listens on a new port each run), so a seed repeats the faults
        metadata = body.get("metadata") or {}
        subject = metadata.get("invoiceNumber") or body.get("faktooraId")
        parts = urlsplit(sub.target)
        key_base = f"{sub.action}:{parts.path}?{parts.query}:{subject}:{body.get('status')}"
        cfg_rate = self._faults.config.webhook_failure_rate
        for attempt in range(1, self.max_attempts + 1):
            self._stats.webhook_attempts += 1
            injected = bool(cfg_rate) and self._faults.keyed("webhook", f"{key_base}:{attempt}") < cfg_rate
            http_status: int | None = None
            error: str | None = None
            try:
                assert self._session is not None
                async with self._session.post(
                    sub.target,
                    data=data,
                    headers={"Content-Type": "application/json"},
                    allow_redirects=False,  # a redirect could lead a checked target anywhere
                ) as resp:
                    http_status = resp.status
                    await resp.read()
                ok = 200 <= http_status < 300
                if not ok:
                    error = f"target answered HTTP {http_status}"
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
                ok = False
                error = f"{type(exc).__name__}: {exc}"
            if injected:
                self._faults.count("webhook_failure")
                ok = False
                error = "injected failure (webhookFailureRate)"
            self._log_id += 1
            self.log.append(
                {
                    "id": self._log_id,
                    "subscriptionId": sub.id,
                    "action": action,
                    "target": sub.target,
                    "faktooraId": body.get("faktooraId"),
                    "status": body.get("status"),
                    "attempt": attempt,
                    "ok": ok,
                    "httpStatus": http_status,
                    "error": error,
                    "injected": injected,
                    "timestamp": utcnow(),
                }
            )
            if ok:
                self._stats.webhook_deliveries += 1
                return
            self._stats.webhook_failures += 1
            if attempt < self.max_attempts:
                delay = self.retry_delays[min(attempt - 1, len(self.retry_delays) - 1)]
                await asyncio.sleep(delay)
        logger.debug("webhook delivery to %s gave up after %d attempts", sub.target, self.max_attempts)
