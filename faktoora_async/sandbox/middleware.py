"""The sandbox's one middleware: API-key check, tenant, rate limit, seeded faults, JSON errors, stats."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from .apikeys import API_KEY
from .errors import ApiError, bad_request, http_error
from .httputil import DECISION, TENANT, drop
from .ratelimit import TokenBucket
from .state import STATE, SandboxState

__all__ = ["ACCOUNT_ID", "sandbox_middleware"]

logger = logging.getLogger("faktoora_async.sandbox")

ACCOUNT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
"""What an ``x-account-id`` header may hold."""
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error_from_http_exception(exc: web.HTTPException) -> ApiError:
    status = exc.status
    if status == 404:
        return http_error(404, "no such route")
    if status == 405:
        allow = exc.headers.get("Allow", "")
        return ApiError(405, "METHOD_NOT_ALLOWED", "method not allowed here", headers={"Allow": allow})
    if status == 413:
        return http_error(413, "request body too large")
    return http_error(status, exc.reason or "error")


@web.middleware
async def sandbox_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Run ``handler`` (through :func:`_api` for API routes); every error becomes a JSON answer."""
    state = request.app[STATE]
    resource = request.match_info.route.resource
    template = resource.canonical if resource is not None else "<unmatched>"
    key = f"{request.method} {template}"
    resp: web.StreamResponse
    status: int | str
    try:
        if template.startswith("/_sandbox"):
            resp = await handler(request)
        else:
            resp = await _api(request, handler, state)
        status = resp.status
        if status == 499:
            status = "dropped"
    except ApiError as exc:
        resp = exc.response()
        status = exc.status
    except web.HTTPException as exc:
        err = _error_from_http_exception(exc)
        resp = err.response()
        status = err.status
    except asyncio.CancelledError:
        state.stats.count(key, "aborted")
        raise
    except ConnectionError:
        # The client went away mid-response (a cancelled or ruptured download): normal, not a server
        # error.  Re-raising would make aiohttp log it at ERROR; answer a placeholder on the dead
        # connection instead (aiohttp drops it quietly).
        state.stats.count(key, "aborted")
        logger.debug("client disconnected during %s %s", request.method, request.path)
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=499)
    except Exception:
        logger.exception("sandbox handler failed on %s %s", request.method, request.path)
        err = http_error(500, "internal sandbox error")
        resp, status = err.response(), 500
    state.stats.count(key, status)
    return resp


async def _api(request: web.Request, handler: Handler, state: SandboxState) -> web.StreamResponse:
    key = state.keys.authenticate(request.headers.get("X-API-KEY", ""))  # 401: unknown, revoked, expired
    request[API_KEY] = key
    account = key.account
    account_id = request.headers.get("x-account-id", "")
    if account_id and not ACCOUNT_ID.fullmatch(account_id):
        raise bad_request("x-account-id must be 1-64 letters, digits or _.:-")
    bucket = account.bucket
    if bucket is not None:
        wait = bucket.take()
        if wait:
            raise ApiError(
                429,
                "TOO_MANY_REQUESTS",
                "rate limit exceeded",
                headers={"Retry-After": TokenBucket.retry_after_header(wait)},
            )
    request[TENANT] = state.store.tenant(account, account_id)
    decision = state.faults.draw()
    if decision.delay:
        state.faults.count("latency")
        await asyncio.sleep(decision.delay)
    if decision.error_status is not None:
        state.faults.count(f"http_{decision.error_status}")
        raise http_error(decision.error_status, "injected fault")
    if decision.reset:
        state.faults.count("reset")
        return drop(request, reset=True)
    request[DECISION] = decision
    resp = await handler(request)
    if decision.ambiguous and request.method == "POST" and 200 <= resp.status < 300:
        state.faults.count("ambiguous_post")
        return drop(request, reset=False)
    return resp
