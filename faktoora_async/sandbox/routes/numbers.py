"""Invoice numbers: ``GET /invoices/next-number`` (a preview), ``GET /invoices/verify-number`` and
``GET``/``PUT /settings/invoice-number-template`` (the account's template, pad length and counter).

The grammar lives in :mod:`..numbering`; the counter, the uniqueness bump and the allocation at creation
in :class:`~..store.Tenant`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..errors import bad_request
from ..httputil import json_response, read_json, tenant
from ..numbering import MAX_PAD_LENGTH, Template, TemplateError, parse_template

__all__ = ["add_routes"]


def _template(value: Any) -> Template:
    try:
        return parse_template(value)
    except TemplateError as exc:
        raise bad_request(f"invalid template: {exc}", [{"field": "template", "message": str(exc)}]) from None


def _pad_length(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAD_LENGTH:
        message = f"padLength must be an integer from 1 to {MAX_PAD_LENGTH}"
        raise bad_request(message, [{"field": "padLength", "message": message}])
    return value


async def next_number(request: web.Request) -> web.Response:
    """``{"invoiceNumber", "counter"}`` (+ ``"template"`` when one was passed); allocates nothing."""
    owner = tenant(request)
    raw = request.query.get("template")
    template = _template(raw) if raw is not None else None
    body: dict[str, Any] = {"invoiceNumber": owner.preview_number(template), "counter": owner.counter}
    if template is not None:
        body["template"] = template.text
    return json_response(body)


async def verify_number(request: web.Request) -> web.Response:
    """``{"succeed": true}`` when the number is free, ``{"succeed": false}`` when the account has it."""
    number = request.query.get("invoiceNumber")
    if not number or len(number) > 100:
        message = "invoiceNumber (1-100 characters) is required"
        raise bad_request(message, [{"field": "invoiceNumber", "message": message}])
    return json_response({"succeed": number not in tenant(request).by_number})


async def get_settings(request: web.Request) -> web.Response:
    return json_response(tenant(request).number_settings())


async def put_settings(request: web.Request) -> web.Response:
    """Change ``template`` and/or ``padLength``; answers the new settings; the counter stays."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise bad_request('body must be an object {"template"?, "padLength"?}')
    unknown = [
        {"field": key, "message": "unknown field"} for key in body if key not in ("template", "padLength")
    ]
    if unknown:
        raise bad_request("unknown field", unknown)
    if body.get("template") is None and body.get("padLength") is None:
        message = "template or padLength is required"
        raise bad_request(message, [{"field": "template", "message": message}])
    template = _template(body["template"]) if body.get("template") is not None else None
    pad = _pad_length(body["padLength"]) if body.get("padLength") is not None else None
    owner = tenant(request)
    if template is not None:
        owner.number_template = template
    if pad is not None:
        owner.pad_length = pad
    return json_response(owner.number_settings())


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    """Register this area's routes under ``prefix`` (before ``/invoices/{faktooraId}``: static first)."""
    router.add_get(f"{prefix}/invoices/next-number", next_number)
    router.add_get(f"{prefix}/invoices/verify-number", verify_number)
    router.add_get(f"{prefix}/settings/invoice-number-template", get_settings)
    router.add_put(f"{prefix}/settings/invoice-number-template", put_settings)
