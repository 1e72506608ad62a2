"""Webhook events: the hub that ``invoices.wait()`` listens to.

faktoora POSTs ``{"event": "invoice.status", "faktooraId", "invoiceNumber", "status", "timestamp", ...}`` to
subscribed targets.  Deliveries may repeat and arrive out of order, so the hub keeps, per invoice, the most
advanced status seen and never moves it backwards.  Feeding the hub is optional: when nothing is fed,
``wait()`` simply polls.
"""

from __future__ import annotations

import math

import anyio

# Resting order of ``invoiceStatus``; a status never moves to a lower rank.
STATUS_RANK: dict[str, int] = {"draft": 1, "review": 2, "created": 3, "sent": 4}


class WebhookHub:
    """In-memory, per-client record of the newest status each invoice reached, as told by webhooks."""

    def __init__(self) -> None:
        self._latest: dict[str, str] = {}
        self._changed: dict[str, anyio.Event] = {}
        self._fed = 0

    @property
    def active(self) -> bool:
        """True once any event was fed: waits may then poll less often."""
        return self._fed > 0

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
        event = self._changed.pop(faktoora_id, None)
        if event is not None:
            event.set()
        return True

    async def wait_for_change(self, faktoora_id: str, since: str | None, timeout: float) -> str | None:
        """Wait up to ``timeout`` seconds for a status newer than ``since``; return it, or None."""
        current = self._latest.get(faktoora_id)
        if current is not None and current != since:
            return current
        event = self._changed.setdefault(faktoora_id, anyio.Event())
        with anyio.move_on_after(timeout if math.isfinite(timeout) else None):
            await event.wait()
        current = self._latest.get(faktoora_id)
        return current if current != since else None
