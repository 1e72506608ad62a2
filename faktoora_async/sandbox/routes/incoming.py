"""``/import/incoming`` (API.md v2, ``/docs/incoming``) and the legacy ``/import`` prefix.

- ``POST /import/incoming`` and the legacy ``POST /import``: ``multipart/form-data`` field ``file``
  (XRechnung CII/UBL XML or ZUGFeRD/Factur-X PDF, parsed and checked as ``/import/outgoing`` does) ->
  ``202 {"importId": "IMP…"}``; a file that is not a readable invoice: ``400 UNSUPPORTED_FILE``.
- ``GET /import/incoming``: paginated records; ``sort`` createdAt (default) | issueDate | invoiceNumber |
  totalGross | sellerName, ``order``; filters ``keyword`` (invoice number or seller name), ``invoiceNumber``,
  ``status`` (repeatable: pending | accepted | failed), ``issueDateFrom``/``issueDateTo`` (YYYYMMDD,
  inclusive).
- ``GET /import/incoming/{importId}``: the record (:func:`~..incoming.record_json`); ``PATCH`` changes any
  of :data:`~..incoming.PATCHABLE` (``null`` clears an optional one; ``importId``, ``status``,
  ``filename``, ``createdAt``, ``updatedAt`` are read-only) and answers the updated record.
- The per-import routes (content and its parts, source, validation, validation/pdf, status, attachments)
  are ``routes/imports.py``'s, registered here under ``/import/incoming/{importId}`` and the legacy
  ``/import/{importId}``, which answers everything the new prefix does (record and PATCH included).
- The webhook ``invoiceIncomingCreate`` fires once the import's checks finished: ``faktooraId`` = the
  importId, ``status`` = the record status (accepted | failed), ``metadata`` = the record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiohttp import web

from .._fields import ABSENT, Fields, body_object, repeated_query
from ..errors import bad_request
from ..httputil import app_state, choice_query, date_query, json_response, paginate, tenant
from ..incoming import PATCHABLE, IncomingState, incoming_of, incoming_record, record_json
from ..state import SandboxState
from ..store import ImportRecord, Tenant, utcnow
from .imports import add_content_routes, read_upload

__all__ = ["add_routes"]

STATUSES = ("pending", "accepted", "failed")
_SORTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "createdAt": lambda r: (r["createdAt"], r["importId"]),
    "issueDate": lambda r: (r["issueDate"] or "", r["createdAt"]),
    "invoiceNumber": lambda r: (str(r["invoiceNumber"] or ""), r["createdAt"]),
    "sellerName": lambda r: (str(r["sellerName"] or "").casefold(), r["createdAt"]),
    "totalGross": lambda r: (Decimal(str(r["totalGross"] or 0)), r["createdAt"]),
}


async def _checked(state: SandboxState, owner: Tenant, incoming: IncomingState, record: ImportRecord) -> None:
    """Background job: the import's checks, then the ``invoiceIncomingCreate`` webhook."""
    await state.process_import(record)
    if incoming.records.get(record.faktoora_id) is record:
        body = record_json(incoming, record)
        state.webhooks.notify(owner, "invoiceIncomingCreate", record.faktoora_id, body["status"], body)


async def upload_incoming(request: web.Request) -> web.Response:
    state = app_state(request)
    record = await read_upload(request, state.store.new_id("IMP", 8))
    owner = tenant(request)
    incoming = incoming_of(owner)
    incoming.records[record.faktoora_id] = record
    state.tasks.spawn(_checked(state, owner, incoming, record))
    return json_response({"importId": record.faktoora_id}, 202)


def _statuses(request: web.Request) -> list[str]:
    values = repeated_query(request, "status")
    bad = [v for v in values if v not in STATUSES]
    if bad:
        raise bad_request(
            f"status must be one of {', '.join(STATUSES)}",
            [{"field": "status", "message": f"{v!r} is not one of {', '.join(STATUSES)}"} for v in bad],
        )
    return values


@dataclass(frozen=True)
class _Filters:
    keyword: str
    number: str | None
    since: str | None
    until: str | None
    statuses: tuple[str, ...]

    def keep(self, record: dict[str, Any]) -> bool:
        issued = record["issueDate"] or ""
        if self.statuses and record["status"] not in self.statuses:
            return False
        if self.number is not None and record["invoiceNumber"] != self.number:
            return False
        if (self.since and issued < self.since) or (self.until and (not issued or issued > self.until)):
            return False
        texts = (str(record[k] or "").casefold() for k in ("invoiceNumber", "sellerName"))
        return not self.keyword or any(self.keyword in text for text in texts)


async def list_incoming(request: web.Request) -> web.Response:
    sort = choice_query(request, "sort", tuple(_SORTS), "createdAt")
    order = choice_query(request, "order", ("asc", "desc"), "asc")
    filters = _Filters(
        keyword=request.query.get("keyword", "").strip().casefold(),
        number=request.query.get("invoiceNumber"),
        since=date_query(request, "issueDateFrom"),
        until=date_query(request, "issueDateTo"),
        statuses=tuple(_statuses(request)),
    )
    incoming = incoming_of(tenant(request))
    items = [r for r in (record_json(incoming, x) for x in incoming.records.values()) if filters.keep(r)]
    items.sort(key=_SORTS[sort], reverse=order == "desc")
    return paginate(request, items, as_json=lambda r: r)


async def get_incoming(request: web.Request) -> web.Response:
    record = incoming_record(request)
    return json_response(record_json(incoming_of(tenant(request)), record))


def _changes(body: dict[str, Any]) -> dict[str, Any]:
    f = Fields(body, what="incoming invoice")
    f.only(PATCHABLE, ("importId", "status", "filename", "createdAt", "updatedAt"))
    if not body:
        f.error("invoiceNumber", f"nothing to change: send any of {', '.join(PATCHABLE)}")
    money = {name: f.decimal(name, places=2) for name in ("totalNet", "totalTax", "totalGross")}
    values: dict[str, Any] = {
        "invoiceNumber": f.text("invoiceNumber", max_len=200, nullable=False),
        "issueDate": f.yyyymmdd("issueDate", nullable=False),
        "dueDate": f.yyyymmdd("dueDate"),
        "sellerName": f.text("sellerName"),
        "sellerVatId": f.text("sellerVatId", max_len=20),
        "currency": f.currency("currency", nullable=False),
        **{name: str(v) if v is not ABSENT and v is not None else v for name, v in money.items()},
        "buyerReference": f.text("buyerReference"),
        "orderReference": f.text("orderReference"),
        "note": f.text("note", max_len=5000),
    }
    f.done()
    return {k: v for k, v in values.items() if v is not ABSENT}


async def patch_incoming(request: web.Request) -> web.Response:
    record = incoming_record(request)
    changes = _changes(await body_object(request, "incoming invoice fields to change"))
    incoming = incoming_of(tenant(request))
    incoming.changes.setdefault(record.faktoora_id, {}).update(changes)
    incoming.updated_at[record.faktoora_id] = utcnow()
    return json_response(record_json(incoming, record))


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    """Register this area's routes under ``prefix`` (after ``imports``: its static paths win)."""
    router.add_get(f"{prefix}/import/incoming", list_incoming)
    router.add_post(f"{prefix}/import/incoming", upload_incoming)
    router.add_post(f"{prefix}/import", upload_incoming)
    for base in (prefix + "/import/incoming/{importId}", prefix + "/import/{importId}"):
        router.add_get(base, get_incoming)
        router.add_patch(base, patch_incoming)
        add_content_routes(router, base)
