"""Requests of the API-key endpoints (``/api/v2/apikeys``), as data, and the expiry headers.

``create`` and ``update`` check their arguments locally (a label, an expiry in the future and at most
365 days ahead) and raise :class:`~faktoora_async.errors.FieldValidationError` naming the field.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import FieldError, FieldValidationError
from ..models.api_keys import MAX_LIFETIME_DAYS, wire_timestamp
from ._request import APIRequest, json_request, paged, segment
from .decode import header
from .wire import encode_body

__all__ = [
    "EXPIRES_AT_HEADER",
    "KEY_ID_HEADER",
    "STATUS_HEADER",
    "UNSET",
    "KeyNotice",
    "create",
    "delete",
    "key_notice",
    "list_page",
    "revoke",
    "rotate",
    "update",
]

V2 = "v2"
STATUS_HEADER = "X-API-Key-Status"
EXPIRES_AT_HEADER = "X-API-Key-Expires-At"
KEY_ID_HEADER = "X-API-Key-Id"
LABEL_MAX = 255
UNSET: Any = object()  # "not given" (None means: remove the expiry)


def _bad(field: str, message: str) -> FieldValidationError:
    return FieldValidationError(
        "API key", [FieldError(index=None, field=field, message=f"{field}: {message}")]
    )


def _label(label: Any) -> str:
    if not isinstance(label, str) or not label.strip():
        raise _bad("label", "must be a non-empty string")
    if len(label) > LABEL_MAX:
        raise _bad("label", f"must be at most {LABEL_MAX} characters, got {len(label)}")
    return label


def _expires_at(value: Any, now: datetime.datetime | None) -> str:
    if not isinstance(value, datetime.date):
        raise _bad("expiresAt", f"must be a datetime or a date, got {type(value).__name__}")
    text = wire_timestamp(value)
    when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if when <= now:
        raise _bad("expiresAt", f"must be in the future, got {text}")
    if when > now + datetime.timedelta(days=MAX_LIFETIME_DAYS):
        raise _bad("expiresAt", f"must be at most {MAX_LIFETIME_DAYS} days ahead, got {text}")
    return text


def list_page(page: int, per_page: int) -> APIRequest:
    req = paged("/apikeys", (), page, per_page)
    return APIRequest(req.method, req.path, params=req.params, api_version=V2)


def create(
    label: str, expires_at: datetime.datetime | datetime.date | None, *, now: datetime.datetime | None = None
) -> APIRequest:
    """``POST /apikeys`` ``{"label", "expiresAt"?}``."""
    body: dict[str, Any] = {"label": _label(label)}
    if expires_at is not None:
        body["expiresAt"] = _expires_at(expires_at, now)
    return json_request("POST", "/apikeys", encode_body(body), api_version=V2)


def update(
    key_id: str,
    *,
    label: str | None = None,
    expires_at: Any = UNSET,
    now: datetime.datetime | None = None,
) -> APIRequest:
    """``PATCH /apikeys/{id}``: ``label`` and/or ``expiresAt`` (``expires_at=None`` removes the expiry)."""
    body: dict[str, Any] = {}
    if label is not None:
        body["label"] = _label(label)
    if expires_at is not UNSET:
        body["expiresAt"] = None if expires_at is None else _expires_at(expires_at, now)
    if not body:
        raise ValueError("give label and/or expires_at")
    return json_request("PATCH", f"/apikeys/{segment(key_id)}", encode_body(body), api_version=V2)


def rotate(key_id: str, grace_period_hours: int | None) -> APIRequest:
    """``POST /apikeys/{id}/rotate`` (``{"gracePeriodHours"}``: how long the old key keeps working)."""
    body: dict[str, Any] = {}
    if grace_period_hours is not None:
        if isinstance(grace_period_hours, bool) or not isinstance(grace_period_hours, int):
            raise _bad("gracePeriodHours", f"must be a whole number of hours, got {grace_period_hours!r}")
        if not 0 <= grace_period_hours <= MAX_LIFETIME_DAYS * 24:
            raise _bad("gracePeriodHours", f"must be 0 to {MAX_LIFETIME_DAYS * 24}, got {grace_period_hours}")
        body["gracePeriodHours"] = grace_period_hours
    return json_request("POST", f"/apikeys/{segment(key_id)}/rotate", encode_body(body), api_version=V2)


def revoke(key_id: str) -> APIRequest:
    return APIRequest("POST", f"/apikeys/{segment(key_id)}/revoke", api_version=V2)


def delete(key_id: str) -> APIRequest:
    return APIRequest("DELETE", f"/apikeys/{segment(key_id)}", api_version=V2)


@dataclass(frozen=True)
class KeyNotice:
    """What an answer's headers say about the key that made the request (never the key itself)."""

    status: str
    expires_at: str | None
    key_id: str | None


def key_notice(headers: Mapping[str, str]) -> KeyNotice | None:
    """The ``X-API-Key-Status``/``-Expires-At``/``-Id`` headers of an answer, when the server sent them."""
    status = header(headers, STATUS_HEADER)
    if not status:
        return None
    return KeyNotice(
        status=status.strip().lower(),
        expires_at=(header(headers, EXPIRES_AT_HEADER) or "").strip()[:64] or None,
        key_id=(header(headers, KEY_ID_HEADER) or "").strip()[:64] or None,
    )
