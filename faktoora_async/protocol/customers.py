"""Requests of the customer endpoints (``/customers``, ``/customer/{id}``), as data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..models.customers import CUSTOMER_SORT_FIELDS
from ._request import APIRequest, json_request, paged, query, segment
from .records import check_order, check_sort
from .wire import encode_body

__all__ = [
    "create",
    "delete",
    "filters",
    "generate_number",
    "get",
    "import_file",
    "import_upload",
    "list_page",
    "update",
    "verify_number",
]


def filters(
    *,
    sort: str | None = None,
    order: str | None = None,
    category: str | None = None,
    keywords: Sequence[str] | str | None = None,
    relation_fields: Sequence[str] | str | None = None,
) -> tuple[tuple[str, str], ...]:
    """The query of ``GET /customers`` (``keywords[]``/``relationFields[]`` repeated)."""
    check_sort(sort, CUSTOMER_SORT_FIELDS)
    check_order(order)
    if isinstance(keywords, str):
        keywords = [keywords]
    if isinstance(relation_fields, str):
        relation_fields = [relation_fields]
    return query(
        sort=sort,
        order=order,
        category=category,
        **{"keywords[]": list(keywords or ()), "relationFields[]": list(relation_fields or ())},
    )


def list_page(params: tuple[tuple[str, str], ...], page: int, per_page: int) -> APIRequest:
    return paged("/customers", params, page, per_page)


def get(customer_id: str) -> APIRequest:
    return APIRequest("GET", f"/customer/{segment(customer_id)}")


def create(body: dict[str, Any]) -> APIRequest:
    return json_request("POST", "/customer", encode_body(body))


def update(customer_id: str, body: dict[str, Any]) -> APIRequest:
    return json_request("PATCH", f"/customer/{segment(customer_id)}", encode_body(body))


def delete(customer_id: str) -> APIRequest:
    return APIRequest("DELETE", f"/customer/{segment(customer_id)}")


def generate_number() -> APIRequest:
    return APIRequest("GET", "/customers/generate-number")


def verify_number(customer_number: str) -> APIRequest:
    if not isinstance(customer_number, str) or not customer_number.strip():
        raise ValueError("customer_number must be a non-empty string")
    return APIRequest("GET", "/customer/verify-customer-number", params=(("customerId", customer_number),))


def import_upload() -> APIRequest:
    """``POST /customers/import/upload`` (the multipart CSV is streamed by the transport)."""
    return APIRequest("POST", "/customers/import/upload")


def import_file(file_id: str) -> APIRequest:
    """``POST /customers/import`` ``{"fileId"}``: create the customers of an uploaded CSV."""
    return json_request("POST", "/customers/import", encode_body({"fileId": file_id}))
