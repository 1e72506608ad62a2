"""Pre-flight rules on the invoice lines (BG-25) and their VAT entries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from .. import codes
from .._util import ZERO, text
from ._base import (
    _CATEGORY_RULES,
    _PRODUCT_STRINGS,
    _TAX_STRINGS,
    CheckerBase,
    clean_decimal,
    kind,
)

__all__ = ["LineChecks"]

_PRICE_KEYS = frozenset({"grossPrice", "priceDiscount", "priceBaseQuantity", "priceBaseQuantityUnitCode"})
# the keys a plain common line's product and VAT entry may have: each one's value is type-checked below
_PLAIN_PRODUCT_KEYS = frozenset(
    {"name", "productId", "description", "unitCode", "quantity", "price", "taxes"}
)
_PLAIN_TAX_KEYS = frozenset({"typeCode", "categoryCode", "rate", "exemptionReason", "exemptionReasonCode"})
_LINE_ID_TYPES = frozenset({str, int, type(None)})
_UNIT_CODES = codes.UNIT_CODES
_VAT_CATEGORIES = codes.VAT_CATEGORIES
# the categories whose rate must be 0 (or absent) on a line: every ruled one but S, L, M and O (BR-*-05)
_ZERO_RATE_CATEGORIES = frozenset(_CATEGORY_RULES) - {"S", "L", "M", "O"}
# an unsigned string of at most 19 characters that is decimal digits but for one "." is a Decimal that
# ``to_decimal`` takes (finite, adjusted exponent within -18 .. 18); an int the same within +-10**19
_PLAIN_CHARS = 19
_INT_LIMIT = 10**19
_TAX_PATHS: list[str] = []  # see _tax_paths
_TAX_PATHS_KEPT = 1000
_RATE_FITS: dict[tuple[str, Any], Decimal] = {}  # (category, raw rate: an exact str or int) -> its rate key
_RATE_FITS_KEPT = 512


def _common_lines(
    items: Sequence[Any],
    start: int,
    rates: dict[str | int, Decimal],
    found: dict[str, list[tuple[str, Mapping[str, Any]]]],
    rate_keys: dict[int, Decimal | None],
    paths: Sequence[str],
) -> int:
    """Take the plain common lines from ``start`` on, leaving their traces; the index of the first other.

    A line is taken only when :meth:`LineChecks.line` would report nothing for it: a dict of exactly
    ``id`` (a str) and ``product``, plain JSON (exact types), no price details, unsigned decimals of at
    most 19 characters, known codes without spaces, one VAT entry (``typeCode`` "VAT" or absent) whose
    rate fits its category.  The product and its VAT entry have no keys but the ones tested here, so a
    line taken is JSON data already, every key and value of an exact JSON type (the send path relies on
    it: ``preflight.check(..., share_lines=True)`` sends such lines without copying them).  Every test
    is at least as strict as the full check's, and a line taken leaves the same traces (its VAT entry
    under its category, in line order, and its rate key) as the full check would.  Any other line stops
    the pass: the caller checks it in full and calls again after it.
    ``rates`` memoises the rates (strings, ints) of one invoice; ``paths`` holds each line's tax path.

    Longer than 80 lines because it is the pre-flight's hot loop: every field test is written out in one
    flat pass (a helper per field would add a Python call per field of every line).
    """
    for i in range(start, len(items)):
        item = items[i]
        if type(item) is not dict or len(item) != 2 or type(item.get("id")) is not str:
            return i
        product = item.get("product")
        if type(product) is not dict or not _PLAIN_PRODUCT_KEYS.issuperset(product):
            return i
        get = product.get
        name = get("name")
        if type(name) is not str or not name or name.isspace():  # blank: what text() makes None
            return i
        value = get("productId")
        if value is not None and type(value) is not str:
            return i
        value = get("description")
        if value is not None and type(value) is not str:
            return i
        value = get("unitCode")
        if value is not None and (type(value) is not str or value not in _UNIT_CODES):
            return i
        value = get("quantity")
        if type(value) is str:
            if not (0 < len(value) <= _PLAIN_CHARS and value.replace(".", "", 1).isdecimal()):
                return i
        elif type(value) is not int or not -_INT_LIMIT < value < _INT_LIMIT:
            return i
        value = get("price")  # unsigned: never negative (BR-27)
        if type(value) is str:
            if not (0 < len(value) <= _PLAIN_CHARS and value.replace(".", "", 1).isdecimal()):
                return i
        elif type(value) is not int or not 0 <= value < _INT_LIMIT:
            return i
        taxes = get("taxes")
        if type(taxes) is not list or len(taxes) != 1 or type(taxes[0]) is not dict:
            return i
        tax = taxes[0]
        if not _PLAIN_TAX_KEYS.issuperset(tax):
            return i
        get = tax.get
        value = get("typeCode")
        if value is None:
            if "typeCode" in tax:  # exactly "VAT" (a str) or absent
                return i
        elif type(value) is not str or value != "VAT":
            return i
        category = get("categoryCode")
        if type(category) is not str or category not in _VAT_CATEGORIES:
            return i
        value = get("exemptionReason")
        if value is not None and type(value) is not str:
            return i
        value = get("exemptionReasonCode")
        if value is not None and type(value) is not str:
            return i
        value = get("rate")
        exact = type(value)  # the common cases, an exact str or int (never a bool or float: 1 == True)
        rate = _RATE_FITS.get((category, value)) if exact is str or exact is int else None
        if rate is None:
            rate = _fitting_rate(category, value, rates)
            if rate is None:
                return i
        rate_keys[id(tax)] = rate
        entries = found.get(category)
        if entries is None:
            found[category] = entries = []
        entries.append((paths[i], tax))
    return len(items)


def _fitting_rate(category: str, value: Any, rates: dict[str | int, Decimal]) -> Decimal | None:
    """A common line's rate key when its rate (``value``, None: absent) fits its category, else None.

    A (category, rate) pair's verdict is the same in every invoice: the fitting ones are kept (at most
    512), for exact str and int rates only (1 == 1.0 == True: a float or bool never meets an int's verdict).
    """
    if value is None:
        return None if category == "S" or category == "L" or category == "M" else ZERO
    exact = type(value)
    if exact is not str and exact is not int:
        return _judged_rate(category, value, rates)
    key = (category, value)
    rate = _RATE_FITS.get(key)
    if rate is None:
        rate = _judged_rate(category, value, rates)
        if rate is not None and len(_RATE_FITS) < _RATE_FITS_KEPT:
            _RATE_FITS[key] = rate
    return rate


def _judged_rate(category: str, value: Any, rates: dict[str | int, Decimal]) -> Decimal | None:
    """:func:`_fitting_rate` of a given rate, worked out (``rates``: the invoice's memo of rates)."""
    exact = type(value)
    rate = rates.get(value) if exact is str or exact is int else None  # never a bool or float: 1 == True
    if rate is None:
        rate = clean_decimal(value)
        if rate is None:
            return None
        if exact is str or exact is int:
            rates[value] = rate
    if category == "S":
        return rate if rate > ZERO else None
    if category == "L" or category == "M":
        return rate if rate >= ZERO else None
    if (category == "O" or category in _ZERO_RATE_CATEGORIES) and rate != ZERO:
        return None
    return rate


def _tax_paths(count: int) -> list[str]:
    """``invoiceItems[i].product.taxes[0]`` for i < count, made once per index below 1,000 (kept: every
    invoice's lines share them)."""
    if count > len(_TAX_PATHS):
        for index in range(len(_TAX_PATHS), min(count, _TAX_PATHS_KEPT)):
            _TAX_PATHS.append(f"invoiceItems[{index}].product.taxes[0]")
        if count > _TAX_PATHS_KEPT:
            return _TAX_PATHS + [f"invoiceItems[{i}].product.taxes[0]" for i in range(_TAX_PATHS_KEPT, count)]
    return _TAX_PATHS


class LineChecks(CheckerBase):
    """Pre-flight rules on the invoice lines (BG-25) and their VAT entries."""

    def lines(self, seller: Mapping[str, Any]) -> dict[str, list[tuple[str, Mapping[str, Any]]]]:
        """Check the lines; return category -> [(tax path, tax object)] for the invoice-wide checks."""
        found: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
        items = self.inv.get("invoiceItems")
        if items is not None and not isinstance(items, (list, tuple)):
            self.add("FAKTOORA-TYPE", "invoiceItems", f"expected a list, got {kind(items)}")
            items = None
        if not items:
            self.add("BR-16", "invoiceItems", "An Invoice shall have at least one Invoice line (BG-25).")
            return found
        rate_keys = self.rate_keys
        rates: dict[str | int, Decimal] = {}
        others: list[int] = []  # the lines that are not plain (see ``CheckerBase.other_lines``)
        paths = _tax_paths(len(items))
        i = _common_lines(items, 0, rates, found, rate_keys, paths)
        while i < len(items):  # the common lines in one cheap pass; any other line takes the full check
            self._other_line(i, items[i], found)
            others.append(i)
            i = _common_lines(items, i + 1, rates, found, rate_keys, paths)
        if type(items) is list:
            self.other_lines = others
        return found

    def _other_line(self, i: int, item: Any, found: dict[str, list[tuple[str, Mapping[str, Any]]]]) -> None:
        """The full check of a line that is not a plain common one."""
        p = f"invoiceItems[{i}]"
        if not isinstance(item, Mapping):
            self.add("FAKTOORA-TYPE", p, f"expected an object, got {kind(item)}")
            return
        line_id = item.get("id")
        if line_id is not None and (isinstance(line_id, bool) or not isinstance(line_id, (str, int))):
            self.add("FAKTOORA-TYPE", f"{p}.id", f"expected a string, got {kind(line_id)}")
        product = item.get("product")
        if not isinstance(product, Mapping):
            self.add("FAKTOORA-TYPE", f"{p}.product", f"expected an object, got {kind(product)}")
            return
        price = self.line(product, f"{p}.product", found)
        # the extended terms of the line in the same pass (prices, allowances/charges, period)
        if _PRICE_KEYS.intersection(product):
            self.prices(product, f"{p}.product", price)
        if "allowances" in item or "charges" in item:
            self.line_allowances(item, p)
        if item.get("invoicingPeriod") is not None:
            self.line_period(item, p, self.invoice_period)

    def line(
        self, product: Mapping[str, Any], p: str, found: dict[str, list[tuple[str, Mapping[str, Any]]]]
    ) -> Decimal | None:
        """Check one product and its VAT entry; returns its net price (BT-146) when readable."""
        self.string_fields(product, _PRODUCT_STRINGS, f"{p}.")
        if text(product.get("name")) is None:
            self.add("BR-25", f"{p}.name", "Each Invoice line shall contain the Item name (BT-153).")
        price = None
        if product.get("quantity") is None:
            self.add("BR-22", f"{p}.quantity", "Each Invoice line shall have an Invoiced quantity (BT-129).")
        else:
            self.decimal_at(product.get("quantity"), p, "quantity")
        if product.get("price") is None:
            self.add("BR-26", f"{p}.price", "Each Invoice line shall contain the Item net price (BT-146).")
        else:
            price = self.decimal_at(product.get("price"), p, "price")
            if price is not None and price < 0:
                self.add("BR-27", f"{p}.price", "The Item net price (BT-146) shall NOT be negative.")
        unit = text(product.get("unitCode"))
        if unit is not None and unit not in codes.UNIT_CODES:
            self.add("BR-CL-23", f"{p}.unitCode", f"{unit[:20]!r} is not a UN/ECE Rec 20/21 unit code.")

        taxes = product.get("taxes")
        if taxes is not None and not isinstance(taxes, (list, tuple)):
            self.add("FAKTOORA-TYPE", f"{p}.taxes", f"expected a list, got {kind(taxes)}")
            taxes = None
        vat: tuple[int, Mapping[str, Any]] | None = None
        for k, tax in enumerate(taxes or ()):
            if not isinstance(tax, Mapping):
                self.add("FAKTOORA-TYPE", f"{p}.taxes[{k}]", f"expected an object, got {kind(tax)}")
                continue
            self.string_fields(tax, _TAX_STRINGS, f"{p}.taxes[{k}].")
            if vat is None and (text(tax.get("typeCode")) or "VAT").upper() == "VAT":
                vat = (k, tax)
        if vat is None:
            self.add("BR-CO-04", f"{p}.taxes", "Each Invoice line shall have a VAT category code (BT-151).")
            return price
        k, tax = vat
        tp = f"{p}.taxes[{k}]"
        raw_rate = tax.get("rate")
        rate = None if raw_rate is None else self.decimal_at(raw_rate, tp, "rate")
        self.rate_keys[id(tax)] = ZERO if raw_rate is None else rate
        category = text(tax.get("categoryCode"))
        if category is None:
            self.add(
                "BR-CO-04", f"{tp}.categoryCode", "Each Invoice line shall have a VAT category code (BT-151)."
            )
            return price
        if category not in codes.VAT_CATEGORIES:
            self.add("BR-CL-18", f"{tp}.categoryCode", f"{category[:20]!r} is not an UNCL 5305 VAT category.")
        found.setdefault(category, []).append((tp, tax))
        rules = _CATEGORY_RULES.get(category)
        if category == "S":
            if raw_rate is None or (rate is not None and rate <= 0):
                self.add("BR-S-05", f"{tp}.rate", "A Standard rated line needs a VAT rate greater than zero.")
        elif category in ("L", "M"):
            # BR-AF-05 wants > 0 in the CII rules but >= 0 in the UBL rules: report what both agree on
            if raw_rate is None or (rate is not None and rate < 0):
                rule = "BR-AF-05" if category == "L" else "BR-AG-05"
                self.add(rule, f"{tp}.rate", "This VAT category needs a VAT rate of zero or more.")
        elif category == "O":
            if rate is not None and rate != 0:
                self.add("BR-O-05", f"{tp}.rate", "A Not subject to VAT line shall not contain a VAT rate.")
        elif rules is not None and rate is not None and rate != 0:
            self.add(f"{rules[0]}-05", f"{tp}.rate", f"A {rules[1]} line needs the VAT rate 0.")
        return price
