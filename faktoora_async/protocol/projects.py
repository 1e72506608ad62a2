"""Requests of the project endpoints (``/projects``, ``/project/{id}``), as data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..models.projects import DOCUMENT_TYPES, ProjectStatus
from ._request import APIRequest, json_request, paged, query, segment
from .records import check_order, check_sort
from .wire import encode_body

__all__ = ["attach", "create", "delete", "detach", "filters", "get", "list_page", "update"]

PROJECT_SORT_FIELDS: tuple[str, ...] = (
    "name", "status", "eta", "estMinutes", "currency", "place", "createdAt", "updatedAt",
)  # fmt: skip


def _many(value: Sequence[str] | str | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def filters(
    *,
    keyword: str | None = None,
    status: Sequence[str] | str | None = None,
    customer_id: Sequence[str] | str | None = None,
    sort: str | None = None,
    order: str | None = None,
) -> tuple[tuple[str, str], ...]:
    """The query of ``GET /projects`` (``status`` and ``customerId`` repeated)."""
    statuses = _many(status)
    for value in statuses:
        if value not in ProjectStatus.VALUES:
            raise ValueError(f"status must be one of {', '.join(ProjectStatus.VALUES)}; got {value!r}")
    check_sort(sort, PROJECT_SORT_FIELDS)
    check_order(order)
    return query(keyword=keyword, status=statuses, customer_id=_many(customer_id), sort=sort, order=order)


def list_page(params: tuple[tuple[str, str], ...], page: int, per_page: int) -> APIRequest:
    return paged("/projects", params, page, per_page)


def get(project_id: str) -> APIRequest:
    return APIRequest("GET", f"/project/{segment(project_id)}")


def create(body: dict[str, Any]) -> APIRequest:
    return json_request("POST", "/project", encode_body(body))


def update(project_id: str, body: dict[str, Any]) -> APIRequest:
    return json_request("PATCH", f"/project/{segment(project_id)}", encode_body(body))


def delete(project_id: str) -> APIRequest:
    return APIRequest("DELETE", f"/project/{segment(project_id)}")


def _document(document_id: str, document_type: str) -> bytes:
    if document_type not in DOCUMENT_TYPES:
        raise ValueError(f"document_type must be one of {', '.join(DOCUMENT_TYPES)}; got {document_type!r}")
    if not isinstance(document_id, str) or not document_id.strip():
        raise ValueError("document_id must be a non-empty string")
    return encode_body({"documentId": document_id, "documentType": document_type})


def attach(project_id: str, document_id: str, document_type: str) -> APIRequest:
    """``POST /project/{id}/document`` ``{"documentId", "documentType"}``."""
    return json_request(
        "POST", f"/project/{segment(project_id)}/document", _document(document_id, document_type)
    )


def detach(project_id: str, document_id: str | None = None, document_type: str | None = None) -> APIRequest:
    """``DELETE /project/{id}/document``, with the document's body when it is known."""
    path = f"/project/{segment(project_id)}/document"
    if document_id is None or document_type is None:
        return APIRequest("DELETE", path)
    return json_request("DELETE", path, _document(document_id, document_type))
