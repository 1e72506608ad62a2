"""``/import/outgoing``: upload an XRechnung/ZUGFeRD file, list the imports, and read each one's content,
source, validation, status and attachments.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, web

from .. import _domain
from ..errors import ApiError, bad_request, http_error
from ..httputil import (
    CHUNK,
    app_state,
    bytes_stream,
    choice_query,
    json_response,
    paginate,
    send_bytes,
    tenant,
)
from ..incoming import incoming_record
from ..store import ImportRecord, utcnow

__all__ = ["add_content_routes", "add_routes", "read_upload"]

logger = logging.getLogger("faktoora_async.sandbox")

_FID = re.compile(r"F[A-Z0-9]{6,40}")
_ATT_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")

_IMPORT_SORT: dict[str, Callable[[ImportRecord], Any]] = {
    "createdAt": lambda r: r.seq,
    "invoiceNumber": lambda r: (str(r.content.get("invoiceNumber") or ""), r.seq),
    "issueDate": lambda r: (str(r.content.get("issueDate") or ""), r.seq),
}


async def list_imports(request: web.Request) -> web.Response:
    sort = choice_query(request, "sort", tuple(_IMPORT_SORT), "createdAt")
    order = choice_query(request, "order", ("asc", "desc"), "asc")
    records = sorted(tenant(request).imports.values(), key=_IMPORT_SORT[sort], reverse=order == "desc")
    return paginate(request, records, as_json=ImportRecord.list_item)


async def _read_file_field(request: web.Request, limit: int) -> tuple[bytes, str]:
    """The bytes and file name of the multipart field ``file`` (other fields are skipped)."""
    if request.content_type != "multipart/form-data":
        raise http_error(415, "Content-Type must be multipart/form-data with a field named file")
    data: bytes | None = None
    filename = ""
    try:
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                raise bad_request("nested multipart is not supported")
            if part.name != "file" or data is not None:
                await part.release()
                continue
            filename = part.filename or "upload"
            buf = bytearray()
            while True:
                chunk = await part.read_chunk(CHUNK)
                if not chunk:
                    break
                buf += chunk
                if len(buf) > limit:
                    raise ApiError(413, "PAYLOAD_TOO_LARGE", f"the file is larger than {limit} bytes")
            data = bytes(buf)
    except (ValueError, AssertionError) as exc:
        raise bad_request(f"malformed multipart body: {str(exc)[:200]}") from None
    if data is None:
        raise bad_request(
            "the multipart field file is missing", [{"field": "file", "message": "is required"}]
        )
    return data, filename


async def read_upload(request: web.Request, record_id: str) -> ImportRecord:
    """The import record of the multipart upload of ``request`` (parsed; not stored yet).

    ``400 UNSUPPORTED_FILE`` when the file is not a readable e-invoice.  Shared by ``/import/outgoing`` and
    the incoming uploads (``routes/incoming.py``).
    """
    state = app_state(request)
    data, filename = await _read_file_field(request, state.config.max_upload_bytes)
    if not data:
        raise ApiError(400, "UNSUPPORTED_FILE", "the file is empty")
    try:
        parsed = await state.in_thread(_domain.parse_document, data)
    except _domain.UnreadableFile as exc:
        raise ApiError(400, "UNSUPPORTED_FILE", f"not a readable e-invoice: {exc}") from None
    except Exception as exc:  # a parser bug must still not store anything
        logger.warning("parser crashed on an upload: %r", exc)
        raise ApiError(400, "UNSUPPORTED_FILE", "not a readable e-invoice") from None
    is_pdf = data.startswith(b"%PDF")
    xml = getattr(parsed, "xml", None)
    return ImportRecord(
        faktoora_id=record_id,
        tenant=tenant(request),
        seq=state.store.next_seq(),
        filename=filename[:255],
        source=data,
        source_type="application/pdf" if is_pdf else "application/xml",
        parsed=parsed,
        created_at=utcnow(),
        xml=bytes(xml) if isinstance(xml, (bytes, bytearray)) else None,
    )


async def upload_import(request: web.Request) -> web.Response:
    state = app_state(request)
    record = await read_upload(request, state.store.new_id())
    state.store.add_import(record)
    state.tasks.spawn(state.process_import(record))
    return json_response({"faktooraId": record.faktoora_id}, 202)


async def _import(request: web.Request) -> ImportRecord:
    """The import named by the path: ``{importId}`` (incoming invoices) or ``{faktooraId}``: an uploaded
    outgoing import, or an invoice created with ``POST /invoices`` (which answers every route as an upload
    does once its file exists; 409 NOT_READY before).
    """
    if "importId" in request.match_info:
        return incoming_record(request)
    fid = request.match_info["faktooraId"]
    if not _FID.fullmatch(fid):
        raise http_error(404, "no imported invoice with this faktooraId")
    owner = tenant(request)
    record = owner.imports.get(fid)
    if record is not None:
        return record
    invoice = owner.invoices.get(fid)
    if invoice is None:
        raise http_error(404, "no imported or created invoice with this faktooraId")
    return await app_state(request).invoice_view(invoice)


_CONTENT_PARTS = {
    "lineitems": "lineItems",
    "taxes": "taxes",
    "paymentterms": "paymentTerms",
    "paymentmeans": "paymentMeans",
    "seller": "seller",
    "buyer": "buyer",
    "delivery": "delivery",
}


async def import_content(request: web.Request) -> web.Response:
    return json_response((await _import(request)).content)


async def import_summary(request: web.Request) -> web.Response:
    record = await _import(request)
    summary = getattr(record.parsed, "summary", None)
    return json_response(summary() if callable(summary) else {})


def _content_part_handler(key: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        return json_response((await _import(request)).content.get(key))

    return handler


async def import_content_pdf(request: web.Request) -> web.StreamResponse:
    record = await _import(request)
    if record.content_pdf is None and record.invoice is not None:
        pdf = await app_state(request).ensure_pdf(record.invoice)
        return await send_bytes(request, bytes_stream(pdf), len(pdf), "application/pdf")
    if record.content_pdf is None:
        if record.visualization_status == "failed":
            raise ApiError(409, "NOT_READY", "the PDF view could not be rendered")
        raise ApiError(409, "NOT_READY", "the PDF view is not rendered yet")
    data = record.content_pdf
    return await send_bytes(request, bytes_stream(data), len(data), "application/pdf")


async def import_source(request: web.Request) -> web.StreamResponse:
    record = await _import(request)
    if record.xml is not None:
        return await send_bytes(request, bytes_stream(record.xml), len(record.xml), "application/xml")
    return await send_bytes(request, bytes_stream(record.source), len(record.source), record.source_type)


async def import_validation(request: web.Request) -> web.Response:
    record = await _import(request)
    if record.validation_status == "pending":
        raise ApiError(409, "NOT_READY", "the validation is still running")
    return json_response({"status": "accepted" if record.accepted else "rejected"})


async def import_validation_pdf(request: web.Request) -> web.StreamResponse:
    record = await _import(request)
    if record.validation_status == "pending":
        raise ApiError(409, "NOT_READY", "the validation is still running")
    if record.verdict is None:
        raise http_error(404, "the validation produced no report")
    if record.report_pdf is None:
        number = str(record.content.get("invoiceNumber") or record.faktoora_id)
        record.report_pdf = await app_state(request).in_pdf_thread(
            _domain.report_pdf, record.verdict, "Validation report", number
        )
    data = record.report_pdf
    return await send_bytes(request, bytes_stream(data), len(data), "application/pdf")


async def import_status(request: web.Request) -> web.Response:
    return json_response((await _import(request)).status())


def _attachments(record: ImportRecord) -> list[Any]:
    return list(getattr(record.parsed, "attachments", []) or [])


def attachment_json(att: Any) -> dict[str, Any]:
    return {
        "id": str(att.id),
        "filename": att.filename,
        "mimeType": att.mime_type,
        "description": att.description,
        "size": len(att.content),
    }


async def import_attachments(request: web.Request) -> web.Response:
    return paginate(request, _attachments(await _import(request)), as_json=attachment_json)


async def _attachment(request: web.Request) -> Any:
    record = await _import(request)
    att_id = request.match_info["attachmentId"]
    if _ATT_ID.fullmatch(att_id):
        for att in _attachments(record):
            if str(att.id) == att_id:
                return att
    raise http_error(404, "no attachment with this id")


async def import_attachment(request: web.Request) -> web.Response:
    return json_response(attachment_json(await _attachment(request)))


async def import_attachment_file(request: web.Request) -> web.StreamResponse:
    data = bytes((await _attachment(request)).content)
    return await send_bytes(request, bytes_stream(data), len(data), "application/octet-stream")


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    """Register this area's routes under ``prefix`` (``/api/v1`` or ``/api/v2``)."""
    router.add_get(f"{prefix}/import/outgoing", list_imports)
    router.add_post(f"{prefix}/import/outgoing", upload_import)
    add_content_routes(router, prefix + "/import/outgoing/{faktooraId}")


def add_content_routes(router: web.UrlDispatcher, base: str) -> None:
    """The per-import routes (content and its parts, source, validation, status, attachments) under ``base``.

    ``base`` ends with ``{faktooraId}`` (outgoing) or ``{importId}`` (incoming; :func:`_import` looks there).
    """
    router.add_get(f"{base}/content", import_content)
    router.add_get(f"{base}/content/summary", import_summary)
    router.add_get(f"{base}/content/pdf", import_content_pdf)
    for segment, key in _CONTENT_PARTS.items():
        router.add_get(f"{base}/content/{segment}", _content_part_handler(key))
    router.add_get(f"{base}/source", import_source)
    router.add_get(f"{base}/validation", import_validation)
    router.add_get(f"{base}/validation/pdf", import_validation_pdf)
    router.add_get(f"{base}/status", import_status)
    router.add_get(f"{base}/attachments", import_attachments)
    router.add_get(base + "/attachment/{attachmentId}", import_attachment)
    router.add_get(base + "/attachment/{attachmentId}/file", import_attachment_file)
