"""``/invoices``: create (``POST``), list or download by number (``GET``), download, status (v2),
validation report and delete by ``faktooraId``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .. import _domain
from ..errors import ApiError, bad_request, http_error
from ..httputil import (
    WILDCARDS,
    app_state,
    bytes_stream,
    choice_query,
    date_query,
    file_kind,
    inflated_chunks,
    json_response,
    media_types,
    paginate,
    read_json,
    send_bytes,
    tenant,
)
from ..store import InvoiceRecord, Tenant, safe_name, utcnow
from ..validation import validate_invoice

__all__ = ["MAX_INVOICES_PER_REQUEST", "add_routes"]

MAX_INVOICES_PER_REQUEST = 100
_FID = re.compile(r"F[A-Z0-9]{6,40}")


def find_invoice(request: web.Request) -> InvoiceRecord:
    """The tenant's invoice named by the ``faktooraId`` path segment; 404 if it holds none."""
    fid = request.match_info["faktooraId"]
    record = tenant(request).invoices.get(fid) if _FID.fullmatch(fid) else None
    if record is None:
        raise http_error(404, "no invoice with this faktooraId")
    return record


async def send_invoice_file(request: web.Request, record: InvoiceRecord, kind: str) -> web.StreamResponse:
    """Stream the invoice's XML or PDF (``kind``); 409 ``NOT_READY`` until the file exists."""
    if record.xml is None:
        if record.job_status == "failed":
            raise ApiError(409, "NOT_READY", f"the file does not exist: {record.error}")
        raise ApiError(409, "NOT_READY", "the file is not generated yet")
    name = safe_name(record.invoice_number)
    if kind == "xml":
        return await send_bytes(
            request, bytes_stream(record.xml), len(record.xml), "application/xml", f"{name}.xml"
        )
    pdf = await app_state(request).ensure_pdf(record)
    if record.inflate_to is not None:
        chunks = inflated_chunks(pdf, record.inflate_to)
        return await send_bytes(request, chunks, record.inflate_to, "application/pdf", f"{name}.pdf")
    return await send_bytes(request, bytes_stream(pdf), len(pdf), "application/pdf", f"{name}.pdf")


# --- POST /invoices -----------------------------------------------------------------------------
def _invoices_of(body: Any) -> list[Any]:
    """The ``invoices`` list of a create body, checked for shape, size and every invoice's fields."""
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
    return invoices


def _number_clashes(owner: Tenant, invoices: list[Any]) -> list[dict[str, Any]]:
    """One error per invoice whose number the tenant has, or that the request repeats."""
    positions: dict[str, list[int]] = {}
    for index, invoice in enumerate(invoices):
        if invoice.get("invoiceNumber") is not None:
            positions.setdefault(invoice["invoiceNumber"], []).append(index)
    clashes: list[dict[str, Any]] = []
    for number, indexes in positions.items():
        stored = number in owner.by_number
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
    clashes.sort(key=lambda e: e["index"])
    return clashes


def _documents(owner: Tenant, invoices: list[Any]) -> list[dict[str, Any]]:
    """The invoices as the account makes them: numbered (template) and with a seller (company profile).

    In request order, an invoice without ``invoiceNumber`` gets the next free number of the account's
    template, and an invoice whose number the template made moves the counter on to it.  Runs only once
    the request passed every check, so a refused request moves nothing.
    """
    reserved = {inv["invoiceNumber"] for inv in invoices if inv.get("invoiceNumber") is not None}
    documents = []
    for invoice in invoices:
        document = dict(invoice)
        if document.get("invoiceNumber") is None:
            number = owner.allocate_number(reserved)
            reserved.add(number)
            document["invoiceNumber"] = number
        else:
            owner.note_number(document["invoiceNumber"])
        if document.get("seller") is None:
            document["seller"] = dict(owner.profile)
        documents.append(document)
    return documents


async def create_invoices(request: web.Request) -> web.Response:
    state = app_state(request)
    owner = tenant(request)
    invoices = _invoices_of(await read_json(request))
    clashes = _number_clashes(owner, invoices)
    if clashes:
        state.stats.duplicates_rejected += len(clashes)
        names = ", ".join(str(e["index"]) for e in clashes)
        raise ApiError(409, "DUPLICATE_INVOICE_NUMBER", f"duplicate invoice number at index {names}", clashes)
    base = f"{request.scheme}://{request.host}/invoice/details/"
    gen_rate = state.faults.config.generation_failure_rate
    out = []
    for document in _documents(owner, invoices):
        fid = state.store.new_id()
        number = document["invoiceNumber"]
        record = InvoiceRecord(
            faktoora_id=fid,
            tenant=owner,
            seq=state.store.next_seq(),
            payload=document,
            created_at=utcnow(),
            delays=state.draw_delays(),
            gen_fail=bool(gen_rate) and state.faults.keyed("generation", number) < gen_rate,
        )
        state.store.add_invoice(record)
        state.tasks.spawn(state.process(record))
        out.append({"faktooraId": fid, "detailsPage": base + fid})
    return json_response(out, 202)


