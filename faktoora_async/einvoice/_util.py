"""Small helpers shared by totals, rules and the renderers (payload access, decimals, dates)."""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0")
ONE = Decimal("1")

_MAX_DECIMAL_CHARS = 40


def to_decimal(value: Any, path: str) -> Decimal:
    """Parse a payload decimal (string or JSON number); raise ``ValueError`` naming ``path``."""
    if type(value) is str and 0 < len(value) <= _MAX_DECIMAL_CHARS:  # fast path: the canonical form
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{path}: {value[:50]!r} is not a decimal number") from None
        if result.is_finite() and abs(result.adjusted()) <= 18:
            return result
        raise ValueError(f"{path}: {value!r} is not a finite number in range")
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{path}: expected a decimal number, got {type(value).__name__}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path}: {value!r} is not a finite number")
        result = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if not text or len(text) > _MAX_DECIMAL_CHARS:
            raise ValueError(f"{path}: {value[:50]!r} is not a decimal number")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{path}: {value[:50]!r} is not a decimal number") from None
    else:
        raise ValueError(f"{path}: expected a decimal number, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{path}: {value!r} is not a finite number")
    if abs(result.adjusted()) > 18:
        raise ValueError(f"{path}: {value!r} is out of range")
    return result


def round2(value: Decimal) -> Decimal:
    """Round to two decimal places, half away from zero (the EN 16931 convention); never ``-0.00``."""
    result = value.quantize(CENT, rounding=ROUND_HALF_UP)
    return result.copy_abs() if result == 0 else result


def plain(value: Decimal) -> str:
    """Format a decimal without exponent or trailing zeros (``2.50`` -> ``2.5``, ``1E+1`` -> ``10``)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def amount(value: Decimal) -> str:
    """Format a money amount with exactly two decimals."""
    return format(round2(value), "f")


def price(value: Decimal) -> str:
    """Format a unit price: at least two decimals, more when the payload has them."""
    if value == round2(value):
        return amount(value)
    return plain(value)


def parse_date(value: Any, path: str) -> _dt.date:
    """Parse a ``YYYYMMDD`` string; raise ``ValueError`` naming ``path``."""
    if not isinstance(value, str) or len(value) != 8 or not value.isdigit() or not value.isascii():
        raise ValueError(f"{path}: expected a date as YYYYMMDD, got {str(value)[:30]!r}")
    try:
        return _dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise ValueError(f"{path}: {value!r} is not a valid calendar date") from None


def checked_date(value: Any, path: str) -> str | None:
    """A date the renderers compute with (periods, BT-26): ``YYYYMMDD``, else ValueError naming ``path``."""
    day = text(value)
    if day is not None:
        parse_date(day, path)
    return day


def text(value: Any) -> str | None:
    """A payload string stripped (numbers become strings); ``None`` for absent, empty or non-text values."""
    if type(value) is str:  # fast path
        return value.strip() or None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    return None


def raw_text(value: Any) -> str | None:
    """A payload string as is (line breaks kept, e.g. XRechnung Skonto lines), ``None`` when blank."""
    if isinstance(value, str):
        return value if value.strip() else None
    return text(value)


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty mapping."""
    return value if isinstance(value, Mapping) else {}


def sequence(value: Any) -> Sequence[Any]:
    """``value`` when it is a list/tuple, else an empty tuple."""
    return value if isinstance(value, (list, tuple)) else ()


def vat_tax(product: Mapping[str, Any]) -> tuple[int, Mapping[str, Any]] | None:
    """The first VAT entry of ``product["taxes"]`` (``typeCode`` ``VAT`` or absent) and its index."""
    for index, tax in enumerate(sequence(product.get("taxes"))):
        if isinstance(tax, Mapping) and (text(tax.get("typeCode")) or "VAT").upper() == "VAT":
            return index, tax
    return None


def type_code(invoice: Mapping[str, Any]) -> str:
    """BT-3 as a string (default ``380``)."""
    return text(invoice.get("invoiceTypeCode")) or "380"


def payment_means_code(invoice: Mapping[str, Any]) -> str:
    """BT-81: the payload's ``paymentMeansCode``, else ``59`` (SEPA direct debit) with ``directDebit``,
    else ``58`` (SEPA credit transfer) when the seller has an IBAN, else ``1``."""
    explicit = text(invoice.get("paymentMeansCode"))
    if explicit:
        return explicit
    if isinstance(invoice.get("directDebit"), Mapping):
        return "59"
    return "58" if text(mapping(invoice.get("seller")).get("iban")) else "1"


DIRECT_DEBIT_CODES = frozenset({"59", "49"})
"""Payment means codes that mean a direct debit (BG-19 instead of the credit transfer BG-17)."""


def iso_date(value: str) -> str:
    """A payload ``YYYYMMDD`` date as ISO ``YYYY-MM-DD`` (UBL); anything else as is."""
    try:
        return parse_date(value, "date").isoformat()
    except ValueError:
        return value
