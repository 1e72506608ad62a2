"""Incoming invoices of a sandbox tenant (API.md v2, ``/docs/incoming``): the per-tenant state and record.

An incoming invoice is an :class:`~.store.ImportRecord` (the same parse, checks, content, source and
attachments as an outgoing import, see ``routes/imports.py``) with an ``importId`` (``IMP`` + 8 upper-case
letters/digits).  Its *record* (``GET /import/incoming/{importId}``, the list items) holds the key
attributes read from the file, overlaid with what ``PATCH`` changed; the content routes keep serving the
file as received.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .errors import http_error
from .httputil import tenant
from .store import ImportRecord, Tenant

__all__ = ["AREA", "IMPORT_ID", "PATCHABLE", "IncomingState", "incoming_of", "incoming_record", "record_json"]

AREA = "incoming"
IMPORT_ID = re.compile(r"IMP[A-Z0-9]{6,40}")
PATCHABLE = (
    "invoiceNumber",
    "issueDate",
    "dueDate",
    "sellerName",
    "sellerVatId",
    "currency",
    "totalNet",
    "totalTax",
    "totalGross",
    "buyerReference",
    "orderReference",
    "note",
)
"""Record fields ``PATCH /import/incoming/{importId}`` may change."""


@dataclass(eq=False)
class IncomingState:
    """One tenant's incoming invoices by ``importId``; ``changes`` holds what PATCH set per import."""

    records: dict[str, ImportRecord] = field(default_factory=dict)
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    updated_at: dict[str, str] = field(default_factory=dict)


def incoming_of(owner: Tenant) -> IncomingState:
    """The incoming invoices of ``owner`` (created on first use)."""
    return owner.area(AREA, IncomingState)


def incoming_record(request: web.Request) -> ImportRecord:
    """The incoming invoice named by the ``{importId}`` of the path; 404 otherwise."""
    import_id = request.match_info["importId"]
    record = incoming_of(tenant(request)).records.get(import_id) if IMPORT_ID.fullmatch(import_id) else None
    if record is None:
        raise http_error(404, "no incoming invoice with this importId")
    return record


def record_json(state: IncomingState, record: ImportRecord) -> dict[str, Any]:
    """The record of an incoming invoice: file attributes, PATCH changes on top, its status and times."""
    content = record.content
    seller = content.get("seller") or {}
    totals = content.get("totals") or {}
    out: dict[str, Any] = {
        "importId": record.faktoora_id,
        "invoiceNumber": content.get("invoiceNumber"),
        "issueDate": content.get("issueDate"),
        "dueDate": content.get("dueDate"),
        "sellerName": seller.get("name"),
        "sellerVatId": seller.get("vatId"),
        "currency": content.get("currency"),
        "totalNet": totals.get("taxBasisTotal"),
        "totalTax": totals.get("taxTotal"),
        "totalGross": totals.get("grandTotal"),
        "buyerReference": content.get("buyerReference"),
        "orderReference": content.get("purchaseOrderReference"),
        "note": content.get("note"),
    }
    out.update(state.changes.get(record.faktoora_id, {}))
    out["status"] = record.status()["overallStatus"]
    out["filename"] = record.filename
    out["createdAt"] = record.created_at
    out["updatedAt"] = state.updated_at.get(record.faktoora_id, record.created_at)
    return out