# --- GET /invoices ------------------------------------------------------------------------------
_SORT_KEYS: dict[str, Callable[[InvoiceRecord], Any]] = {
    "issueDate": lambda r: (r.issue_date, r.seq),
    "invoiceNumber": lambda r: (r.invoice_number, r.seq),
    "createdAt": lambda r: r.seq,
}


def _filtered(request: web.Request, records: list[InvoiceRecord]) -> list[InvoiceRecord]:
    keyword = request.query.get("keyword")
    number = request.query.get("invoiceNumber")
    date_from = date_query(request, "issueDateFrom")
    date_to = date_query(request, "issueDateTo")
    sort = choice_query(request, "sort", ("issueDate", "invoiceNumber", "createdAt"), "createdAt")
    order = choice_query(request, "order", ("asc", "desc"), "asc")
    for name, value in (("keyword", keyword), ("invoiceNumber", number)):
        if value is not None and len(value) > 200:
            raise bad_request(f"{name} is too long", [{"field": name, "message": "at most 200 characters"}])
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
    return records


async def list_or_download(request: web.Request) -> web.StreamResponse:
    """A file when ``Accept`` names PDF/XML, or is absent or a wildcard beside ``invoiceNumber``.

    With ``invoiceNumber`` and no ``Accept`` (or ``*/*`` without ``application/json``) the PDF is sent,
    as Pipedream's connector expects; ``Accept: application/json`` (what SDKs send) keeps the list.
    """
    media = media_types(request)
    kind = None
    for m in media:
        if m in ("application/pdf", "application/xml"):
            kind = "pdf" if m == "application/pdf" else "xml"
            break
    owner = tenant(request)
    number = request.query.get("invoiceNumber")
    wildcard = not media or any(m in WILDCARDS for m in media)
    if kind is None and number is not None and "application/json" not in media and wildcard:
        kind = "pdf"
    if kind is not None:
        if not number:
            raise bad_request("invoiceNumber is required to download a file")
        record = owner.by_number.get(number)
        if record is None:
            raise http_error(404, "no invoice with this invoiceNumber")
        return await send_invoice_file(request, record, kind)
    if media and not any(m in ("application/json", "*/*", "application/*") for m in media):
        raise http_error(406, "Accept must be application/json, application/pdf or application/xml")
    records = _filtered(request, list(owner.invoices.values()))
    return paginate(request, records, as_json=InvoiceRecord.list_item)


# --- /invoices/{faktooraId} ---------------------------------------------------------------------
async def download_invoice(request: web.Request) -> web.StreamResponse:
    kind = file_kind(request)
    return await send_invoice_file(request, find_invoice(request), kind)


async def invoice_status(request: web.Request) -> web.Response:
    fid = request.match_info["faktooraId"]
    record = tenant(request).invoices.get(fid)
    if record is None:
        raise http_error(404, "no invoice with this faktooraId")
    return web.Response(body=record.status_body(), content_type="application/json")


async def validation_report(request: web.Request) -> web.StreamResponse:
    record = find_invoice(request)
    validation = record.validation
    if validation is None or validation.get("status") == "processing" or record.verdict is None:
        raise http_error(404, "no finished validation for this invoice")
    if record.report_pdf is None:
        record.report_pdf = await app_state(request).in_pdf_thread(
            _domain.report_pdf, record.verdict, "Validation report", record.invoice_number
        )
    data = record.report_pdf
    name = f"{safe_name(record.invoice_number)}-validation.pdf"
    return await send_bytes(request, bytes_stream(data), len(data), "application/pdf", name)


async def delete_invoice(request: web.Request) -> web.Response:
    if "invoiceDeleteMode" not in tenant(request).account.features:
        raise ApiError(403, "FEATURE_DISABLED", "deleting invoices needs the invoiceDeleteMode feature")
    record = find_invoice(request)
    app_state(request).store.delete_invoice(record)
    return web.Response(status=204)


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    """Register this area's routes under ``prefix`` (``/api/v1`` or ``/api/v2``)."""
    router.add_post(f"{prefix}/invoices", create_invoices)
    router.add_get(f"{prefix}/invoices", list_or_download)
    router.add_get(prefix + "/invoices/{faktooraId}/status", invoice_status)
    router.add_get(prefix + "/invoices/{faktooraId}/validation-report", validation_report)
    router.add_get(prefix + "/invoices/{faktooraId}", download_invoice)
    router.add_delete(prefix + "/invoices/{faktooraId}", delete_invoice)
