"""``/webhooks``: the tenant's webhook subscriptions (list, create, change, delete).

Ids are UUIDs; ``action`` is one of the 16 documented actions (``invoiceCreated`` is accepted for
``invoiceCreate`` and stored as that); a ``target`` is checked at registration like faktoora checks it
(:mod:`..targets`).  ``POST`` answers ``201`` with the subscription, ``PATCH`` the changed subscription,
``DELETE`` ``{"succeed": true}``.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from aiohttp import web

from ..errors import bad_request, http_error
from ..httputil import app_state, json_response, paginate, read_json, tenant
from ..store import Subscription, utcnow
from ..targets import TargetRefused, check_target
from ..webhooks import ACTIONS, canonical_action

__all__ = ["add_routes"]

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def _subscription_body(request: web.Request, body: Any, *, partial: bool) -> dict[str, str]:
    if not isinstance(body, dict):
        raise bad_request('body must be an object {"action", "target"}')
    errors = [{"field": k, "message": "unknown field"} for k in body if k not in ("action", "target")]
    out: dict[str, str] = {}
    action = body.get("action")
    if action is None and not partial:
        errors.append({"field": "action", "message": "is required"})
    elif action is not None:
        known = canonical_action(action) if isinstance(action, str) else None
        if known is None:
            errors.append({"field": "action", "message": f"must be one of {', '.join(sorted(ACTIONS))}"})
        else:
            out["action"] = known
    target = body.get("target")
    if target is None and not partial:
        errors.append({"field": "target", "message": "is required"})
    elif target is not None:
        allow = app_state(request).config.allow_private_targets
        try:
            out["target"] = await check_target(target, allow_private=allow)
        except TargetRefused as exc:
            errors.append({"field": "target", "message": str(exc)})
    if partial and not out and not errors:
        errors.append({"field": "action", "message": "nothing to change"})
    if errors:
        raise bad_request(
            f"invalid webhook subscription: {errors[0]['field']} {errors[0]['message']}", errors
        )
    return out


async def list_webhooks(request: web.Request) -> web.Response:
    subs = list(tenant(request).subscriptions.values())
    return paginate(request, subs, as_json=Subscription.to_json)


async def create_webhook(request: web.Request) -> web.Response:
    values = await _subscription_body(request, await read_json(request), partial=False)
    sub = Subscription(str(uuid.uuid4()), values["action"], values["target"], utcnow())
    tenant(request).subscriptions[sub.id] = sub
    return json_response(sub.to_json(), 201)


def _subscription(request: web.Request) -> Subscription:
    wid = request.match_info["webhookId"]
    sub = tenant(request).subscriptions.get(wid) if _UUID.fullmatch(wid) else None
    if sub is None:
        raise http_error(404, "no webhook subscription with this id")
    return sub


async def update_webhook(request: web.Request) -> web.Response:
    sub = _subscription(request)
    values = await _subscription_body(request, await read_json(request), partial=True)
    sub.action = values.get("action", sub.action)
    sub.target = values.get("target", sub.target)
    return json_response(sub.to_json())


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
