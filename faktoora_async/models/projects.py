"""Projects (``/projects``, ``/project/{id}``) and the one document a project may hold.

:class:`ProjectInput` is the body ``client.projects.create()``/``update()`` send, checked when built
(``name`` required, at most 255 characters; ``status`` one of ``active``, ``paused``, ``closed``);
:class:`Project` is what the server answers.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from ._base import FrozenBase, ResponseBase, Timestamp
from ._checks import Problems

__all__ = [
    "DOCUMENT_TYPES",
    "PROJECT_NAME_MAX",
    "Project",
    "ProjectCustomer",
    "ProjectDocument",
    "ProjectInput",
    "ProjectStatus",
]

PROJECT_NAME_MAX = 255
_CURRENCY = re.compile(r"[A-Z]{3}")
_ETA = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?")


class ProjectStatus:
    """The values of a project's ``status`` (answers keep unknown values as plain strings)."""

    ACTIVE = "active"
    PAUSED = "paused"
    CLOSED = "closed"
    VALUES: tuple[str, ...] = ("active", "paused", "closed")


# documentType -> the key of the project's ``document`` object that holds the id
DOCUMENT_TYPES: dict[str, str] = {
    "invoice": "invoiceId",
    "invoiceIncoming": "invoiceIncomingId",
    "offer": "offerId",
    "letter": "letterId",
    "reminder": "reminderId",
    "orderConfirmation": "orderConfirmationId",
}


class ProjectInput(FrozenBase, frozen=True):
    """The body of ``POST /project`` and ``PATCH /project/{id}``.

    ``eta`` is a date or a date-time (sent as ISO 8601); ``est_minutes`` the estimate in minutes;
    ``customer_id`` the record id of one of the account's customers.
    """

    name: str
    description: str | None = None
    place: str | None = None
    eta: datetime.date | datetime.datetime | str | None = None
    est_minutes: int | None = None
    currency: str | None = None
    status: str | None = None
    customer_id: str | None = None

    def __post_init__(self) -> None:
        check_project(self)


def check_project(project: ProjectInput | ProjectPatch) -> None:
    """The rules of a project body (a patch may leave ``name`` out)."""
    p = Problems(project, "project")
    p.text("name", required=isinstance(project, ProjectInput), max_len=PROJECT_NAME_MAX)
    for attr in ("description", "place", "customer_id"):
        p.text(attr)
    p.pattern("currency", _CURRENCY, "an ISO 4217 code such as EUR")
    p.choice("status", ProjectStatus.VALUES)
    p.integer("est_minutes", minimum=0)
    eta: Any = project.eta  # runtime values may be of any type
    if isinstance(eta, datetime.datetime):
        when = eta if eta.tzinfo is not None else eta.replace(tzinfo=datetime.timezone.utc)
        p.set("eta", when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    elif isinstance(eta, datetime.date):
        p.set("eta", eta.isoformat())
    elif isinstance(eta, str):
        if _ETA.fullmatch(eta) is None:
            p.add("eta", f"must be an ISO 8601 date or date-time, got {eta!r}")
    elif eta is not None:
        p.add("eta", f"must be a date or a datetime, got {eta!r}")
    p.raise_if_any()


class ProjectPatch(FrozenBase, frozen=True):
    """The body of ``PATCH /project/{id}``: only the fields given (partial update)."""

    name: str | None = None
    description: str | None = None
    place: str | None = None
    eta: datetime.date | datetime.datetime | str | None = None
    est_minutes: int | None = None
    currency: str | None = None
    status: str | None = None
    customer_id: str | None = None

    def __post_init__(self) -> None:
        check_project(self)


class ProjectCustomer(ResponseBase, frozen=True):
    id: str | None = None
    name: str | None = None


class ProjectDocument(ResponseBase, frozen=True):
    """The document a project holds: exactly one of the ids is set."""

    invoice_id: str | None = None
    invoice_incoming_id: str | None = None
    offer_id: str | None = None
    letter_id: str | None = None
    reminder_id: str | None = None
    order_confirmation_id: str | None = None

    @property
    def document_type(self) -> str | None:
        """``invoice``, ``invoiceIncoming``, ... (the ``documentType`` to detach it with), None if empty."""
        raw: dict[str, Any] = self.raw or {
            key: getattr(self, attr) for key, attr in _DOC_ATTRS.items() if getattr(self, attr) is not None
        }
        for doc_type, key in DOCUMENT_TYPES.items():
            if raw.get(key) is not None:
                return doc_type
        return None

    @property
    def document_id(self) -> str | None:
        doc_type = self.document_type
        if doc_type is None:
            return None
        value = getattr(self, _DOC_ATTRS[DOCUMENT_TYPES[doc_type]], None)
        if value is None:
            value = self.raw.get(DOCUMENT_TYPES[doc_type])
        return None if value is None else str(value)


_DOC_ATTRS = {
    "invoiceId": "invoice_id",
    "invoiceIncomingId": "invoice_incoming_id",
    "offerId": "offer_id",
    "letterId": "letter_id",
    "reminderId": "reminder_id",
    "orderConfirmationId": "order_confirmation_id",
}


class Project(ResponseBase, frozen=True):
    """A project as the server answers it (every field optional; ``raw`` has all of them)."""

    id: str | None = None
    name: str | None = None
    description: str | None = None
    place: str | None = None
    eta: str | None = None
    est_minutes: int | None = None
    currency: str | None = None
    status: str | None = None
    customer_id: str | None = None
    customer: ProjectCustomer | None = None
    document: ProjectDocument | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
