"""``/customers`` and ``/customer/{id}`` (API.md v2, ``/docs/customers``): CRUD, numbers and the CSV import.

- ``GET /customers``: paginated; ``sort`` (:data:`~..customers.SORTS`, default ``createdAt``), ``order``,
  ``category`` (exact), ``keywords[]`` (repeated; a customer matches when every keyword occurs,
  case-insensitively, in one of the ``relationFields[]``, default name, firstName, lastName, email,
  customerId, address, city, vatId).
- ``POST /customer`` -> ``201`` the customer; ``PATCH /customer/{id}``: the body carries every required
  field, omitted optional fields are kept, ``null`` clears one; ``DELETE`` -> ``{"succeed": true}``.
  A ``customerId`` (customer number) another customer has: ``409 DUPLICATE_CUSTOMER_NUMBER``.
- ``GET /customers/generate-number`` -> ``{"value": "CUST-0042"}`` (a preview);
  ``GET /customer/verify-customer-number?customerId=`` -> ``{"succeed": true}`` when the number is free.
- ``POST /customers/import/upload`` (multipart, field ``file``) -> ``201 {"id": "<uuid>"}``;
  ``POST /customers/import {"fileId"}`` -> ``201`` the created customers (a JSON array): all rows or none;
  a bad row is a ``400`` whose ``errors`` carry ``row`` (1 = the first row after the header) and ``field``.
  Importing the same file again answers the same customers and creates nothing.
- Every created customer fires the webhook ``customerCreate`` (``faktooraId`` = its id, metadata = it).
"""

from __future__ import annotations

import re
import uuid
from typing import Any, NoReturn

from aiohttp import web

from .._fields import Fields, body_object, repeated_query
from ..customers import (
    DEFAULT_SEARCH,
    SEARCHABLE,
    SORTS,
    CsvError,
    CsvFile,
    Customer,
    CustomersState,
    check,
    csv_rows,
    parse_csv,
)
from ..errors import ApiError, bad_request, http_error
from ..httputil import app_state, choice_query, json_response, paginate, tenant
from .imports import _read_file_field

__all__ = ["add_routes"]

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
AREA = "customers"


def customers_of(request: web.Request) -> CustomersState:
    """The tenant's customers (other areas use it, e.g. projects' ``customerId``)."""
    return tenant(request).area(AREA, CustomersState)


def _customer(request: web.Request) -> Customer:
    cid = request.match_info["id"]
    customer = customers_of(request).by_id.get(cid) if _UUID.fullmatch(cid) else None
    if customer is None:
        raise http_error(404, "no customer with this id")
    return customer


def _notify(request: web.Request, customer: Customer) -> None:
    app_state(request).webhooks.notify(
        tenant(request), "customerCreate", customer.id, "created", customer.to_json()
    )


def _search_fields(request: web.Request) -> tuple[str, ...]:
    names = repeated_query(request, "relationFields")
    errors = [
        {"field": f"relationFields[{i}]", "message": f"must be one of {', '.join(SEARCHABLE)}"}
        for i, name in enumerate(names)
        if name not in SEARCHABLE
    ]
    if errors:
        raise bad_request("relationFields[] must name customer fields", errors)
    return tuple(names) or DEFAULT_SEARCH


def _matches(customer: Customer, keywords: list[str], fields: tuple[str, ...]) -> bool:
    data = customer.data
    texts = [str(data[name]).casefold() for name in fields if data.get(name) is not None]
    return all(any(word in text for text in texts) for word in keywords)


async def list_customers(request: web.Request) -> web.Response:
    sort = choice_query(request, "sort", SORTS, "createdAt")
    order = choice_query(request, "order", ("asc", "desc"), "asc")
    fields = _search_fields(request)
    keywords = [word.casefold() for word in repeated_query(request, "keywords") if word.strip()]
    category = request.query.get("category")
    items = [
        c
        for c in customers_of(request).by_id.values()
        if (category is None or c.data.get("category") == category) and _matches(c, keywords, fields)
    ]
    items.sort(key=lambda c: c.sort_key(sort), reverse=order == "desc")
    return paginate(request, items, as_json=Customer.to_json)


