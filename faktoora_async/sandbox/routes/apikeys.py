"""``/apikeys`` (API.md v2): list, create, change, rotate, revoke and delete the user's API keys.

Answers: the key object ``{id, label, status, createdAt, expiresAt, lastUsedAt, revokedAt, rotatedFromId}``;
create and rotate add the secret as ``key`` (the only answers that carry it) and answer ``201``; revoke
answers the key object (``201``, NestJS' POST default); ``DELETE`` answers ``{"succeed": true}``.  The
lifecycle itself (401 for revoked and expired keys on every route) is :class:`~..apikeys.KeyRing`'s.

Responses to a request made with an ``expiring_soon`` key carry ``X-API-Key-Status: expiring_soon`` and
``X-API-Key-Expires-At: <ISO 8601>`` (:func:`key_status_headers`): the sandbox's way to tell a client that
its own key is about to stop (faktoora documents no such signal).

Admin routes (no API key; tests): ``GET /_sandbox/apikeys`` (every key, no secrets), ``PATCH
/_sandbox/apikeys/{apiKeyId}`` ``{"expiresAt": ISO | null}`` without the API's limits (a past time makes
the key expired now), ``GET``/``PUT /_sandbox/clock`` ``{"offsetSeconds": n}``: the key clock (statuses,
expiry, grace periods, the 365-day limit) runs ``n`` seconds ahead of the wall clock.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiohttp import web

from .._fields import ABSENT, Fields, body_object, optional_body
from ..apikeys import API_KEY, KEY_ID, MAX_GRACE_HOURS, MAX_LIFETIME, ApiKey, KeyRing, format_time, parse_time
from ..errors import ApiError, bad_request, http_error
from ..httputil import app_state, json_response, paginate, read_json, tenant
from ..state import STATE

__all__ = ["add_admin_routes", "add_routes", "key_status_headers"]

MAX_LABEL = 255


def _ring(request: web.Request) -> KeyRing:
    return app_state(request).keys


def _expiry(fields: Fields, ring: KeyRing) -> Any:
    """``expiresAt`` of a body: ABSENT, None (no expiry) or epoch seconds within the next 365 days."""
    raw = fields.body.get("expiresAt", ABSENT)
    if raw is ABSENT or raw is None:
        return raw
    ts = parse_time(raw) if isinstance(raw, str) else None
    if ts is None:
        fields.error("expiresAt", "must be an ISO 8601 date-time (e.g. 2026-12-31T00:00:00Z) or null")
        return ABSENT
    now = ring.now()
    if ts <= now:
        fields.error("expiresAt", "must be in the future")
        return ABSENT
    if ts > now + MAX_LIFETIME:
        fields.error("expiresAt", "must be at most 365 days ahead")
        return ABSENT
    return ts


def _key(request: web.Request) -> ApiKey:
    key_id = request.match_info["apiKeyId"]
    if not KEY_ID.fullmatch(key_id):
        raise http_error(404, "no API key with this id")
    return _ring(request).get(tenant(request).account, key_id)


async def list_keys(request: web.Request) -> web.Response:
    ring = _ring(request)
    now = ring.now()
    keys = ring.keys_of(tenant(request).account)
    return paginate(request, keys, as_json=lambda key: key.to_json(now))


async def create_key(request: web.Request) -> web.Response:
    ring = _ring(request)
    fields = Fields(await body_object(request, '{"label", "expiresAt"?}'), what="API key")
    fields.only(("label", "expiresAt"))
    fields.required(("label",))
    label = fields.text("label", max_len=MAX_LABEL, nullable=False)
    expires = _expiry(fields, ring)
    fields.done()
    key = ring.create(tenant(request).account, label, None if expires is ABSENT else expires)
    return json_response(key.to_json(ring.now(), with_secret=True), 201)


async def update_key(request: web.Request) -> web.Response:
    ring = _ring(request)
    key = _key(request)
    fields = Fields(await body_object(request, '{"label"?, "expiresAt"?}'), what="API key")
    fields.only(("label", "expiresAt"))
    if not fields.body:
        fields.error("label", "nothing to change: send label and/or expiresAt")
    label = fields.text("label", max_len=MAX_LABEL, nullable=False)
    expires = _expiry(fields, ring)
    fields.done()
    if key.revoked_at is not None:
        raise ApiError(409, "INVALID_STATE", "a revoked API key cannot be changed")
    if label is not ABSENT:
        key.label = label
    if expires is not ABSENT:
        key.expires_at = expires
    return json_response(key.to_json(ring.now()))


async def rotate_key(request: web.Request) -> web.Response:
    ring = _ring(request)
    key = _key(request)
    fields = Fields(await optional_body(request, '{"gracePeriodHours"?}'), what="rotation")
    fields.only(("gracePeriodHours",))
    grace = fields.integer("gracePeriodHours", minimum=0)
    if isinstance(grace, int) and grace > MAX_GRACE_HOURS:
        fields.error("gracePeriodHours", f"must be at most {MAX_GRACE_HOURS} (365 days)")
    fields.done()
    hours = grace if isinstance(grace, int) else 0
    successor = ring.rotate(key, hours)
    return json_response(successor.to_json(ring.now(), with_secret=True), 201)


async def revoke_key(request: web.Request) -> web.Response:
    ring = _ring(request)
    key = _key(request)
    ring.revoke(key)
    return json_response(key.to_json(ring.now()), 201)


async def delete_key(request: web.Request) -> web.Response:
    key = _key(request)
    _ring(request).delete(key)
    return json_response({"succeed": True})


async def key_status_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: tell a client whose key is ``expiring_soon`` (headers; never the key)."""
    key = request.get(API_KEY)
    if not isinstance(key, ApiKey):
        return
    ring = request.app[STATE].keys
    if key.status(ring.now()) == "expiring_soon":
        response.headers["X-API-Key-Status"] = "expiring_soon"
        response.headers["X-API-Key-Expires-At"] = format_time(key.expires_at) or ""


