"""Webhook subscriptions and the events faktoora POSTs to them."""

from __future__ import annotations

import datetime
from typing import Any

import msgspec

from ._base import ResponseBase
from .responses import Succeeded

__all__ = ["WebhookAction", "WebhookDeleted", "WebhookEvent", "WebhookSubscription"]


class WebhookAction:
    """Known subscription actions (the field itself is a plain string)."""

    INVOICE_CREATE = "invoiceCreate"
    INVOICE_SENT = "invoiceSent"
    VALIDATION_JOB_COMPLETED = "validationJobCompleted"


class WebhookSubscription(ResponseBase, frozen=True):
    id: str
    action: str | None = None
    target: str | None = None
    created_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None


WebhookDeleted = Succeeded  # ``DELETE /webhooks/{id}`` answers ``{"succeed": true}``


class WebhookEvent(ResponseBase, frozen=True):
    """``{"event": "invoice.status", "faktooraId", "invoiceNumber", "status", "timestamp", "metadata"}``."""

    faktoora_id: str
    status: str
    event: str = "invoice.status"
    invoice_number: str | None = None
    timestamp: datetime.datetime | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
