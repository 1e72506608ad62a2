"""``/products`` and ``/product/{id}`` (API.md v2, ``/docs/products/``).

- Fields: required ``name`` (1-255 characters, no emoji), ``unit`` (a UN/ECE Rec 20 code, e.g. H87, HUR,
  C62: the code list of :mod:`faktoora_async.einvoice.codes`), ``tax`` (VAT percent 0-100, at most 2
  decimals); optional ``code`` (unique per tenant: a taken one is ``409 DUPLICATE_PRODUCT_CODE``),
  ``description``, ``price`` (net) and ``cost`` (decimals, JSON number or string; answered as strings
  unless whole), ``inventoryCount`` (integer), ``time`` and ``estimate`` (non-negative decimals),
  ``buyerAssignedID`` (BT-156), ``globalID {id, schemeId}`` (ISO/IEC 6523 ICD, 4 digits),
  ``additionalReferencedDocument {id, typeCode?, description?, uri?}``.  Answers add ``id`` (UUID),
  ``createdAt``, ``updatedAt``.
- ``GET /products``: paginated; ``sort`` (code, name, unit, tax, price, cost, inventoryCount, createdAt,
  description, buyerAssignedID; default createdAt), ``order``, ``keyword`` (in name, code, description,
  case-insensitive), ``code`` (exact).
- ``POST /product`` -> ``201``; ``PATCH /product/{id}`` is partial (``null`` clears an optional field);
  ``DELETE`` -> ``{"succeed": true}``; ``GET /product/valid-code?code=`` -> ``{"succeed": true}`` when free.
- Every created product fires the webhook ``productCreate`` (``faktooraId`` = its id, metadata = it).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web

from faktoora_async.einvoice.codes import UNIT_CODES

from .._fields import ABSENT, Fields, body_object, to_decimal
from ..errors import ApiError, bad_request, http_error
from ..httputil import app_state, choice_query, json_response, paginate, tenant
from ..store import utcnow

__all__ = ["add_routes"]

REQUIRED = ("name", "unit", "tax")
OPTIONAL = (
    "code",
    "description",
    "price",
    "cost",
    "inventoryCount",
    "time",
    "estimate",
    "buyerAssignedID",
    "globalID",
    "additionalReferencedDocument",
)
SORTS = (
    "code",
    "name",
    "unit",
    "tax",
    "price",
    "cost",
    "inventoryCount",
    "createdAt",
    "description",
    "buyerAssignedID",
)
_NUMERIC = frozenset({"tax", "price", "cost", "inventoryCount"})
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ICD = re.compile(r"\d{4}")
# Unicode's emoji blocks: the SMP pictographs/emoticons/transport/flags (U+1F000-1FAFF), Misc Symbols and
# Dingbats (U+2600-27BF), the emoji of Misc Technical and Misc Symbols and Arrows, the emoji variation
# selector, the keycap mark and tag characters.  Letters, (TM), (C), arrows and the diameter sign pass.
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u231a\u231b\u2328\u23cf\u23e9-\u23f3\u23f8-\u23fa"
    "\u2b05-\u2b07\u2b1b\u2b1c\u2b50\u2b55\ufe0f\u20e3\U000e0020-\U000e007f]"
)


@dataclass(eq=False)
class Product:
    id: str
    seq: int
    data: dict[str, Any]
    created_at: str
    updated_at: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, **self.data, "createdAt": self.created_at, "updatedAt": self.updated_at}

    def sort_key(self, name: str) -> tuple[Any, ...]:
        if name == "createdAt":
            return (0, self.created_at, self.seq)
        value = self.data.get(name)
        if value is None:
            return (1, "", self.seq)
        if name in _NUMERIC:
            return (0, to_decimal(value) or Decimal(0), self.seq)
        return (0, str(value).casefold(), self.seq)


@dataclass(eq=False)
class ProductsState:
    by_id: dict[str, Product] = field(default_factory=dict)
    seq: int = 0

    def with_code(self, code: str) -> Product | None:
        for product in self.by_id.values():
            if product.data.get("code") == code:
                return product
        return None


def _state(request: web.Request) -> ProductsState:
    return tenant(request).area("products", ProductsState)


def _sub_object(f: Fields, name: str, keys: dict[str, bool], pattern: dict[str, re.Pattern[str]]) -> Any:
    """An object field whose keys are ``keys`` (name -> required) with string values."""
    value = f.obj(name)
    if not isinstance(value, dict):
        return value
    sub = Fields(value, prefix=f"{name}.")
    sub.only(keys)
    sub.required([k for k, required in keys.items() if required])
    for key in keys:
        regex = pattern.get(key)
        sub.text(key, max_len=1000, nullable=False, pattern=regex, hint="must be a 4-digit ISO/IEC 6523 code")
    f.errors.extend(sub.errors)
    return ABSENT if sub.errors else value


def check(body: dict[str, Any], *, full: bool) -> dict[str, Any]:
    """The product values of ``body`` (``full``: create, required fields needed); 400 naming each problem."""
    f = Fields(body, what="product")
    f.only(REQUIRED + OPTIONAL, ("id", "createdAt", "updatedAt"))
    if full:
        f.required(REQUIRED)
    elif not body:
        f.error("name", "nothing to change")
    name = f.text("name", nullable=False)
    if isinstance(name, str) and _EMOJI.search(name):
        f.error("name", "must not contain emoji")
    unit = f.text("unit", max_len=3, nullable=False)
    if isinstance(unit, str) and unit not in UNIT_CODES:
        f.error("unit", "must be a UN/ECE Recommendation 20 unit code (e.g. H87, HUR, C62)")
    values = {
        "name": name,
        "unit": unit,
        "tax": f.decimal("tax", minimum=Decimal(0), maximum=Decimal(100), places=2, nullable=False),
        "code": f.text("code", max_len=100),
        "description": f.text("description", max_len=2000),
        "price": f.decimal("price"),
        "cost": f.decimal("cost", minimum=Decimal(0)),
        "inventoryCount": f.integer("inventoryCount"),
        "time": f.decimal("time", minimum=Decimal(0)),
        "estimate": f.decimal("estimate", minimum=Decimal(0)),
        "buyerAssignedID": f.text("buyerAssignedID"),
        "globalID": _sub_object(f, "globalID", {"id": True, "schemeId": True}, {"schemeId": _ICD}),
        "additionalReferencedDocument": _sub_object(
            f,
            "additionalReferencedDocument",
            {"id": True, "typeCode": False, "description": False, "uri": False},
            {},
        ),
    }
    f.done()
    return {k: v for k, v in values.items() if v is not ABSENT}


def _product(request: web.Request) -> Product:
    pid = request.match_info["id"]
    product = _state(request).by_id.get(pid) if _UUID.fullmatch(pid) else None
    if product is None:
        raise http_error(404, "no product with this id")
    return product


def _check_code(state: ProductsState, values: dict[str, Any], own: Product | None = None) -> None:
    code = values.get("code")
    holder = state.with_code(code) if code else None
    if holder is not None and holder is not own:
        raise ApiError(
            409,
            "DUPLICATE_PRODUCT_CODE",
            f"product code {code} is used by another product",
            [{"field": "code", "message": "is already used"}],
        )


async def list_products(request: web.Request) -> web.Response:
    sort = choice_query(request, "sort", SORTS, "createdAt")
    order = choice_query(request, "order", ("asc", "desc"), "asc")
    keyword = request.query.get("keyword", "").strip().casefold()
    code = request.query.get("code")
    items = []
    for product in _state(request).by_id.values():
        data = product.data
        if code is not None and data.get("code") != code:
            continue
        texts = (str(data.get(k) or "").casefold() for k in ("name", "code", "description"))
        if keyword and not any(keyword in text for text in texts):
            continue
        items.append(product)
    items.sort(key=lambda p: p.sort_key(sort), reverse=order == "desc")
    return paginate(request, items, as_json=Product.to_json)


async def create_product(request: web.Request) -> web.Response:
    values = check(await body_object(request, "a product"), full=True)
    state = _state(request)
    _check_code(state, values)
    state.seq += 1
    now = utcnow()
    data = {k: v for k, v in values.items() if v is not None}
    product = Product(str(uuid.uuid4()), state.seq, data, now, now)
    state.by_id[product.id] = product
    app_state(request).webhooks.notify(
        tenant(request), "productCreate", product.id, "created", product.to_json()
    )
    return json_response(product.to_json(), 201)


async def get_product(request: web.Request) -> web.Response:
    return json_response(_product(request).to_json())


async def update_product(request: web.Request) -> web.Response:
    product = _product(request)
    values = check(await body_object(request, "product fields to change"), full=False)
    _check_code(_state(request), values, product)
    for name, value in values.items():
        if value is None:
            product.data.pop(name, None)
        else:
            product.data[name] = value
    product.updated_at = utcnow()
    return json_response(product.to_json())


async def delete_product(request: web.Request) -> web.Response:
    product = _product(request)
    del _state(request).by_id[product.id]
    return json_response({"succeed": True})


async def valid_code(request: web.Request) -> web.Response:
    code = request.query.get("code", "")
    if not code.strip():
        raise bad_request("code is required", [{"field": "code", "message": "is required"}])
    return json_response({"succeed": _state(request).with_code(code) is None})


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    """Register this area's routes under ``prefix`` (``/api/v1`` or ``/api/v2``)."""
    router.add_get(f"{prefix}/products", list_products)
    router.add_post(f"{prefix}/product", create_product)
    router.add_get(f"{prefix}/product/valid-code", valid_code)
    base = prefix + "/product/{id}"
    router.add_get(base, get_product)
    router.add_patch(base, update_product)
    router.add_delete(base, delete_product)
