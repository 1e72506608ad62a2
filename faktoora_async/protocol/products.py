"""Requests of the product endpoints (``/products``, ``/product/{id}``), as data."""

from __future__ import annotations

from typing import Any

from ..models.products import PRODUCT_SORT_FIELDS
from ._request import APIRequest, json_request, paged, query, segment
from .records import check_order, check_sort
from .wire import encode_body

__all__ = ["create", "delete", "filters", "get", "list_page", "update", "valid_code"]


def filters(
    *, sort: str | None = None, order: str | None = None, keyword: str | None = None, code: str | None = None
) -> tuple[tuple[str, str], ...]:
    check_sort(sort, PRODUCT_SORT_FIELDS)
    check_order(order)
    return query(sort=sort, order=order, keyword=keyword, code=code)


def list_page(params: tuple[tuple[str, str], ...], page: int, per_page: int) -> APIRequest:
    return paged("/products", params, page, per_page)


def get(product_id: str) -> APIRequest:
    return APIRequest("GET", f"/product/{segment(product_id)}")


def create(body: dict[str, Any]) -> APIRequest:
    return json_request("POST", "/product", encode_body(body))


def update(product_id: str, body: dict[str, Any]) -> APIRequest:
    return json_request("PATCH", f"/product/{segment(product_id)}", encode_body(body))


def delete(product_id: str) -> APIRequest:
    return APIRequest("DELETE", f"/product/{segment(product_id)}")


def valid_code(code: str) -> APIRequest:
    if not isinstance(code, str) or not code.strip():
        raise ValueError("code must be a non-empty string")
    return APIRequest("GET", "/product/valid-code", params=(("code", code),))
