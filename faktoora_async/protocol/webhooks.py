"""Requests of the webhook-subscription endpoints (``/webhooks``), as data."""

from __future__ import annotations

from ._request import APIRequest, json_request, segment
from .wire import encode_body

__all__ = ["create", "delete", "update"]


def create(action: str, target: str) -> APIRequest:
    return json_request("POST", "/webhooks", encode_body({"action": action, "target": target}))


def update(webhook_id: str, *, action: str | None, target: str | None) -> APIRequest:
    body = {k: v for k, v in (("action", action), ("target", target)) if v is not None}
    if not body:
        raise ValueError("give action and/or target")
    return json_request("PATCH", f"/webhooks/{segment(webhook_id)}", encode_body(body))


def delete(webhook_id: str) -> APIRequest:
    return APIRequest("DELETE", f"/webhooks/{segment(webhook_id)}")