def _check_number(state: CustomersState, values: dict[str, Any], own: Customer | None = None) -> None:
    number = values.get("customerId")
    holder = state.numbers().get(number) if number else None
    if holder is not None and holder is not own:
        raise ApiError(
            409,
            "DUPLICATE_CUSTOMER_NUMBER",
            f"customer number {number} is used by another customer",
            [{"field": "customerId", "message": "is already used"}],
        )


async def create_customer(request: web.Request) -> web.Response:
    values, errors = check(await body_object(request, "a customer"))
    if errors:
        _raise(errors)
    state = customers_of(request)
    _check_number(state, values)
    customer = state.add(values)
    _notify(request, customer)
    return json_response(customer.to_json(), 201)


def _raise(errors: list[dict[str, Any]]) -> NoReturn:
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    raise bad_request(f"invalid customer: {first['field']} {first['message']}{more}", errors)


async def get_customer(request: web.Request) -> web.Response:
    return json_response(_customer(request).to_json())


async def update_customer(request: web.Request) -> web.Response:
    customer = _customer(request)
    body = await body_object(request, "a customer with every required field")
    values, errors = check(body)
    if errors:
        _raise(errors)
    state = customers_of(request)
    _check_number(state, values, customer)
    state.update(customer, values)
    return json_response(customer.to_json())


async def delete_customer(request: web.Request) -> web.Response:
    customer = _customer(request)
    del customers_of(request).by_id[customer.id]
    return json_response({"succeed": True})


async def generate_number(request: web.Request) -> web.Response:
    return json_response({"value": customers_of(request).next_number()})


async def verify_number(request: web.Request) -> web.Response:
    number = request.query.get("customerId", "")
    if not number.strip():
        raise bad_request("customerId is required", [{"field": "customerId", "message": "is required"}])
    return json_response({"succeed": number not in customers_of(request).numbers()})


async def upload_csv(request: web.Request) -> web.Response:
    data, _ = await _read_file_field(request, app_state(request).config.max_upload_bytes)
    try:
        header, rows = await app_state(request).in_thread(parse_csv, data)
    except CsvError as exc:
        raise bad_request(str(exc), exc.errors) from None
    upload = CsvFile(str(uuid.uuid4()), header, rows)
    customers_of(request).files[upload.id] = upload
    return json_response({"id": upload.id}, 201)


async def import_csv(request: web.Request) -> web.Response:
    fields = Fields(await body_object(request, '{"fileId"}'), what="import")
    fields.only(("fileId",))
    fields.required(("fileId",))
    file_id = fields.text("fileId", max_len=36, nullable=False)
    fields.done()
    state = customers_of(request)
    upload = state.files.get(file_id)
    if upload is None:
        raise http_error(404, "no uploaded customer file with this fileId")
    if upload.imported is not None:
        done = [state.by_id[cid] for cid in upload.imported if cid in state.by_id]
        return json_response([c.to_json() for c in done], 201)
    values, errors = await app_state(request).in_thread(csv_rows, upload, set(state.numbers()))
    if errors:
        more = f" ({len(errors)} problems listed)" if len(errors) > 1 else ""
        raise bad_request(f"{errors[0]['message']}; nothing was imported{more}", errors)
    created = [state.add(v) for v in values]
    upload.imported = [c.id for c in created]
    for customer in created:
        _notify(request, customer)
    return json_response([c.to_json() for c in created], 201)


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    """Register this area's routes under ``prefix`` (``/api/v1`` or ``/api/v2``)."""
    router.add_get(f"{prefix}/customers", list_customers)
    router.add_get(f"{prefix}/customers/generate-number", generate_number)
    router.add_post(f"{prefix}/customers/import/upload", upload_csv)
    router.add_post(f"{prefix}/customers/import", import_csv)
    router.add_post(f"{prefix}/customer", create_customer)
    router.add_get(f"{prefix}/customer/verify-customer-number", verify_number)
    base = prefix + "/customer/{id}"
    router.add_get(base, get_customer)
    router.add_patch(base, update_customer)
    router.add_delete(base, delete_customer)
