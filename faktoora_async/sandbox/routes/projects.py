"""``/projects`` and ``/project/{id}`` (API.md v2, ``/docs/projects/``), with one document per project.

- Fields: ``name`` (required, 1-255), ``description``, ``place``, ``eta`` (ISO 8601 date ``2026-03-01``
  or date-time; date-times are answered in UTC with ``Z``), ``estMinutes`` (integer >= 0), ``currency``
  (ISO 4217), ``status`` (``active`` | ``paused`` | ``closed``, default ``active``), ``customerId`` (a
  customer of the tenant, else ``400``).  Answers add ``id`` (UUID), ``customer {id, name}`` (null without
  ``customerId``), ``document`` (null, or all six document keys with exactly one set), ``createdAt``,
  ``updatedAt``.  ``PATCH`` is partial (``null`` clears an optional field).
- ``GET /projects``: paginated; ``keyword`` (in name, description, place), repeated ``status``, repeated
  ``customerId``, ``sort`` (name, status, eta, estMinutes, currency, place, createdAt, updatedAt; default
  createdAt), ``order``.
- ``POST /project/{id}/document {"documentId", "documentType"}`` attaches a document (``documentType``
  ``invoice`` | ``invoiceIncoming`` | ``offer`` | ``letter`` | ``reminder`` | ``orderConfirmation``; an
  invoice must be a ``faktooraId`` and an incoming invoice an ``importId`` of the tenant) and answers the
  project (``201``).  A project holding another document: ``409 PROJECT_HAS_DOCUMENT``; a document in
  another project: ``409 DOCUMENT_IN_PROJECT``; the same document again: the project unchanged.
  ``DELETE /project/{id}/document`` (body optional; when given it must name the attached document) detaches
  it and answers the project; nothing attached: ``404``.  Deleting a project frees its document.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .._fields import ABSENT, Fields, body_object, optional_body, repeated_query
from ..apikeys import format_time, parse_time
from ..errors import ApiError, bad_request, http_error
from ..httputil import choice_query, json_response, paginate, tenant
from ..incoming import incoming_of
from ..store import utcnow
from .customers import customers_of

__all__ = ["DOCUMENT_TYPES", "add_routes"]

STATUSES = ("active", "paused", "closed")
DOCUMENT_TYPES = {
    "invoice": "invoiceId",
    "invoiceIncoming": "invoiceIncomingId",
    "offer": "offerId",
    "letter": "letterId",
    "reminder": "reminderId",
    "orderConfirmation": "orderConfirmationId",
}
FIELDS = ("name", "description", "place", "eta", "estMinutes", "currency", "status", "customerId")
READ_ONLY = ("id", "customer", "document", "createdAt", "updatedAt")
SORTS = ("name", "status", "eta", "estMinutes", "currency", "place", "createdAt", "updatedAt")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(eq=False)
class Project:
    id: str
    seq: int
    data: dict[str, Any]
    created_at: str
    updated_at: str
    document: tuple[str, str] | None = None
    """``(documentType, documentId)`` of the attached document."""


@dataclass(eq=False)
class ProjectsState:
    by_id: dict[str, Project] = field(default_factory=dict)
    documents: dict[tuple[str, str], str] = field(default_factory=dict)
    """``(documentType, documentId)`` -> the id of the project holding it."""
    seq: int = 0


def _state(request: web.Request) -> ProjectsState:
    return tenant(request).area("projects", ProjectsState)


def _to_json(request: web.Request, project: Project) -> dict[str, Any]:
    data = project.data
    customer = None
    cid = data.get("customerId")
    if cid is not None:
        held = customers_of(request).by_id.get(cid)
        if held is not None:
            person = " ".join(str(held.data[k]) for k in ("firstName", "lastName") if held.data.get(k))
            customer = {"id": cid, "name": held.data.get("name") or person or None}
    document = None
    if project.document is not None:
        kind, doc_id = project.document
        document = {key: doc_id if name == kind else None for name, key in DOCUMENT_TYPES.items()}
    return {
        "id": project.id,
        "status": "active",
        **data,
        "customer": customer,
        "document": document,
        "createdAt": project.created_at,
        "updatedAt": project.updated_at,
    }


def _eta(f: Fields) -> Any:
    value = f.text("eta", max_len=64)
    if not isinstance(value, str):
        return value
    ts = parse_time(value)
    if ts is None:
        f.error("eta", "must be an ISO 8601 date (2026-03-01) or date-time")
        return ABSENT
    return value if _DATE.fullmatch(value) else format_time(ts)


def _check(request: web.Request, body: dict[str, Any], *, full: bool) -> dict[str, Any]:
    f = Fields(body, what="project")
    f.only(FIELDS, READ_ONLY)
    if full:
        f.required(("name",))
    elif not body:
        f.error("name", "nothing to change")
    values = {
        "name": f.text("name", nullable=False),
        "description": f.text("description", max_len=5000),
        "place": f.text("place"),
        "eta": _eta(f),
        "estMinutes": f.integer("estMinutes", minimum=0),
        "currency": f.currency("currency"),
        "status": f.choice("status", STATUSES),
        "customerId": f.text("customerId", max_len=36),
    }
    cid = values["customerId"]
    if isinstance(cid, str) and cid not in customers_of(request).by_id:
        f.error("customerId", "no customer with this id")
    f.done()
    return {k: v for k, v in values.items() if v is not ABSENT}


def _project(request: web.Request) -> Project:
    pid = request.match_info["id"]
    project = _state(request).by_id.get(pid) if _UUID.fullmatch(pid) else None
    if project is None:
        raise http_error(404, "no project with this id")
    return project


def _sort_key(name: str) -> Any:
    def key(project: Project) -> tuple[Any, ...]:
        if name in ("createdAt", "updatedAt"):
            return (0, project.created_at if name == "createdAt" else project.updated_at, project.seq)
        value = project.data.get(name, "active" if name == "status" else None)
        if value is None:
            return (1, "", project.seq)
        if name == "eta":
            return (0, parse_time(str(value)) or 0.0, project.seq)
        return (0, value if isinstance(value, int) else str(value).casefold(), project.seq)

    return key


def _query_values(request: web.Request, name: str, allowed: tuple[str, ...] | None) -> list[str]:
    values = repeated_query(request, name)
    if allowed is not None:
        errors = [
            {"field": name, "message": f"{value!r} is not one of {', '.join(allowed)}"}
            for value in values
            if value not in allowed
        ]
        if errors:
            raise bad_request(f"{name} must be one of {', '.join(allowed)}", errors)
    return values


async def list_projects(request: web.Request) -> web.Response:
    sort = choice_query(request, "sort", SORTS, "createdAt")
    order = choice_query(request, "order", ("asc", "desc"), "asc")
    keyword = request.query.get("keyword", "").strip().casefold()
    statuses = _query_values(request, "status", STATUSES)
    customers = _query_values(request, "customerId", None)
    items = []
    for project in _state(request).by_id.values():
        data = project.data
        if statuses and data.get("status", "active") not in statuses:
            continue
        if customers and data.get("customerId") not in customers:
            continue
        texts = (str(data.get(k) or "").casefold() for k in ("name", "description", "place"))
        if keyword and not any(keyword in text for text in texts):
            continue
        items.append(project)
    items.sort(key=_sort_key(sort), reverse=order == "desc")
    return paginate(request, items, as_json=lambda p: _to_json(request, p))


async def create_project(request: web.Request) -> web.Response:
    values = _check(request, await body_object(request, "a project"), full=True)
    state = _state(request)
    state.seq += 1
    now = utcnow()
    data = {k: v for k, v in values.items() if v is not None}
    project = Project(str(uuid.uuid4()), state.seq, data, now, now)
    state.by_id[project.id] = project
    return json_response(_to_json(request, project), 201)


async def get_project(request: web.Request) -> web.Response:
    return json_response(_to_json(request, _project(request)))


async def update_project(request: web.Request) -> web.Response:
    project = _project(request)
    values = _check(request, await body_object(request, "project fields to change"), full=False)
    for name, value in values.items():
        if value is None:
            project.data.pop(name, None)
        else:
            project.data[name] = value
    project.updated_at = utcnow()
    return json_response(_to_json(request, project))


async def delete_project(request: web.Request) -> web.Response:
    project = _project(request)
    state = _state(request)
    if project.document is not None:
        state.documents.pop(project.document, None)
    del state.by_id[project.id]
    return json_response({"succeed": True})


def _document_ref(request: web.Request, body: dict[str, Any]) -> tuple[str, str]:
    f = Fields(body, what="document")
    f.only(("documentId", "documentType"))
    f.required(("documentId", "documentType"))
    doc_id = f.text("documentId", max_len=100, nullable=False)
    kind = f.choice("documentType", tuple(DOCUMENT_TYPES))
    owner = tenant(request)
    if isinstance(doc_id, str) and kind == "invoice" and doc_id not in owner.invoices:
        f.error("documentId", "no invoice with this faktooraId")
    if isinstance(doc_id, str) and kind == "invoiceIncoming" and doc_id not in incoming_of(owner).records:
        f.error("documentId", "no incoming invoice with this importId")
    f.done()
    return str(kind), str(doc_id)


async def attach_document(request: web.Request) -> web.Response:
    project = _project(request)
    ref = _document_ref(request, await body_object(request, '{"documentId", "documentType"}'))
    state = _state(request)
    if project.document == ref:
        return json_response(_to_json(request, project), 201)
    if project.document is not None:
        raise ApiError(409, "PROJECT_HAS_DOCUMENT", "the project holds another document; detach it first")
    holder = state.documents.get(ref)
    if holder is not None:
        raise ApiError(409, "DOCUMENT_IN_PROJECT", f"the document is in project {holder}")
    project.document = ref
    state.documents[ref] = project.id
    project.updated_at = utcnow()
    return json_response(_to_json(request, project), 201)


async def detach_document(request: web.Request) -> web.Response:
    project = _project(request)
    body = await optional_body(request, '{"documentId", "documentType"}')
    if project.document is None:
        raise http_error(404, "the project holds no document")
    if body and _document_ref(request, body) != project.document:
        raise http_error(404, "this document is not attached to the project")
    _state(request).documents.pop(project.document, None)
    project.document = None
    project.updated_at = utcnow()
    return json_response(_to_json(request, project))


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    """Register this area's routes under ``prefix`` (``/api/v1`` or ``/api/v2``)."""
    router.add_get(f"{prefix}/projects", list_projects)
    router.add_post(f"{prefix}/project", create_project)
    base = prefix + "/project/{id}"
    router.add_get(base, get_project)
    router.add_patch(base, update_project)
    router.add_delete(base, delete_project)
    router.add_post(f"{base}/document", attach_document)
    router.add_delete(f"{base}/document", detach_document)
