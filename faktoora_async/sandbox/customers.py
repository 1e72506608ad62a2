"""Customers of a sandbox tenant: the field rules (API.md v2, ``/docs/customers``) and the CSV import.

A customer is a JSON object with the required fields ``isCompany`` (bool), ``address`` (street),
``postcode`` (DE: 5 digits, AT/CH: 4), ``city`` and ``extras`` (object, may be ``{}``) and the optional
fields of :data:`OPTIONAL`; answers add ``id`` (UUID), ``createdAt`` and ``updatedAt``.  :func:`check`
returns one ``{"field", "message"}`` per problem.

CSV import (:func:`parse_csv`, :func:`csv_rows`): UTF-8 (a BOM is fine), comma or semicolon separated
(whichever the header line has more of), a header row of field names, then one customer per row.  Rows are
numbered from 1 for the first row after the header (the header does not count; blank lines are skipped
and not counted).  Empty cells are absent fields; ``isCompany`` is true/false/1/0/yes/no, ``extras`` JSON
object text (empty: ``{}``).
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from ._fields import ABSENT, Fields
from .store import utcnow

__all__ = [
    "FIELDS",
    "OPTIONAL",
    "REQUIRED",
    "SEARCHABLE",
    "SORTS",
    "CsvFile",
    "Customer",
    "CustomersState",
    "check",
    "csv_rows",
    "parse_csv",
]

REQUIRED = ("isCompany", "address", "postcode", "city", "extras")
OPTIONAL = (
    "name",
    "firstName",
    "lastName",
    "email",
    "phoneNo",
    "country",
    "vatId",
    "taxId",
    "customerId",
    "category",
    "peppolId",
    "routeId",
    "supplierNumber",
    "invoiceProfile",
)
FIELDS = REQUIRED + OPTIONAL
READ_ONLY = ("id", "createdAt", "updatedAt")
SORTS = (
    "customerId",
    "name",
    "nameAuthorisedSignatory",
    "address",
    "phoneNo",
    "category",
    "isCompany",
    "email",
    "faktooraId",
    "vatId",
    "taxId",
    "invoiceProfile",
    "supplierNumber",
    "routeId",
    "peppolId",
    "createdAt",
    "updatedAt",
)
"""``sort`` values of ``GET /customers`` (faktoora's list; ``faktooraId`` sorts by ``id``)."""
SEARCHABLE = tuple(name for name in FIELDS if name not in ("isCompany", "extras"))
"""Fields ``relationFields[]`` may name (every text field)."""
DEFAULT_SEARCH = ("name", "firstName", "lastName", "email", "customerId", "address", "city", "vatId")
MAX_CSV_ROWS = 100_000
MAX_ROW_ERRORS = 100

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"[0-9+()/ .-]{3,50}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_POSTCODE_4 = re.compile(r"\d{4}")
_POSTCODE_5 = re.compile(r"\d{5}")
_POSTCODE_OTHER = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]{1,9}")
_VAT_ID = re.compile(r"[A-Z]{2}[A-Za-z0-9+*.]{2,13}")
_PEPPOL = re.compile(r"\d{4}:[^\s:]{1,100}")
_LEITWEG = re.compile(r"\d{2,12}(-[A-Za-z0-9]{1,30})?-\d{2}")
_TRUE = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def check(body: dict[str, Any], *, full: bool = True, prefix: str = "") -> tuple[dict[str, Any], list[Any]]:
    """``(values, errors)`` of a customer body: ``values`` holds every given field (None = clear it).

    Required fields must be present (create and PATCH alike: API.md's full-body rule).
    """
    f = Fields(body, prefix=prefix, what="customer")
    f.only(FIELDS, READ_ONLY)
    if full:
        f.required(REQUIRED)
    values: dict[str, Any] = {
        "isCompany": f.boolean("isCompany"),
        "address": f.text("address", nullable=False),
        "city": f.text("city", max_len=100, nullable=False),
        "extras": f.obj("extras", nullable=False),
        "name": f.text("name"),
        "firstName": f.text("firstName"),
        "lastName": f.text("lastName"),
        "email": f.text("email", max_len=254, pattern=_EMAIL, hint="must be an e-mail address"),
        "phoneNo": f.text("phoneNo", max_len=50, pattern=_PHONE, hint="must be a phone number"),
        "country": f.text("country", max_len=2, pattern=_COUNTRY, hint="must be ISO 3166-1 alpha-2 (DE)"),
        "vatId": f.text("vatId", max_len=15, pattern=_VAT_ID, hint="must be a VAT id such as DE123456789"),
        "taxId": f.text("taxId", max_len=30),
        "customerId": f.text("customerId", max_len=100),
        "category": f.text("category", max_len=100),
        "peppolId": f.text("peppolId", max_len=105, pattern=_PEPPOL, hint="must be <scheme>:<id>"),
        "routeId": f.text("routeId", max_len=46, pattern=_LEITWEG, hint="must be a Leitweg-ID"),
        "supplierNumber": f.text("supplierNumber", max_len=100),
        "invoiceProfile": f.text("invoiceProfile", max_len=100),
    }
    country = values["country"] if isinstance(values["country"], str) else "DE"
    values["postcode"] = _postcode(f, country)
    return {k: v for k, v in values.items() if v is not ABSENT}, f.errors


