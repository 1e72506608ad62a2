"""Admin routes under ``/_sandbox/`` (no API key; they exist only on the sandbox).

- ``GET stats``: requests per route template and status, invoices stored, duplicates rejected,
  webhook attempts/failures, faults injected by kind.
- ``GET faults`` / ``PUT faults``: read / change fault settings (camelCase JSON, partial update;
  restarts the seeded stream).
- ``POST approve/{faktooraId}``: a person confirms a draft or approves a review: -> created
  (-> sent with delivery).
- ``GET outbox``: the e-mails and PEPPOL messages "sent" for invoices with a delivery (``type``).
- ``POST reset``: forget invoices, imports, subscriptions, outbox, logs, stats.
- ``GET webhook-log``: every webhook delivery attempt.
- ``GET invoices``: every stored invoice with the sha256 of its files once generated.  PDFs are rendered
  lazily (on the first PDF download), so ``pdfSha256`` is ``null`` until then; ``GET invoices?withPdf=1``
  first renders every missing PDF of a generated invoice, so the listing carries all of them.
- ``POST inflate/{faktooraId}?bytes=N``: make that invoice's PDF download exactly N bytes (streamed).
- ``GET accounts`` / ``POST accounts``: list / add API keys ``{"apiKey", "features", "rate", "burst"}``.
- ``GET profile`` / ``PUT profile``: the company profile (the seller of invoices sent without one) of the
  tenant named by the ``X-API-KEY`` and ``x-account-id`` headers; ``PUT`` takes a complete seller object.
- ``POST events``: deliver ``{"action", "faktooraId"?, "status"?, "metadata"?}`` to that tenant's
  subscriptions of the action (any of the 16, also those the sandbox cannot cause itself).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from aiohttp import web

from ..errors import ApiError, bad_request, http_error
from ..httputil import hash_chunks, inflated_chunks, json_response, read_json
from ..middleware import ACCOUNT_ID
from ..state import STATE, ProfileError, SandboxState
from ..store import Tenant
from ..webhooks import ACTIONS, canonical_action

MAX_INFLATE = 8 * 1024**3


def stats_snapshot(state: SandboxState) -> dict[str, Any]:
    """The JSON of ``GET /_sandbox/stats``."""
    store = state.store
    return {
        "requests": {key: dict(counter) for key, counter in sorted(state.stats.requests.items())},
        "invoicesStored": len(store.invoices),
        "importsStored": len(store.imports),
        "duplicatesRejected": state.stats.duplicates_rejected,
        "webhooks": {
            "attempts": state.stats.webhook_attempts,
            "failures": state.stats.webhook_failures,
            "delivered": state.stats.webhook_deliveries,
        },
        "faultsInjected": dict(sorted(state.faults.counts.items())),
        "outbox": len(store.outbox),
        "backgroundTasks": len(state.tasks),
    }


def invoices_snapshot(state: SandboxState) -> list[dict[str, Any]]:
    out = []
    for record in state.store.all_invoices():
        pdf_sha = record.inflate_sha256 if record.inflate_to is not None else record.pdf_sha256
        out.append(
            {
                "faktooraId": record.faktoora_id,
                "invoiceNumber": record.invoice_number,
                "accountId": record.tenant.account_id or None,
                "invoiceStatus": record.invoice_status,
                "jobStatus": record.job_status,
                "status": record.invoice_status,
                "validation": record.validation,
                "pdfSha256": pdf_sha,
                "xmlSha256": record.xml_sha256,
                "pdfSize": record.inflate_to if record.inflate_to is not None else _len(record.pdf),
                "xmlSize": _len(record.xml),
                "createdAt": record.created_at,
            }
        )
    return out


def _len(data: bytes | None) -> int | None:
    return None if data is None else len(data)


async def get_stats(request: web.Request) -> web.Response:
    return json_response(stats_snapshot(request.app[STATE]))


async def get_faults(request: web.Request) -> web.Response:
    return json_response(request.app[STATE].faults.config.to_json())


async def put_faults(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await read_json(request)
    if not isinstance(body, dict):
        raise bad_request("body must be an object of fault settings")
    try:
        config = state.faults.config.updated({k: _plain(v) for k, v in body.items()})
    except (ValueError, TypeError) as exc:
        raise bad_request(str(exc)) from None
    state.faults.configure(config)
    return json_response(config.to_json())


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value


def _record(request: web.Request) -> Any:
    record = request.app[STATE].store.invoices.get(request.match_info["faktooraId"])
    if record is None:
        raise http_error(404, "no invoice with this faktooraId")
    return record


async def approve(request: web.Request) -> web.Response:
    state = request.app[STATE]
    record = _record(request)
    state.approve(record)
    return json_response(record.status())


async def outbox(request: web.Request) -> web.Response:
    return json_response(list(request.app[STATE].store.outbox))


async def reset(request: web.Request) -> web.Response:
    request.app[STATE].reset()
    return json_response({"succeed": True})


async def webhook_log(request: web.Request) -> web.Response:
    return json_response(list(request.app[STATE].webhooks.log))


async def render_missing_pdfs(state: SandboxState) -> int:
    """Render (and cache) the PDF of every generated invoice that has none yet; returns how many."""
    rendered = 0
    for record in list(state.store.all_invoices()):
        if record.xml is not None and record.pdf is None and not record.deleted:
            await state.ensure_pdf(record)
            rendered += 1
    return rendered


_TRUE = frozenset({"1", "true", "yes", "on"})


async def invoices(request: web.Request) -> web.Response:
    state = request.app[STATE]
    flag = request.query.get("withPdf", "")
    if flag and flag.lower() not in _TRUE | {"0", "false", "no", "off"}:
        raise bad_request("withPdf must be 1 or 0")
    if flag.lower() in _TRUE:
        await render_missing_pdfs(state)
    return json_response(invoices_snapshot(state))


async def inflate(request: web.Request) -> web.Response:
    state = request.app[STATE]
    record = _record(request)
    raw = request.query.get("bytes", "")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise bad_request("bytes must be a positive integer")
    size = int(raw)
    if size > MAX_INFLATE:
        raise bad_request(f"bytes must be at most {MAX_INFLATE}")
    if record.xml is None:
        raise ApiError(409, "NOT_READY", "the invoice is not generated yet")
    pdf = await state.ensure_pdf(record)
    try:
        next(iter(inflated_chunks(pdf, size)))
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    digest = await state.in_thread(lambda: hash_chunks(inflated_chunks(pdf, size)))
    record.inflate_to, record.inflate_sha256 = size, digest
    return json_response({"faktooraId": record.faktoora_id, "bytes": size, "pdfSha256": digest})


async def list_accounts(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return json_response([{"apiKey": key, **acc.describe()} for key, acc in state.accounts.items()])


async def add_account(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("apiKey"), str):
        raise bad_request('body must be {"apiKey": str, "features": [...], "rate": n, "burst": n}')
    features = body.get("features") or []
    rate, burst = body.get("rate"), body.get("burst")
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise bad_request("features must be a list of strings")
    for name, value in (("rate", rate), ("burst", burst)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float, Decimal))):
            raise bad_request(f"{name} must be a number")
    try:
        account = state.add_account(
            body["apiKey"],
            features=features,
            rate=float(rate) if rate is not None else None,
            burst=float(burst) if burst is not None else None,
        )
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    return json_response({"apiKey": account.api_key, **account.describe()}, 201)


def _admin_tenant(request: web.Request) -> Tenant:
    """The tenant named by ``X-API-KEY`` (+ ``x-account-id``) on an admin route; 401 for an unknown key."""
    account_id = request.headers.get("x-account-id", "")
    if account_id and not ACCOUNT_ID.fullmatch(account_id):
        raise bad_request("x-account-id must be 1-64 letters, digits or _.:-")
    try:
        return request.app[STATE].tenant_of(request.headers.get("X-API-KEY", ""), account_id)
    except KeyError:
        raise http_error(401, "X-API-KEY must name a known key (the account whose profile this is)") from None


async def get_profile(request: web.Request) -> web.Response:
    return json_response(_admin_tenant(request).profile)


async def put_profile(request: web.Request) -> web.Response:
    owner = _admin_tenant(request)
    body = await read_json(request)
    try:
        profile = request.app[STATE].set_profile(owner.account.api_key, owner.account_id, body)
    except ProfileError as exc:
        raise bad_request(f"invalid company profile: {exc}", exc.errors) from None
    return json_response(profile)


async def fire_event(request: web.Request) -> web.Response:
    """Deliver any documented action to the tenant's subscriptions (events the sandbox cannot cause)."""
    owner = _admin_tenant(request)
    body = await read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("action"), str):
        raise bad_request('body must be {"action", "faktooraId"?, "status"?, "metadata"?}')
    unknown = sorted(set(body) - {"action", "faktooraId", "status", "metadata"})
    action = canonical_action(body["action"])
    if unknown or action is None:
        raise bad_request(
            f"unknown fields {unknown}" if unknown else f"action must be one of {sorted(ACTIONS)}"
        )
    object_id, status, metadata = body.get("faktooraId"), body.get("status"), body.get("metadata")
    if not isinstance(object_id, (str, type(None))) or not isinstance(status, (str, type(None))):
        raise bad_request("faktooraId and status must be strings")
    if not isinstance(metadata, (dict, type(None))):
        raise bad_request("metadata must be an object")
    subscribers = sum(1 for sub in owner.subscriptions.values() if sub.action == action)
    object_id = object_id or str(uuid.uuid4())
    request.app[STATE].webhooks.notify(owner, action, object_id, status, metadata)
    return json_response({"action": action, "faktooraId": object_id, "subscriptions": subscribers}, 202)


def add_routes(router: web.UrlDispatcher) -> None:
    """Register the admin routes (no API key, no prefix: ``/_sandbox/...``)."""
    r = router
    r.add_get("/_sandbox/stats", get_stats)
    r.add_get("/_sandbox/faults", get_faults)
    r.add_put("/_sandbox/faults", put_faults)
    r.add_post("/_sandbox/approve/{faktooraId}", approve)
    r.add_get("/_sandbox/outbox", outbox)
    r.add_post("/_sandbox/reset", reset)
    r.add_get("/_sandbox/webhook-log", webhook_log)
    r.add_get("/_sandbox/invoices", invoices)
    r.add_post("/_sandbox/inflate/{faktooraId}", inflate)
    r.add_get("/_sandbox/accounts", list_accounts)
    r.add_post("/_sandbox/accounts", add_account)
    r.add_get("/_sandbox/profile", get_profile)
    r.add_put("/_sandbox/profile", put_profile)
    r.add_post("/_sandbox/events", fire_event)
