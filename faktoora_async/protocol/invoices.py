"""Requests of the outgoing-invoice endpoints (``/invoices``), as data."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from ._request import FILE_HEADERS, JSON, APIRequest, paged, query, segment
from .settings import check_template
from .wire import WireInvoice, encode_invoices

__all__ = ["FILE_TYPES", "create", "delete", "file", "filters", "list_page", "next_number", "status",
           "validation_report", "verify_number"]  # fmt: skip

FILE_TYPES = {"pdf": "application/pdf", "xml": "application/xml"}


def create(invoices: Sequence[WireInvoice]) -> APIRequest:
    """``POST /invoices`` with ``{"invoices": [...]}`` (1 to 100 invoices in wire form)."""
    return APIRequest("POST", "/invoices", body=encode_invoices(invoices), content_type=JSON)


def filters(
    *,
    keyword: str | None = None,
    invoice_number: str | None = None,
    issue_date_from: datetime.date | str | None = None,
    issue_date_to: datetime.date | str | None = None,
    sort: str | None = None,
    order: str | None = None,
) -> tuple[tuple[str, str], ...]:
    """The query of ``GET /invoices`` (dates as ``YYYYMMDD``)."""
    if order is not None and order not in ("asc", "desc"):
        raise ValueError("order must be 'asc' or 'desc'")
    return query(
        keyword=keyword,
        invoice_number=invoice_number,
        issue_date_from=issue_date_from,
        issue_date_to=issue_date_to,
        sort=sort,
        order=order,
    )


def list_page(params: tuple[tuple[str, str], ...], page: int, per_page: int) -> APIRequest:
    return paged("/invoices", params, page, per_page)


def status(faktoora_id: str) -> APIRequest:
    """``GET /api/v2/invoices/{id}/status``."""
    return APIRequest("GET", f"/invoices/{segment(faktoora_id)}/status", api_version="v2")


def file(faktoora_id: str | None, invoice_number: str | None, format: str) -> APIRequest:
    """The invoice's PDF or XML, by faktooraId or by invoice number."""
    if format not in FILE_TYPES:
        raise ValueError("format must be 'pdf' or 'xml'")
    if (faktoora_id is None) == (invoice_number is None):
        raise ValueError("give exactly one of faktoora_id or invoice_number")
    if faktoora_id is not None:
        return APIRequest(
            "GET", f"/invoices/{segment(faktoora_id)}", accept=FILE_TYPES[format], headers=FILE_HEADERS
        )
    assert invoice_number is not None
    return APIRequest(
        "GET",
        "/invoices",
        params=(("invoiceNumber", invoice_number),),
        accept=FILE_TYPES[format],
        headers=FILE_HEADERS,
    )


def validation_report(faktoora_id: str) -> APIRequest:
    return APIRequest(
        "GET",
        f"/invoices/{segment(faktoora_id)}/validation-report",
        accept="application/pdf",
        headers=FILE_HEADERS,
    )


def delete(faktoora_id: str) -> APIRequest:
    return APIRequest("DELETE", f"/invoices/{segment(faktoora_id)}")


def next_number(template: str | None) -> APIRequest:
    """A preview of the next number; a ``template`` that breaks the grammar is a ``ValueError`` first."""
    if template is not None:
        check_template(template)
    return APIRequest("GET", "/invoices/next-number", params=query(template=template))


def verify_number(invoice_number: str) -> APIRequest:
    return APIRequest("GET", "/invoices/verify-number", params=query(invoice_number=invoice_number))