def _postcode(f: Fields, country: str) -> Any:
    value = f.text("postcode", max_len=10, nullable=False)
    if not isinstance(value, str):
        if "postcode" in f.body and isinstance(f.body["postcode"], int):
            f.errors[-1]["message"] = "must be a string (leading zeros count)"
        return value
    rule = {"DE": (_POSTCODE_5, "5 digits"), "AT": (_POSTCODE_4, "4 digits"), "CH": (_POSTCODE_4, "4 digits")}
    pattern, hint = rule.get(country, (_POSTCODE_OTHER, "2-10 letters, digits, spaces or dashes"))
    if not pattern.fullmatch(value):
        f.error("postcode", f"must be {hint} for country {country}")
        return ABSENT
    return value


@dataclass(eq=False)
class Customer:
    id: str
    seq: int
    data: dict[str, Any]
    created_at: str
    updated_at: str

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, **self.data}
        out.setdefault("country", "DE")
        out["createdAt"], out["updatedAt"] = self.created_at, self.updated_at
        return out

    def sort_key(self, name: str) -> tuple[Any, ...]:
        if name == "faktooraId":
            return (0, self.id)
        if name in ("createdAt", "updatedAt"):
            return (0, self.created_at if name == "createdAt" else self.updated_at, self.seq)
        value = self.to_json().get(name)
        if value is None:
            return (1, "", self.seq)
        return (0, str(value).casefold() if not isinstance(value, bool) else str(int(value)), self.seq)


@dataclass(eq=False)
class CsvFile:
    """An uploaded customer CSV (header and data rows); ``imported``: the ids its import created."""

    id: str
    header: list[str]
    rows: list[list[str]]
    imported: list[str] | None = None


@dataclass(eq=False)
class CustomersState:
    """One tenant's customers and uploaded CSV files."""

    by_id: dict[str, Customer] = field(default_factory=dict)
    files: dict[str, CsvFile] = field(default_factory=dict)
    seq: int = 0

    def numbers(self) -> dict[str, Customer]:
        return {str(c.data["customerId"]): c for c in self.by_id.values() if c.data.get("customerId")}

    def add(self, values: dict[str, Any]) -> Customer:
        self.seq += 1
        now = utcnow()
        data = {k: v for k, v in values.items() if v is not None}
        customer = Customer(str(uuid.uuid4()), self.seq, data, now, now)
        self.by_id[customer.id] = customer
        return customer

    def update(self, customer: Customer, values: dict[str, Any]) -> None:
        for name, value in values.items():
            if value is None:
                customer.data.pop(name, None)
            else:
                customer.data[name] = value
        customer.updated_at = utcnow()

    def next_number(self) -> str:
        """``CUST-`` + at least 4 digits: the first free number after the highest ``CUST-n`` in use."""
        taken = self.numbers()
        highest = 0
        for number in taken:
            match = re.fullmatch(r"CUST-(\d{1,12})", number)
            if match:
                highest = max(highest, int(match.group(1)))
        n = highest + 1
        while f"CUST-{n:04d}" in taken:
            n += 1
        return f"CUST-{n:04d}"


