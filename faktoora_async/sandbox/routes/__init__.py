"""The sandbox's routes, one module per API area.

Each area module defines ``add_routes(router, prefix)`` and is listed in :data:`AREAS`;
:func:`add_api_routes` registers every area under each of :data:`API_PREFIXES` (``/api/v1`` and
``/api/v2``).  Order matters only where a static path shares a prefix with a dynamic one
(``/invoices/next-number`` before ``/invoices/{faktooraId}``): earlier areas win.
The admin routes (``/_sandbox/...``, no API key) live in :mod:`.admin`; an area may add its own with
``add_admin_routes(router)``.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from aiohttp import web

from . import (
    admin,
    apikeys,
    customers,
    imports,
    incoming,
    invoices,
    numbers,
    products,
    projects,
    webhooks,
)

__all__ = ["API_PREFIXES", "AREAS", "add_api_routes"]

API_PREFIXES = ("/api/v1", "/api/v2")
AREAS: tuple[ModuleType, ...] = (
    numbers,
    invoices,
    imports,
    incoming,
    webhooks,
    apikeys,
    customers,
    products,
    projects,
)
"""API area modules, in registration order; each has ``add_routes(router, prefix)``."""


def add_api_routes(app: web.Application) -> None:
    """Register every area under every prefix, then the admin routes."""
    for prefix in API_PREFIXES:
        for area in AREAS:
            register: Callable[[web.UrlDispatcher, str], None] = area.add_routes
            register(app.router, prefix)
    admin.add_routes(app.router)
    for area in AREAS:
        add_admin: Callable[[web.UrlDispatcher], None] | None = getattr(area, "add_admin_routes", None)
        if add_admin is not None:
            add_admin(app.router)
    app.on_response_prepare.append(apikeys.key_status_headers)
