"""``GET /invoices/next-number``: a preview of the account's next invoice number (allocates nothing)."""

from __future__ import annotations

import datetime as _dt
import re

from aiohttp import web

from ..errors import bad_request
from ..httputil import json_response, tenant

__all__ = ["DEFAULT_TEMPLATE", "add_routes", "render_template"]

_TEMPLATE_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z]+)(?::(0?\d{1,2}))?\}|[{}]")
DEFAULT_TEMPLATE = "{YYYY}-{counter:05}"


def render_template(template: str, counter: int, today: _dt.date) -> str:
    """Render a number template: ``{YYYY} {YY} {MM} {DD} {counter} {counter:05}``; ``{{``/``}}`` = braces."""
    values = {"YYYY": f"{today.year:04d}", "YY": f"{today.year % 100:02d}", "MM": f"{today.month:02d}"}
    values["DD"] = f"{today.day:02d}"
    out: list[str] = []
    pos = 0
    for match in _TEMPLATE_TOKEN.finditer(template):
        out.append(template[pos : match.start()])
        pos = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            out.append(token[0])
            continue
        name, width = match.group(1), match.group(2)
        if name == "counter":
            out.append(f"{counter:0{int(width)}d}" if width else str(counter))
        elif name in values and width is None:
            out.append(values[name])
        else:
            raise ValueError(f"unknown placeholder {token!r}")
    out.append(template[pos:])
    return "".join(out)


async def next_number(request: web.Request) -> web.Response:
    template = request.query.get("template", DEFAULT_TEMPLATE)
    if not template or len(template) > 200:
        raise bad_request(
            "template must be 1-200 characters", [{"field": "template", "message": "bad length"}]
        )
    counter = tenant(request).counter
    try:
        number = render_template(template, counter + 1, _dt.datetime.now(_dt.timezone.utc).date())
    except ValueError as exc:
        raise bad_request(str(exc), [{"field": "template", "message": str(exc)}]) from None
    return json_response({"invoiceNumber": number, "counter": counter})


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    """Register this area's routes under ``prefix`` (before ``/invoices/{faktooraId}``: static first)."""
    router.add_get(f"{prefix}/invoices/next-number", next_number)
