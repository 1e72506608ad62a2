"""Arithmetic as the official Schematron rules do it, and small helpers every rule module uses."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from ..document import Document, Tax

__all__ = ["HUNDRED", "ONE", "ZERO", "dsum", "is_vat", "round0x", "round2x", "shadowed"]

HUNDRED: Final = Decimal(100)
ONE: Final = Decimal(1)
ZERO: Final = Decimal(0)


def round2x(value: Decimal) -> Decimal:
    """XPath ``round(x * 100) div 100``: halves round towards positive infinity."""
    return (value * HUNDRED + Decimal("0.5")).to_integral_value(rounding="ROUND_FLOOR") / HUNDRED


def round0x(value: Decimal) -> Decimal:
    """XPath ``round(x)``."""
    return (value + Decimal("0.5")).to_integral_value(rounding="ROUND_FLOOR")


def dsum(values: Iterable[Decimal | None]) -> Decimal:
    """The sum of the readable values."""
    return sum((v for v in values if v is not None), ZERO)


def is_vat(type_code: str | None) -> bool:
    """Whether a tax type code is ``VAT`` (any case)."""
    return (type_code or "").upper() == "VAT"


def shadowed(d: Document, tax: Tax) -> bool:
    """In the official CII rules a VAT breakdown with category L, M or O is matched by its category rule
    (BR-AF/BR-AG/BR-O) first, so the generic breakdown rules (BR-45 .. BR-48, BR-CO-17) never run on it."""
    return d.syntax == "cii" and tax.category in ("L", "M", "O") and is_vat(tax.type_code)
