"""``/webhooks``: the tenant's webhook subscriptions (list, create, change, delete)."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from ..errors import bad_request, http_error
from ..httputil import app_state, json_response, paginate, read_json, tenant
from ..store import Subscription, utcnow
from ..webhooks import ACTIONS

__all__ = ["add_routes"]

_WID = re.compile(r"W[A-Z0-9]{6,40}")


def _subscription_body(body: Any, *, partial: bool) -> dict[str, str]:
    if not isinstance(body, dict):
        raise bad_request('body must be an object {"action", "target"}')
    errors = [{"field": k, "message": "unknown field"} for k in body if k not in ("action", "target")]
    out: dict[str, str] = {}
    action = body.get("action")
    if action is None and not partial:
        errors.append({"field": "action", "message": "is required"})
    elif action is not None:
        if action not in ACTIONS:
            errors.append({"field": "action", "message": f"must be one of {', '.join(sorted(ACTIONS))}"})
        else:
            out["action"] = action
    target = body.get("target")
    if target is None and not partial:
        errors.append({"field": "target", "message": "is required"})
    elif target is not None:
        if (
            not isinstance(target, str)
            or not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", target)
            or len(target) > 2000
        ):
            errors.append({"field": "target", "message": "must be an http(s) URL"})
        else:
            out["target"] = target
    if partial and not out and not errors:
        errors.append({"field": "action", "message": "nothing to change"})
    if errors:
        raise bad_request("invalid webhook subscription", errors)
    return out


async def list_webhooks(request: web.Request) -> web.Response:
    subs = list(tenant(request).subscriptions.values())
    return paginate(request, subs, as_json=Subscription.to_json)


async def create_webhook(request: web.Request) -> web.Response:
    values = _subscription_body(await read_json(request), partial=False)
    state = app_state(request)
    sub = Subscription(state.store.new_id("W"), values["action"], values["target"], utcnow())
    tenant(request).subscriptions[sub.id] = sub
    return json_response(sub.to_json(), 201)


def _subscription(request: web.Request) -> Subscription:
    wid = request.match_info["webhookId"]
    sub = tenant(request).subscriptions.get(wid) if _WID.fullmatch(wid) else None
    if sub is None:
        raise http_error(404, "no webhook subscription with this id")
    return sub


async def update_webhook(request: web.Request) -> web.Response:
    sub = _subscription(request)
    values = _subscription_body(await read_json(request), partial=True)
    sub.action = values.get("action", sub.action)
    sub.target = values.get("target", sub.target)
    return json_response({"succeed": True})


async def delete_webhook(request: web.Request) -> web.Response:
    sub = _subscription(request)
    del tenant(request).subscriptions[sub.id]
    return json_response({"succeed": True})


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    """Register this area's routes under ``prefix`` (``/api/v1`` or ``/api/v2``)."""
    router.add_get(f"{prefix}/webhooks", list_webhooks)
    router.add_post(f"{prefix}/webhooks", create_webhook)
    router.add_patch(prefix + "/webhooks/{webhookId}", update_webhook)
    router.add_delete(prefix + "/webhooks/{webhookId}", delete_webhook)
