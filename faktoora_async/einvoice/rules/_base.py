"""The pre-flight checker's shared parts: :class:`Violation`, field constants, the checker base."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .._util import _MAX_DECIMAL_CHARS, parse_date, text, to_decimal

__all__ = ["CheckerBase", "Violation", "clean_decimal", "kind"]

_INT_LIMIT = 10**19  # ``to_decimal`` takes an int whose Decimal has an adjusted exponent of at most 18

_FORMATS = frozenset({"xrechnung", "zf:2", "zf:1"})
_FACTURX = frozenset({"zf:2", "zf:1"})  # formats that embed CII (zf:1 is refused anyway)
_SCHEMAS = ("CII", "UBL")
_LEGACY_UBL = "xrechnung:ubl"
# category -> (prefix of its rule ids, human name)
_CATEGORY_RULES = {
    "S": ("BR-S", "Standard rated"),
    "Z": ("BR-Z", "Zero rated"),
    "E": ("BR-E", "Exempt from VAT"),
    "AE": ("BR-AE", "Reverse charge"),
    "K": ("BR-IC", "Intra-community supply"),
    "G": ("BR-G", "Export outside the EU"),
    "O": ("BR-O", "Not subject to VAT"),
    "L": ("BR-AF", "IGIC (Canary Islands)"),
    "M": ("BR-AG", "IPSI (Ceuta and Melilla)"),
}
_RATE_CATEGORIES = ("S", "L", "M")  # their rate is a real rate, no exemption reason allowed
_DE16_CATEGORIES = frozenset({"S", "Z", "E", "AE", "K", "G", "L", "M"})
_STRING_FIELDS = (
    "invoiceNumber",
    "issueDate",
    "currency",
    "buyerReference",
    "dueDate",
    "paymentTerms",
    "note",
    "precedingInvoiceNumber",
    "deliveryDate",
    "format",
    "schema",
    "projectReference",
    "contractReference",
    "purchaseOrderReference",
    "buyerAccountingReference",
    "precedingInvoiceDate",
    "remittanceInformation",
    "taxCurrency",
)
_PARTY_FIELDS = (
    "name",
    "street",
    "postcode",
    "city",
    "country",
    "vatId",
    "taxId",
    "legalRegistrationId",
    "email",
    "phone",
    "contactName",
    "electronicAddress",
    "electronicAddressScheme",
    "iban",
    "bic",
    "bankName",
)
_ADDRESS_FIELDS = ("name", "street", "postcode", "city", "country")
_PRODUCT_STRINGS = ("productId", "name", "description", "unitCode")
_TAX_STRINGS = ("typeCode", "categoryCode", "exemptionReason", "exemptionReasonCode")


@dataclass(frozen=True)
class Violation:
    """One broken rule: official rule id (or ``FAKTOORA-*``), JSON path of the field, message."""

    rule_id: str
    path: str
    message: str


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float, Decimal)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


def clean_decimal(value: Any) -> Decimal | None:
    """``value`` as a Decimal when it is a decimal string (or int) that ``to_decimal`` takes as it is.

    ``None`` for anything else (not a string, too long, not a finite number in range): the caller then
    runs the full check, which says what is wrong.  The fast checks' test of a decimal field.
    """
    if type(value) is not str:
        # a JSON integer of at most 19 digits: what ``to_decimal`` accepts of an int
        return Decimal(value) if type(value) is int and -_INT_LIMIT < value < _INT_LIMIT else None
    if not 0 < len(value) <= _MAX_DECIMAL_CHARS:
        return None
    try:
        result = Decimal(value)
    except InvalidOperation:
        return None
    if result.is_finite() and -18 <= result.adjusted() <= 18:
        return result
    return None


class CheckerBase:
    """State and helpers every rule family uses; the rule families are mixins over this base."""

    def __init__(self, invoice: Mapping[str, Any], path: str, xrechnung: bool) -> None:
        self.inv = invoice
        self.path = path
        self.xr = xrechnung
        self.out: list[Violation] = []
        self._seen: set[tuple[str, str]] = set()
        self.invoice_period: tuple[str | None, str | None] = (None, None)  # BG-14, set before the lines
        self.rate_keys: dict[int, Decimal | None] = {}  # id(tax) -> the rate of its VAT breakdown group
        # the indices of the lines that are not plain JSON of the line model's exact types (None: the lines
        # are not a list): a plain line is a dict of exactly ``id`` (a str) and ``product``, a dict that the
        # common line's pass takes (no price details; one VAT entry whose ``typeCode`` is "VAT" or absent)
        self.other_lines: list[int] | None = None
        self.syntax = "ubl" if text(invoice.get("schema")) == "UBL" else "cii"
        # without a seller faktoora uses the account's company profile: nothing to check about it
        self.has_seller = invoice.get("seller") is not None

    # ------------------------------------------------------------------ helpers
    def add(self, rule_id: str, field: str, message: str) -> None:
        path = f"{self.path}.{field}" if field else self.path
        if (rule_id, path) not in self._seen:  # one violation per rule and field
            self._seen.add((rule_id, path))
            self.out.append(Violation(rule_id, path, message))

    def string_fields(self, obj: Mapping[str, Any], fields: Iterable[str], prefix: str) -> None:
        """FAKTOORA-TYPE for each of ``fields`` that is given but not a string."""
        if type(obj) is dict:
            for value in obj.values():  # the common object: every value a string, nothing to report
                if type(value) is not str:
                    break
            else:
                return
        for name in fields:
            value = obj.get(name)
            if value is not None and type(value) is not str and not isinstance(value, str):
                self.add("FAKTOORA-TYPE", f"{prefix}{name}", f"expected a string, got {kind(value)}")

    def decimal_at(self, value: Any, prefix: str, name: str) -> Decimal | None:
        """:meth:`decimal` of ``prefix.name``, building the path only for a violation (the hot path)."""
        try:
            return to_decimal(value, name)
        except ValueError as exc:
            self.add("FAKTOORA-DECIMAL", f"{prefix}.{name}", str(exc).split(": ", 1)[1])
            return None

    # implemented by the rule families (mixins); declared here so each family can call the others
    def prices(self, product: Mapping[str, Any], p: str, price: Decimal | None) -> None:
        raise NotImplementedError

    def line_allowances(self, item: Mapping[str, Any], p: str) -> None:
        raise NotImplementedError

    def line_period(
        self, item: Mapping[str, Any], p: str, invoice_period: tuple[str | None, str | None]
    ) -> None:
        raise NotImplementedError

    def obj(self, value: Any, field: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.add("FAKTOORA-TYPE", field, f"expected an object, got {kind(value)}")
            return {}
        return value

    def date(self, field: str) -> None:
        value = self.inv.get(field)
        if isinstance(value, str) and value.strip():
            try:
                parse_date(value.strip(), field)
            except ValueError as exc:
                self.add("FAKTOORA-DATE", field, str(exc).split(": ", 1)[1])

    def two_decimals(self, value: Decimal | None, field: str, rule: str, term: str) -> None:
        """BR-DEC-*: an amount the payload gives must fit in 2 decimals (the renderers would round it)."""
        if value is None or not value.is_finite():
            return
        exponent = value.as_tuple().exponent
        digits = value.as_tuple().digits
        while isinstance(exponent, int) and exponent < -2 and digits and digits[-1] == 0:
            digits, exponent = digits[:-1], exponent + 1  # trailing zeros ("5.000") lose nothing
        if isinstance(exponent, int) and exponent < -2:
            self.add(rule, field, f"The allowed maximum number of decimals for the {term} is 2.")

    def decimal(self, value: Any, field: str) -> Decimal | None:
        try:
            return to_decimal(value, field)
        except ValueError as exc:
            self.add("FAKTOORA-DECIMAL", field, str(exc).split(": ", 1)[1])
            return None