# --- admin (/_sandbox/, no API key) ------------------------------------------------------------------
async def admin_list_keys(request: web.Request) -> web.Response:
    ring = request.app[STATE].keys
    now = ring.now()
    return json_response([{**key.to_json(now), "start": key.start} for key in ring.all_keys()])


async def admin_update_key(request: web.Request) -> web.Response:
    ring = request.app[STATE].keys
    key = ring.find(request.match_info["apiKeyId"])
    if key is None:
        raise http_error(404, "no API key with this id")
    body = await read_json(request)
    if not isinstance(body, dict) or set(body) != {"expiresAt"}:
        raise bad_request(
            'body must be {"expiresAt": ISO 8601 | null}', [{"field": "expiresAt", "message": "is required"}]
        )
    raw = body["expiresAt"]
    ts = None if raw is None else parse_time(raw) if isinstance(raw, str) else None
    if raw is not None and ts is None:
        raise bad_request(
            "expiresAt must be ISO 8601 or null", [{"field": "expiresAt", "message": "not ISO 8601"}]
        )
    key.expires_at = ts
    return json_response(key.to_json(ring.now()))


async def get_clock(request: web.Request) -> web.Response:
    ring = request.app[STATE].keys
    return json_response({"offsetSeconds": ring.offset, "now": format_time(ring.now())})


async def put_clock(request: web.Request) -> web.Response:
    ring = request.app[STATE].keys
    body = await read_json(request)
    value: Any = body.get("offsetSeconds") if isinstance(body, dict) else None
    number = isinstance(value, (int, Decimal)) and not isinstance(value, bool)
    if not number or abs(float(value)) > 10 * MAX_LIFETIME:
        raise bad_request(
            'body must be {"offsetSeconds": number}',
            [{"field": "offsetSeconds", "message": "must be a number"}],
        )
    ring.offset = float(value)
    return json_response({"offsetSeconds": ring.offset, "now": format_time(ring.now())})


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    """Register this area's routes under ``prefix`` (``/api/v1`` or ``/api/v2``)."""
    router.add_get(f"{prefix}/apikeys", list_keys)
    router.add_post(f"{prefix}/apikeys", create_key)
    base = prefix + "/apikeys/{apiKeyId}"
    router.add_patch(base, update_key)
    router.add_delete(base, delete_key)
    router.add_post(f"{base}/rotate", rotate_key)
    router.add_post(f"{base}/revoke", revoke_key)


def add_admin_routes(router: web.UrlDispatcher) -> None:
    """The key admin routes under ``/_sandbox/`` (see the module docstring)."""
    router.add_get("/_sandbox/apikeys", admin_list_keys)
    router.add_patch("/_sandbox/apikeys/{apiKeyId}", admin_update_key)
    router.add_get("/_sandbox/clock", get_clock)
    router.add_put("/_sandbox/clock", put_clock)
