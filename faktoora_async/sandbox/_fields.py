"""Field checks of the JSON bodies of the issue-12 areas (API keys, incoming, customers, products, projects).

A :class:`Fields` walks one body: each ``text``/``number``/... call checks one field and records a
``{"field", "message"}`` error naming it (the camelCase field name, or ``prefix + name``), and
:meth:`Fields.done` raises one ``400 BAD_REQUEST`` listing every problem.  The sandbox is exact: unknown
fields are errors.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from .errors import bad_request
from .httputil import read_json
from .validation import parse_yyyymmdd

__all__ = ["ABSENT", "Fields", "body_object", "optional_body", "repeated_query"]

ABSENT: Any = object()
"""Returned for a field the body does not carry."""

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CURRENCY = re.compile(r"[A-Z]{3}")


class Fields:
    """Checks of one body object; ``errors`` collects ``{"field", "message"}`` entries."""

    def __init__(self, body: dict[str, Any], *, prefix: str = "", what: str = "body") -> None:
        self.body = body
        self.prefix = prefix
        self.what = what
        self.errors: list[dict[str, Any]] = []

    def error(self, name: str, message: str) -> None:
        self.errors.append({"field": self.prefix + name, "message": message})

    def only(self, allowed: Collection[str], read_only: Collection[str] = ()) -> None:
        """Every key of the body is one of ``allowed`` (``read_only`` ones get their own message)."""
        for name in self.body:
            if name in read_only:
                self.error(name, "is read-only")
            elif name not in allowed:
                self.error(name, "unknown field")

    def required(self, names: Iterable[str]) -> None:
        """Each of ``names`` is present (``null`` is then refused by the field's own check)."""
        for name in names:
            if name not in self.body:
                self.error(name, "is required")

    def _raw(self, name: str, nullable: bool) -> Any:
        if name not in self.body:
            return ABSENT
        value = self.body[name]
        if value is None and not nullable:
            self.error(name, "must not be null")
            return ABSENT
        return value

    def text(
        self,
        name: str,
        *,
        max_len: int = 255,
        nullable: bool = True,
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
    ) -> Any:
        """A string of 1..``max_len`` characters without control characters (None when nullable)."""
        value = self._raw(name, nullable)
        if value is ABSENT or value is None:
            return value
        if not isinstance(value, str):
            self.error(name, "must be a string")
            return ABSENT
        if not value.strip():
            self.error(name, "must not be empty")
            return ABSENT
        if len(value) > max_len:
            self.error(name, f"must be at most {max_len} characters")
            return ABSENT
        if _CONTROL.search(value):
            self.error(name, "must not contain control characters")
            return ABSENT
        if pattern is not None and not pattern.fullmatch(value):
            self.error(name, hint or "has a wrong format")
            return ABSENT
        return value

    def boolean(self, name: str, *, nullable: bool = False) -> Any:
        value = self._raw(name, nullable)
        if value is ABSENT or value is None:
            return value
        if not isinstance(value, bool):
            self.error(name, "must be true or false")
            return ABSENT
        return value

    def decimal(
        self,
        name: str,
        *,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
        places: int = 6,
        nullable: bool = True,
    ) -> Any:
        """A decimal given as a JSON number or a string (answered as given: ints as ints)."""
        value = self._raw(name, nullable)
        if value is ABSENT or value is None:
            return value
        number = to_decimal(value)
        if number is None:
            self.error(name, "must be a decimal number (a JSON number or a string)")
            return ABSENT
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            self.error(name, f"must have at most {places} decimal places")
            return ABSENT
        if minimum is not None and number < minimum:
            self.error(name, f"must be at least {minimum}")
            return ABSENT
        if maximum is not None and number > maximum:
            self.error(name, f"must be at most {maximum}")
            return ABSENT
        return value if isinstance(value, int) else number

    def integer(self, name: str, *, minimum: int | None = None, nullable: bool = True) -> Any:
        value = self._raw(name, nullable)
        if value is ABSENT or value is None:
            return value
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**53:
            self.error(name, "must be an integer")
            return ABSENT
        if minimum is not None and value < minimum:
            self.error(name, f"must be at least {minimum}")
            return ABSENT
        return value

    def choice(self, name: str, allowed: Collection[str], *, nullable: bool = False) -> Any:
        value = self._raw(name, nullable)
        if value is ABSENT or value is None:
            return value
        if not isinstance(value, str) or value not in allowed:
            self.error(name, f"must be one of {', '.join(allowed)}")
            return ABSENT
        return value

    def yyyymmdd(self, name: str, *, nullable: bool = True) -> Any:
        value = self._raw(name, nullable)
        if value is ABSENT or value is None:
            return value
        if not isinstance(value, str) or parse_yyyymmdd(value) is None:
            self.error(name, "must be a date YYYYMMDD")
            return ABSENT
        return value

    def currency(self, name: str, *, nullable: bool = True) -> Any:
        return self.text(name, max_len=3, nullable=nullable, pattern=_CURRENCY, hint="must be ISO 4217 (EUR)")

    def obj(self, name: str, *, nullable: bool = True) -> Any:
        value = self._raw(name, nullable)
        if value is ABSENT or value is None:
            return value
        if not isinstance(value, dict):
            self.error(name, "must be an object")
            return ABSENT
        return value

    def done(self, message: str | None = None) -> None:
        """Raise ``400 BAD_REQUEST`` with every recorded error (none: return)."""
        if self.errors:
            first = self.errors[0]
            summary = message or f"invalid {self.what}: {first['field']} {first['message']}"
            if len(self.errors) > 1 and message is None:
                summary += f" (and {len(self.errors) - 1} more)"
            raise bad_request(summary, self.errors)


def to_decimal(value: Any) -> Decimal | None:
    """A finite Decimal of a JSON number or numeric string (at most 30 digits before the point)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal)):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(str(value))
    elif isinstance(value, str) and 0 < len(value) <= 40:
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    if not number.is_finite() or (number and number.adjusted() > 30):
        return None
    return number


async def body_object(request: web.Request, what: str) -> dict[str, Any]:
    """The JSON object body of ``request`` (400 when it is not an object)."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise bad_request(f"body must be a JSON object ({what})")
    return body


async def optional_body(request: web.Request, what: str) -> dict[str, Any]:
    """Like :func:`body_object`, but an empty body is ``{}``."""
    if not request.can_read_body:
        return {}
    raw = await request.read()
    if not raw.strip():
        return {}
    return await body_object(request, what)


def repeated_query(request: web.Request, name: str) -> list[str]:
    """Every value of a repeated query parameter, given as ``name`` or ``name[]``."""
    return [*request.query.getall(name, []), *request.query.getall(name + "[]", [])]
