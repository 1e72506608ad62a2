"""``client.customers``: the account's customers (``/customers``, ``/customer/{id}``) and the CSV import.

Updates follow faktoora's full-body PATCH rule (API.md: the body carries every required field; omitted
optional fields are kept): :meth:`Customers.update` sends the required fields the caller gave and
fills the others in from the current record (one GET, only when some are missing, or when a
``postcode`` comes without the ``country`` its rule depends on), plus exactly the optional fields given
(``None`` clears one).
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping, Sequence
from typing import Any

import anyio

from .. import errors
from .._raw import raw_method
from ..models import Succeeded
from ..models._checks import build, wire_fields
from ..models.customers import CUSTOMER_REQUIRED, Customer, CustomerImport, CustomerInput, CustomerNumber
from ..pagination import AsyncPaginator
from ..protocol import customers as proto
from ..protocol.records import struct_body
from ._base import DEFAULT_PER_PAGE, PathLike, Resource
from ._csv import check_customer_csv

__all__ = ["Customers", "CustomersWithRawResponse"]


class Customers(Resource):
    """Customers: list, get, create, update, delete, numbers and the CSV import."""

    @property
    def with_raw_response(self) -> CustomersWithRawResponse:
        return CustomersWithRawResponse(self)

    def list(
        self,
        *,
        sort: str | None = None,
        order: str | None = None,
        category: str | None = None,
        keywords: Sequence[str] | str | None = None,
        relation_fields: Sequence[str] | str | None = None,
        page: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> AsyncPaginator[Customer]:
        """Matching customers: a customer matches when every keyword occurs in one of ``relation_fields``
        (the server's default fields when not given).  ``sort`` is one of
        :data:`~faktoora_async.models.customers.CUSTOMER_SORT_FIELDS`."""
        params = proto.filters(
            sort=sort, order=order, category=category, keywords=keywords, relation_fields=relation_fields
        )
        return self._paginate(lambda n, size: proto.list_page(params, n, size), Customer, page, per_page)

    async def get(self, customer_id: str) -> Customer:
        return await self._r.request(proto.get(customer_id), Customer)

    async def create(
        self, customer: CustomerInput | Mapping[str, Any] | None = None, **fields: Any
    ) -> Customer:
        """Create a customer from a :class:`CustomerInput`, a mapping, or keyword fields (snake_case or
        camelCase); a bad field raises FieldValidationError before anything is sent."""
        body = build(CustomerInput, customer if customer is not None else {}, "customer", **fields)
        return await self._r.request(proto.create(struct_body(body)), Customer)

    async def update(self, customer_id: str, /, **fields: Any) -> Customer:
        """Change the fields given (snake_case or camelCase; ``None`` clears an optional field).

        faktoora wants the required fields (isCompany, address, postcode, city, extras) in every PATCH:
        the ones not given are taken from the current record, read with one GET just before (a change
        made by someone else in between to those fields would be overwritten by the values read).  A
        ``postcode`` given without ``country`` also costs that GET: the postcode rule depends on the
        stored country.  Give every required field (and ``country`` with a ``postcode``) for one PATCH.
        """
        given = wire_fields(CustomerInput, fields, "customer")
        if not given:
            raise ValueError("update() needs at least one field")
        for name in CUSTOMER_REQUIRED:
            if name in given and given[name] is None:
                raise errors.FieldValidationError(
                    "customer", [errors.FieldError(None, name, f"{name}: is required and cannot be cleared")]
                )
        missing = [name for name in CUSTOMER_REQUIRED if name not in given]
        current: dict[str, Any] = {}
        if missing or ("postcode" in given and "country" not in given):
            current = (await self.get(customer_id)).raw
        merged = {k: v for k, v in given.items() if v is not None}
        for name in missing:
            merged[name] = current.get(name, {} if name == "extras" else None)
        if "country" not in given and current.get("country") is not None:
            merged["country"] = current["country"]  # the postcode rule depends on it; not sent
        checked = build(CustomerInput, merged, "customer")
        send = set(CUSTOMER_REQUIRED) | {k for k, v in given.items() if v is not None}
        nulls = [k for k, v in given.items() if v is None]
        body = struct_body(checked, only=send, nulls=nulls)
        return await self._r.request(proto.update(customer_id, body), Customer)

    async def delete(self, customer_id: str) -> bool:
        """Delete a customer; True when the server confirmed (``{"succeed": true}``)."""
        answer = await self._r.request_optional(proto.delete(customer_id), Succeeded)
        return True if answer is None else answer.succeed

    async def generate_number(self) -> str:
        """A free customer number (``CUST-0042``): a proposal, nothing is reserved."""
        return (await self._r.request(proto.generate_number(), CustomerNumber)).value

    async def verify_number(self, customer_number: str) -> bool:
        """True when ``customer_number`` is free (no customer has it)."""
        return (await self._r.request(proto.verify_number(customer_number), Succeeded)).succeed

    async def upload_csv(self, file: PathLike | bytes, *, filename: str | None = None) -> CustomerImport:
        """Step 1 of an import: upload a CSV (streamed); answers its ``id`` for :meth:`import_uploaded`."""
        if isinstance(file, bytes) and filename is None:
            filename = "customers.csv"
        return await self._r.upload(proto.import_upload(), file, filename=filename, cast_to=CustomerImport)

    async def import_uploaded(self, file_id: str) -> builtins.list[Customer]:
        """Step 2: create the customers of an uploaded CSV, all or none (a bad row is a 400 naming it)."""
        return await self._r.request(proto.import_file(file_id), builtins.list[Customer])

    async def import_csv(self, file: PathLike | bytes, *, check: bool = True) -> builtins.list[Customer]:
        """Import every customer of a CSV in one call (upload, then import): all rows or none.

        Columns are the customer field names (``isCompany``, ``address``, ``postcode``, ``city``, ...;
        ``extras`` as JSON text); the delimiter is ``,`` or ``;``; the first data row is row 1.  With
        ``check`` (the default) every row is checked locally first and a bad one raises
        FieldValidationError naming its row and field before anything is uploaded; the server checks
        again (a customer number taken by a stored customer is only known there) and refuses the whole
        file with a 400 naming the row, so nothing is ever half-created.
        """
        if check:
            data = file if isinstance(file, bytes) else await anyio.to_thread.run_sync(_read, file)
            check_customer_csv(data)
        uploaded = await self.upload_csv(file)
        return await self.import_uploaded(uploaded.id)


def _read(path: PathLike) -> bytes:
    with open(os.fspath(path), "rb") as f:
        return f.read()


class CustomersWithRawResponse:
    """``client.customers.with_raw_response``."""

    def __init__(self, customers: Customers) -> None:
        self.list = raw_method(customers.list)
        self.get = raw_method(customers.get)
        self.create = raw_method(customers.create)
        self.update = raw_method(customers.update)
        self.delete = raw_method(customers.delete)
        self.generate_number = raw_method(customers.generate_number)
        self.verify_number = raw_method(customers.verify_number)
        self.upload_csv = raw_method(customers.upload_csv)
        self.import_uploaded = raw_method(customers.import_uploaded)
        self.import_csv = raw_method(customers.import_csv)
