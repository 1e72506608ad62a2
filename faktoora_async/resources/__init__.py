"""Resource namespaces of :class:`~faktoora_async.FaktooraClient`."""

from __future__ import annotations

from .imports import Imports
from .invoices import Invoices
from .webhooks import Webhooks

__all__ = ["Imports", "Invoices", "Webhooks"]