class CsvError(ValueError):
    """A CSV that cannot be read at all; ``errors`` are ``{"field", "message"}``."""

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.errors = errors


def parse_csv(data: bytes) -> tuple[list[str], list[list[str]]]:
    """``(header, rows)`` of an uploaded customer CSV; :class:`CsvError` when it cannot be read."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvError(
            "the CSV is not UTF-8", [{"field": "file", "message": f"not UTF-8 ({exc.reason})"}]
        ) from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        records = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if any(r)]
    except csv.Error as exc:
        raise CsvError(f"unreadable CSV: {exc}", [{"field": "file", "message": str(exc)}]) from None
    if not records:
        raise CsvError("the CSV is empty", [{"field": "file", "message": "has no header row"}])
    header = [name.strip() for name in records[0]]
    errors = [
        {"field": name or f"column {i + 1}", "message": "unknown column"}
        for i, name in enumerate(header)
        if name not in FIELDS
    ]
    errors += [
        {"field": name, "message": "column given twice"}
        for i, name in enumerate(header)
        if name in header[:i]
    ]
    errors += [
        {"field": name, "message": "required column missing"} for name in REQUIRED if name not in header
    ]
    if errors:
        raise CsvError("the CSV header is not a list of customer fields", errors)
    rows = records[1:]
    if len(rows) > MAX_CSV_ROWS:
        raise CsvError(f"at most {MAX_CSV_ROWS} rows", [{"field": "file", "message": "too many rows"}])
    return header, rows


def _cell_values(header: list[str], cells: list[str]) -> tuple[dict[str, Any], list[Any]]:
    """The customer body of one CSV row, or the errors of its cells that cannot be converted."""
    if len(cells) != len(header):
        return {}, [{"field": "row", "message": f"has {len(cells)} cells, the header has {len(header)}"}]
    body: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for name, raw in zip(header, cells, strict=True):
        value = raw.strip()
        if name == "extras":
            body[name] = _extras(value, errors)
        elif not value:
            continue
        elif name == "isCompany":
            flag = _TRUE.get(value.lower())
            if flag is None:
                errors.append({"field": name, "message": "must be true/false, 1/0 or yes/no"})
            body[name] = flag if flag is not None else value
        else:
            body[name] = value
    return body, errors


def _extras(value: str, errors: list[dict[str, Any]]) -> Any:
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        errors.append({"field": "extras", "message": "must be a JSON object (or empty)"})
        return {}
    return parsed


def csv_rows(upload: CsvFile, taken: set[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(customers, errors)`` of an uploaded CSV; errors carry ``index`` and ``row`` (1 = first data row).

    ``taken`` holds the customer numbers in use; a number used by a stored customer or an earlier row is
    an error of its row.  At most :data:`MAX_ROW_ERRORS` errors are listed.
    """
    customers: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    seen = set(taken)
    for row, cells in enumerate(upload.rows, start=1):
        body, cell_errors = _cell_values(upload.header, cells)
        values, field_errors = check(body) if body else ({}, [])
        named = {error["field"] for error in cell_errors}
        row_errors = cell_errors + [error for error in field_errors if error["field"] not in named]
        number = values.get("customerId")
        if number is not None and not row_errors:
            if number in seen:
                row_errors.append({"field": "customerId", "message": f"{number} is already used"})
            seen.add(number)
        for error in row_errors:
            message = f"row {row}: {error['field']} {error['message']}"
            errors.append({"index": row - 1, "row": row, "field": error["field"], "message": message})
        if len(errors) >= MAX_ROW_ERRORS:
            break
        customers.append(values)
    return customers, errors[:MAX_ROW_ERRORS]
