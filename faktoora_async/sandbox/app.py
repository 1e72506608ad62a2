"""The sandbox's aiohttp.web application: every route of ``API.md`` under ``/api/v1`` and ``/api/v2``.

The app validates requests with its own rules (``validation.py``), keeps everything in memory
(``store.py``, ``state.py``), runs invoice generation, validation and webhook deliveries in tasks it owns,
and injects seeded faults (``faults.py``, ``middleware.py``).  Routes live in ``routes/``, one module per
API area; admin routes under ``/_sandbox/`` (``routes/admin.py``).

Shapes the contract leaves open, as the sandbox answers them:

- Errors: ``{"code", "statusCode", "message"}`` plus ``"errors": [{"index"?, "field", "message"}]`` on 400
  validation failures and on ``409 DUPLICATE_INVOICE_NUMBER`` (one entry per clashing index).
- Lists (``GET /invoices``, ``/import/outgoing``, ``.../attachments``, ``/webhooks``):
  ``{"data": [...], "meta": {"page", "perPage", "total", "totalPages"}}``.
- ``GET /import/outgoing`` items: ``{faktooraId, invoiceNumber, issueDate, currency, syntax, sourceKind,
  filename, overallStatus, createdAt}``.
- ``/import/outgoing/{id}/content``: the einvoice content model (``faktoora_async.einvoice.content``);
  ``/content/seller``, ``/buyer``, ``/delivery``, ``/paymentterms`` its dicts; ``/lineitems``, ``/taxes``,
  ``/paymentmeans`` its lists; ``/content/summary`` ``ParsedInvoice.summary()``.
- Attachments: ``{id, filename, mimeType, description, size}``; ``.../file`` is application/octet-stream.
- ``/validation``, ``/validation/pdf``, ``/content/pdf``: ``409 NOT_READY`` while the import is pending.
- Webhook subscriptions: ``{id (UUID), action, target, createdAt}`` (``POST`` answers 201 with it,
  ``PATCH`` the changed subscription); ``DELETE`` answers ``{"succeed": true}``.  Deliveries:
  ``{"action", "faktooraId", "status", "timestamp", "metadata"}``.
- Created invoices answer every ``/import/outgoing/{faktooraId}`` route once their file exists.
- Validation: ``status`` ``success`` + ``validity: true`` when the invoice passes, ``error`` +
  ``validity: false`` when rejected, ``error`` + ``validity: null`` when the validator itself failed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from .errors import ApiError
from .middleware import sandbox_middleware
from .routes import add_api_routes
from .state import DEFAULT_MAX_UPLOAD, STATE, SandboxConfig, SandboxState

__all__ = ["DEFAULT_MAX_UPLOAD", "STATE", "ApiError", "SandboxConfig", "SandboxState", "create_app"]

MAX_JSON_BYTES = 16 * 1024 * 1024


def create_app(state: SandboxState) -> web.Application:
    """The aiohttp application of a sandbox holding ``state``."""
    limit = max(MAX_JSON_BYTES, state.config.max_upload_bytes + 1024 * 1024)
    app = web.Application(middlewares=[sandbox_middleware], client_max_size=limit)
    app[STATE] = state
    add_api_routes(app)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await state.start()
        yield
        await state.stop()

    app.cleanup_ctx.append(lifecycle)
    return app
