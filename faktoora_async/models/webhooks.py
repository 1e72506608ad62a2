"""Webhook subscriptions and the events faktoora POSTs to them."""

from __future__ import annotations

from typing import Any

import msgspec

from ._base import ResponseBase, Timestamp
from .responses import Succeeded

__all__ = ["WebhookAction", "WebhookDeleted", "WebhookEvent", "WebhookSubscription"]


class WebhookAction:
    """The 16 webhook actions faktoora documents (API.md v2); the field itself stays a plain string, so an
    action this list does not know is passed through, never refused."""

    INVOICE_CREATE = "invoiceCreate"
    INVOICE_SENT = "invoiceSent"
    INVOICE_OVERDUE = "invoiceOverdue"
    INVOICE_INCOMING_CREATE = "invoiceIncomingCreate"
    INVOICE_INCOMING_SENT = "invoiceIncomingSent"
    OFFER_CREATE = "offerCreate"
    OFFER_SENT = "offerSent"
    LETTER_CREATE = "letterCreate"
    LETTER_SENT = "letterSent"
    REMINDER_CREATE = "reminderCreate"
    REMINDER_SENT = "reminderSent"
    ORDER_CONFIRMATION_CREATE = "orderConfirmationCreate"
    ORDER_CONFIRMATION_SENT = "orderConfirmationSent"
    CUSTOMER_CREATE = "customerCreate"
    PRODUCT_CREATE = "productCreate"
    VALIDATION_JOB_COMPLETED = "validationJobCompleted"
    INVOICE_CREATED = "invoiceCreated"
    """The past-tense name production's page still gives for subscribing to ``invoiceCreate``."""

    ALL: frozenset[str] = frozenset(
        {
            INVOICE_CREATE,
            INVOICE_SENT,
            INVOICE_OVERDUE,
            INVOICE_INCOMING_CREATE,
            INVOICE_INCOMING_SENT,
            OFFER_CREATE,
            OFFER_SENT,
            LETTER_CREATE,
            LETTER_SENT,
            REMINDER_CREATE,
            REMINDER_SENT,
            ORDER_CONFIRMATION_CREATE,
            ORDER_CONFIRMATION_SENT,
            CUSTOMER_CREATE,
            PRODUCT_CREATE,
            VALIDATION_JOB_COMPLETED,
        }
    )
    """The 16 documented delivery actions (without the subscription synonym ``invoiceCreated``)."""


class WebhookSubscription(ResponseBase, frozen=True):
    """A subscription; ``id`` is its UUID (optional like every list-item field, API.md v2)."""

    id: str | None = None
    action: str | None = None
    target: str | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None


WebhookDeleted = Succeeded  # ``DELETE /webhooks/{id}`` answers ``{"succeed": true}``


class WebhookEvent(ResponseBase, frozen=True):
    """A delivery body, API.md v2: ``{"action", "faktooraId", "status", "timestamp", "metadata"}``.

    Every field is optional (``event`` is the v1 name of ``action``); the receiver in
    :mod:`faktoora_async.webhooks` reads deliveries more tolerantly still (see ``parse_event``).
    """

    action: str | None = None
    faktoora_id: str | None = None
    status: str | None = None
    timestamp: Timestamp | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    event: str | None = None
    invoice_number: str | None = None
