"""The local check of a customer CSV before it is uploaded: every row as a :class:`CustomerInput`.

The format (API.md v2 and the sandbox's decisions): UTF-8 (a BOM is fine), ``,`` or ``;`` as the
delimiter (read from the header line), the customer field names as columns, ``isCompany`` as
true/false/1/0/yes/no, ``extras`` as JSON text (empty = ``{}``), an empty cell = the field is absent.
Rows are numbered from 1 for the first row after the header (blank lines are skipped and not
counted); every row has as many cells as the header; a customer number (``customerId``) used by an
earlier row makes a row bad too.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import msgspec

from ..errors import FieldError, FieldValidationError
from ..models.customers import CUSTOMER_REQUIRED, CustomerInput

__all__ = ["MAX_REPORTED", "check_customer_csv", "read_customer_csv"]

MAX_REPORTED = 50  # bad rows reported in one error (the first is always named in the message)
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
_COLUMNS = frozenset(f.encode_name for f in msgspec.structs.fields(CustomerInput))


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FieldValidationError(
            "customer CSV", [FieldError(None, None, f"the file is not UTF-8 (byte {exc.start})")]
        ) from None


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def _cell(column: str, value: str) -> Any:
    if column == "isCompany":
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        return value  # CustomerInput names the field and the bad value
    if column == "extras":
        try:
            parsed = json.loads(value)
        except ValueError:
            return value  # "must be an object"
        return parsed
    return value


def read_customer_csv(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and ``(row number, cells)`` of every data row (blank lines skipped, not counted)."""
    text = _text(data)
    try:
        records = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)) if any(r)]
    except csv.Error as exc:
        raise FieldValidationError(
            "customer CSV", [FieldError(None, None, f"unreadable CSV: {exc}")]
        ) from None
    if not records:
        raise FieldValidationError("customer CSV", [FieldError(None, None, "the file is empty")])
    header = [name.strip() for name in records[0]]
    return header, list(enumerate(records[1:], start=1))


def _header_errors(header: list[str]) -> list[FieldError]:
    out = [
        FieldError(None, name or f"column {i + 1}", f"header: unknown column {name!r}")
        for i, name in enumerate(header)
        if name not in _COLUMNS
    ]
    out += [FieldError(None, name, f"header: column {name!r} given twice")
            for i, name in enumerate(header) if name in header[:i]]  # fmt: skip
    out += [FieldError(None, name, f"header: required column {name!r} missing")
            for name in CUSTOMER_REQUIRED if name not in header]  # fmt: skip
    return out


def _fields_of(header: list[str], cells: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for column, raw in zip(header, cells, strict=True):
        value = raw.strip()
        if column == "extras":
            fields[column] = _cell(column, value) if value else {}
        elif value:
            fields[column] = _cell(column, value)
    return fields


def _row_errors(number: int, header: list[str], cells: list[str], seen: dict[str, int]) -> list[FieldError]:
    index = number - 1
    if len(cells) != len(header):
        return [
            FieldError(index, None, f"row {number}: has {len(cells)} cells, the header has {len(header)}")
        ]
    fields = _fields_of(header, cells)
    try:
        CustomerInput(**_as_kwargs(fields))
    except FieldValidationError as exc:
        return [FieldError(index, e.field, f"row {number}: {e.message}") for e in exc.errors]
    except TypeError as exc:  # a required cell empty in this row
        missing = [name for name in CUSTOMER_REQUIRED if name not in fields]
        return [FieldError(index, name, f"row {number}: {name}: is required") for name in missing] or [
            FieldError(index, None, f"row {number}: {exc}")
        ]
    number_used = fields.get("customerId")
    if isinstance(number_used, str):
        if number_used in seen:
            message = f"row {number}: customerId: {number_used!r} is used by row {seen[number_used]}"
            return [FieldError(index, "customerId", message)]
        seen[number_used] = number
    return []


_ATTRS = {f.encode_name: f.name for f in msgspec.structs.fields(CustomerInput)}


def _as_kwargs(fields: dict[str, Any]) -> dict[str, Any]:
    return {_ATTRS[k]: v for k, v in fields.items() if k in _ATTRS}


def check_customer_csv(data: bytes) -> int:
    """Check every row; returns the number of customers, or raises FieldValidationError naming the first
    bad row (``.row``) and its fields (``.errors``, ``index`` = row - 1; up to 50 bad rows listed)."""
    header, rows = read_customer_csv(data)
    header_problems = _header_errors(header)
    if header_problems:
        raise FieldValidationError("customer CSV", header_problems)
    problems: list[FieldError] = []
    first_bad: int | None = None
    bad_rows = 0
    seen: dict[str, int] = {}
    for number, cells in rows:
        found = _row_errors(number, header, cells, seen)
        if found:
            first_bad = number if first_bad is None else first_bad
            bad_rows += 1
            if bad_rows <= MAX_REPORTED:
                problems.extend(found)
    if problems:
        raise FieldValidationError("customer CSV", problems, row=first_bad)
    if not rows:
        raise FieldValidationError("customer CSV", [FieldError(None, None, "the file has no customer rows")])
    return len(rows)
