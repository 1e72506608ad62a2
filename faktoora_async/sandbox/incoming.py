"""Incoming invoices of a sandbox tenant (API.md v2, ``/docs/incoming``): the per-tenant state.

An incoming invoice is an :class:`~.store.ImportRecord` (the same parse, checks, content, source and
attachments as an outgoing import) with an ``importId`` and the record fields a ``PATCH`` may change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .store import ImportRecord, Tenant

__all__ = ["AREA", "IncomingState", "incoming_of"]

AREA = "incoming"


@dataclass(eq=False)
class IncomingState:
    """One tenant's incoming invoices by ``importId``; ``changes`` holds what PATCH set per import."""

    records: dict[str, ImportRecord] = field(default_factory=dict)
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    updated_at: dict[str, str] = field(default_factory=dict)


def incoming_of(owner: Tenant) -> IncomingState:
    """The incoming invoices of ``owner`` (created on first use)."""
    return owner.area(AREA, IncomingState)
