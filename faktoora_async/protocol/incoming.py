"""Requests of the incoming-invoice endpoints (``/import/incoming``) beyond the shared imported-document
routes of :mod:`.imports`: the list filters, the record and its update."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from ..models.incoming import INCOMING_SORT_FIELDS
from ._request import APIRequest, json_request, query, segment
from .records import check_order, check_sort
from .wire import encode_body

__all__ = ["PREFIX", "filters", "get", "update"]

PREFIX = "/import/incoming"


def filters(
    *,
    keyword: str | None = None,
    status: Sequence[str] | str | None = None,
    invoice_number: str | None = None,
    issue_date_from: datetime.date | str | None = None,
    issue_date_to: datetime.date | str | None = None,
    sort: str | None = None,
    order: str | None = None,
) -> tuple[tuple[str, str], ...]:
    """The query of ``GET /import/incoming`` (dates as ``YYYYMMDD``)."""
    check_sort(sort, INCOMING_SORT_FIELDS)
    check_order(order)
    return query(
        keyword=keyword,
        status=[status] if isinstance(status, str) else list(status or ()),
        invoice_number=invoice_number,
        issue_date_from=issue_date_from,
        issue_date_to=issue_date_to,
        sort=sort,
        order=order,
    )


def get(import_id: str) -> APIRequest:
    return APIRequest("GET", f"{PREFIX}/{segment(import_id)}")


def update(import_id: str, body: dict[str, Any]) -> APIRequest:
    """``PATCH /import/incoming/{importId}`` with only the fields to change."""
    return json_request("PATCH", f"{PREFIX}/{segment(import_id)}", encode_body(body))
