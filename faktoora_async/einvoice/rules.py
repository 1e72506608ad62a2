"""Pre-flight checks of faktoora payload invoices against EN 16931 and XRechnung 3.0 business rules.

:func:`check_invoice` returns *every* violation it finds (never raises, whatever the input), each with
the official rule id and the JSON path of the offending field, e.g.
``Violation("BR-S-05", "invoices[3].invoiceItems[2].product.taxes[0].rate", "...")``.

For a payload the renderers (:mod:`~faktoora_async.einvoice.cii`, :mod:`~faktoora_async.einvoice.ubl`)
can render, every official rule id reported here is also reported by the official Schematron for the
rendered document (tests check this).  Ids starting with ``FAKTOORA-`` are payload-level problems that the
Schematron cannot see because the XML Schema or the renderer would reject them first:

* ``FAKTOORA-TYPE``: a field has the wrong JSON type (object/list/string/number/bool expected);
* ``FAKTOORA-DECIMAL``: a quantity, price or rate is not a finite decimal number;
* ``FAKTOORA-DATE``: a date is not a valid ``YYYYMMDD`` calendar date;
* ``FAKTOORA-FORMAT``: ``format`` is not one of ``xrechnung``, ``xrechnung:ubl``, ``zf:2``, ``zf:1``.

Implemented EN 16931 rules:

* mandatory content: BR-02 (invoiceNumber), BR-03 (issueDate), BR-06/BR-07 (seller/buyer name),
  BR-09/BR-11 (seller/buyer country), BR-16 (at least one line), BR-22 (quantity), BR-25 (item name),
  BR-26 (price), BR-27 (price not negative), BR-57 (deliver-to country), BR-62/BR-63 (electronic address
  scheme), BR-CO-04 (line VAT category), BR-CO-26 (seller VAT id or legal registration id), BR-CO-09
  (VAT id country prefix), BR-61 (UBL) / CII-SR-470 (CII): account identifier for credit transfer (the
  id depends on the syntax the payload's ``format`` selects);
* code lists: BR-CL-01 (type code), BR-CL-04 (currency), BR-CL-14 (country codes), BR-CL-16 (payment
  means), BR-CL-18 (VAT category), BR-CL-22 (VATEX), BR-CL-23 (unit code), BR-CL-25 (EAS scheme);
* VAT categories: BR-S-02/05/10, BR-Z-02/05/10, BR-E-02/05/10, BR-AE-02/05/10, BR-IC-02/05/10/11/12
  (category K), BR-G-02/05/10, BR-O-02/05/10/11/12, BR-AF-02/05/10 (L), BR-AG-02/05/10 (M), BR-B-01/02.

Implemented XRechnung 3.0 rules (only with ``xrechnung=True``): BR-DE-2 (seller contact), BR-DE-3/4
(seller city/post code), BR-DE-5/6/7 (contact name/phone/e-mail), BR-DE-8/9 (buyer city/post code),
BR-DE-10/11 (deliver-to city/post code), BR-DE-15 (buyer reference), BR-DE-16 (seller VAT id or tax
number), BR-DE-18 (Skonto lines in payment terms), BR-DE-23-a (credit transfer needs an IBAN),
BR-DE-24-a (card payment information cannot be expressed in the payload), BR-DE-25-a (direct debit
information cannot be expressed), PEPPOL-EN16931-R010/R020 (buyer/seller electronic address).

The payload carries no totals, so BR-CO-10 ... BR-CO-17 cannot be violated by a payload: the renderers
compute them (:func:`~faktoora_async.einvoice.totals.compute_totals`).  BR-CO-25 (due date or payment
terms when an amount is due) is not checked because the shipped Schematron does not implement it.
Warnings and information-level rules (BR-DE-17, BR-DE-19, BR-DE-26/27/28, BR-DE-TMP-32) are not reported.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from faktoora_async.einvoice import codes
from faktoora_async.einvoice._util import (
    ZERO,
    parse_date,
    payment_means_code,
    text,
    to_decimal,
)

__all__ = ["Violation", "check_invoice", "check_invoices"]

logger = logging.getLogger("faktoora_async.einvoice.rules")

_FORMATS = frozenset({"xrechnung", "xrechnung:ubl", "zf:2", "zf:1"})
_SKONTO = re.compile(
    r"(^|\r?\n)#(SKONTO)#TAGE=([0-9]+#PROZENT=[0-9]+\.[0-9]{2})(#BASISBETRAG=-?[0-9]+\.[0-9]{2})?#$"
)
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


def _kind(value: Any) -> str:
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


class _Checker:
    def __init__(self, invoice: Mapping[str, Any], path: str, xrechnung: bool) -> None:
        self.inv = invoice
        self.path = path
        self.xr = xrechnung
        self.out: list[Violation] = []
        self.rate_keys: dict[int, Decimal | None] = {}  # id(tax) -> the rate of its VAT breakdown group
        fmt = text(invoice.get("format"))
        self.syntax = "ubl" if fmt == "xrechnung:ubl" else "cii"

    # ------------------------------------------------------------------ helpers
    def add(self, rule_id: str, field: str, message: str) -> None:
        self.out.append(Violation(rule_id, f"{self.path}.{field}" if field else self.path, message))

    def string_fields(self, obj: Mapping[str, Any], fields: Iterable[str], prefix: str) -> None:
        for name in fields:
            value = obj.get(name)
            if value is not None and not isinstance(value, str):
                self.add("FAKTOORA-TYPE", f"{prefix}{name}", f"expected a string, got {_kind(value)}")

    def obj(self, value: Any, field: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.add("FAKTOORA-TYPE", field, f"expected an object, got {_kind(value)}")
            return {}
        return value

    def date(self, field: str) -> None:
        value = self.inv.get(field)
        if isinstance(value, str) and value.strip():
            try:
                parse_date(value.strip(), field)
            except ValueError as exc:
                self.add("FAKTOORA-DATE", field, str(exc).split(": ", 1)[1])

    def decimal(self, value: Any, field: str) -> Decimal | None:
        try:
            return to_decimal(value, field)
        except ValueError as exc:
            self.add("FAKTOORA-DECIMAL", field, str(exc).split(": ", 1)[1])
            return None

    # ------------------------------------------------------------------ checks
    def run(self) -> list[Violation]:
        inv = self.inv
        self.string_fields(inv, _STRING_FIELDS, "")
        for flag in ("draftOnly", "reviewMode", "validate"):
            value = inv.get(flag)
            if value is not None and not isinstance(value, bool):
                self.add("FAKTOORA-TYPE", flag, f"expected true or false, got {_kind(value)}")
        for name in ("invoiceTypeCode", "paymentMeansCode"):
            value = inv.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
                self.add("FAKTOORA-TYPE", name, f"expected a string code, got {_kind(value)}")
        fmt = inv.get("format")
        if isinstance(fmt, str) and fmt.strip() and fmt.strip() not in _FORMATS:
            self.add("FAKTOORA-FORMAT", "format", f"unknown format {fmt[:40]!r}, expected {sorted(_FORMATS)}")

        if text(inv.get("invoiceNumber")) is None:
            self.add("BR-02", "invoiceNumber", "An Invoice shall have an Invoice number (BT-1).")
        if text(inv.get("issueDate")) is None:
            self.add("BR-03", "issueDate", "An Invoice shall have an Invoice issue date (BT-2).")
        for field in ("issueDate", "dueDate", "deliveryDate"):
            self.date(field)
        type_code = text(inv.get("invoiceTypeCode"))
        if type_code is not None and type_code not in codes.TYPE_CODES_EN16931:
            self.add(
                "BR-CL-01", "invoiceTypeCode", f"{type_code[:20]!r} is not an UNTDID 1001 invoice type code."
            )
        currency = text(inv.get("currency"))
        if currency is not None and currency not in codes.CURRENCIES:
            self.add("BR-CL-04", "currency", f"{currency[:20]!r} is not an ISO 4217 currency code.")
        if self.xr and text(inv.get("buyerReference")) is None:
            self.add("BR-DE-15", "buyerReference", "XRechnung needs the Buyer reference (BT-10, Leitweg-ID).")

        seller = self.obj(inv.get("seller"), "seller")
        buyer = self.obj(inv.get("buyer"), "buyer")
        self.party(seller, "seller")
        self.party(buyer, "buyer")
        ship_to = inv.get("shipTo")
        if ship_to is not None:
            self.ship_to(self.obj(ship_to, "shipTo"), ship_to)
        delivery = inv.get("delivery")
        if delivery is not None:
            delivery_obj = self.obj(delivery, "delivery")
            self.string_fields(delivery_obj, ("type", "recipient"), "delivery.")

        categories = self.lines(seller)
        self.categories(categories, seller, buyer)
        self.payment(seller)
        return self.out

    def party(self, party: Mapping[str, Any], role: str) -> None:
        self.string_fields(party, _PARTY_FIELDS, f"{role}.")
        seller = role == "seller"
        name = text(party.get("name"))
        if name is None:
            rule = "BR-06" if seller else "BR-07"
            self.add(rule, f"{role}.name", f"An Invoice shall contain the {role.title()} name.")
        country = text(party.get("country"))
        if country is None:
            rule = "BR-09" if seller else "BR-11"
            self.add(
                rule, f"{role}.country", f"The {role.title()} postal address shall contain a country code."
            )
        elif country not in codes.COUNTRIES:
            self.add("BR-CL-14", f"{role}.country", f"{country[:20]!r} is not an ISO 3166-1 alpha-2 code.")
        vat_id = text(party.get("vatId"))
        prefix = (vat_id or "")[:2]
        if vat_id is not None and not _vat_prefix_ok(prefix, self.syntax):
            self.add(
                "BR-CO-09",
                f"{role}.vatId",
                f"VAT identifier must start with an ISO 3166-1 country prefix, not {prefix!r}.",
            )
        address = text(party.get("electronicAddress"))
        scheme = text(party.get("electronicAddressScheme"))
        if address is not None:
            if scheme is None and "@" not in address:
                rule = "BR-62" if seller else "BR-63"
                self.add(
                    rule,
                    f"{role}.electronicAddressScheme",
                    "The electronic address needs a scheme (e.g. EM).",
                )
            elif scheme is not None and scheme not in codes.EAS_CODES:
                self.add(
                    "BR-CL-25",
                    f"{role}.electronicAddressScheme",
                    f"{scheme[:20]!r} is not a CEF EAS scheme code.",
                )
        elif self.xr:
            rule = "PEPPOL-EN16931-R020" if seller else "PEPPOL-EN16931-R010"
            self.add(
                rule, f"{role}.electronicAddress", f"{role.title()} electronic address MUST be provided."
            )
        if not self.xr:
            return
        if seller:
            if text(party.get("city")) is None:
                self.add("BR-DE-3", "seller.city", "XRechnung needs the Seller city (BT-37).")
            if text(party.get("postcode")) is None:
                self.add("BR-DE-4", "seller.postcode", "XRechnung needs the Seller post code (BT-38).")
            contact = [text(party.get(k)) for k in ("contactName", "phone", "email")]
            if not any(contact):
                self.add("BR-DE-2", "seller.contactName", "XRechnung needs the SELLER CONTACT group (BG-6).")
            else:
                for value, key, rule, what in zip(
                    contact,
                    ("contactName", "phone", "email"),
                    ("BR-DE-5", "BR-DE-6", "BR-DE-7"),
                    ("contact point (BT-41)", "contact telephone number (BT-42)", "contact e-mail (BT-43)"),
                    strict=True,
                ):
                    if value is None:
                        self.add(rule, f"seller.{key}", f"XRechnung needs the Seller {what}.")
        else:
            if text(party.get("city")) is None:
                self.add("BR-DE-8", "buyer.city", "XRechnung needs the Buyer city (BT-52).")
            if text(party.get("postcode")) is None:
                self.add("BR-DE-9", "buyer.postcode", "XRechnung needs the Buyer post code (BT-53).")

    def ship_to(self, ship_to: Mapping[str, Any], raw: Any) -> None:
        if not isinstance(raw, Mapping):
            return
        self.string_fields(ship_to, _ADDRESS_FIELDS, "shipTo.")
        country = text(ship_to.get("country"))
        if country is None:
            self.add(
                "BR-57", "shipTo.country", "Each Deliver to address shall contain a country code (BT-80)."
            )
        elif country not in codes.COUNTRIES:
            self.add("BR-CL-14", "shipTo.country", f"{country[:20]!r} is not an ISO 3166-1 alpha-2 code.")
        if self.xr and text(ship_to.get("city")) is None:
            self.add("BR-DE-10", "shipTo.city", "XRechnung needs the Deliver to city (BT-77).")
        if self.xr and text(ship_to.get("postcode")) is None:
            self.add("BR-DE-11", "shipTo.postcode", "XRechnung needs the Deliver to post code (BT-78).")

    def lines(self, seller: Mapping[str, Any]) -> dict[str, list[tuple[str, Mapping[str, Any]]]]:
        """Check the lines; return category -> [(tax path, tax object)] for the invoice-wide checks."""
        found: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
        items = self.inv.get("invoiceItems")
        if items is not None and not isinstance(items, (list, tuple)):
            self.add("FAKTOORA-TYPE", "invoiceItems", f"expected a list, got {_kind(items)}")
            items = None
        if not items:
            self.add("BR-16", "invoiceItems", "An Invoice shall have at least one Invoice line (BG-25).")
            return found
        for i, item in enumerate(items):
            p = f"invoiceItems[{i}]"
            if not isinstance(item, Mapping):
                self.add("FAKTOORA-TYPE", p, f"expected an object, got {_kind(item)}")
                continue
            line_id = item.get("id")
            if line_id is not None and (isinstance(line_id, bool) or not isinstance(line_id, (str, int))):
                self.add("FAKTOORA-TYPE", f"{p}.id", f"expected a string, got {_kind(line_id)}")
            product = item.get("product")
            if not isinstance(product, Mapping):
                self.add("FAKTOORA-TYPE", f"{p}.product", f"expected an object, got {_kind(product)}")
                continue
            self.line(product, f"{p}.product", found)
        return found

    def line(
        self, product: Mapping[str, Any], p: str, found: dict[str, list[tuple[str, Mapping[str, Any]]]]
    ) -> None:
        self.string_fields(product, _PRODUCT_STRINGS, f"{p}.")
        if text(product.get("name")) is None:
            self.add("BR-25", f"{p}.name", "Each Invoice line shall contain the Item name (BT-153).")
        price = None
        if product.get("quantity") is None:
            self.add("BR-22", f"{p}.quantity", "Each Invoice line shall have an Invoiced quantity (BT-129).")
        else:
            self.decimal(product.get("quantity"), f"{p}.quantity")
        if product.get("price") is None:
            self.add("BR-26", f"{p}.price", "Each Invoice line shall contain the Item net price (BT-146).")
        else:
            price = self.decimal(product.get("price"), f"{p}.price")
            if price is not None and price < 0:
                self.add("BR-27", f"{p}.price", "The Item net price (BT-146) shall NOT be negative.")
        unit = text(product.get("unitCode"))
        if unit is not None and unit not in codes.UNIT_CODES:
            self.add("BR-CL-23", f"{p}.unitCode", f"{unit[:20]!r} is not a UN/ECE Rec 20/21 unit code.")

        taxes = product.get("taxes")
        if taxes is not None and not isinstance(taxes, (list, tuple)):
            self.add("FAKTOORA-TYPE", f"{p}.taxes", f"expected a list, got {_kind(taxes)}")
            taxes = None
        vat: tuple[int, Mapping[str, Any]] | None = None
        for k, tax in enumerate(taxes or ()):
            if not isinstance(tax, Mapping):
                self.add("FAKTOORA-TYPE", f"{p}.taxes[{k}]", f"expected an object, got {_kind(tax)}")
                continue
            self.string_fields(tax, _TAX_STRINGS, f"{p}.taxes[{k}].")
            if vat is None and (text(tax.get("typeCode")) or "VAT").upper() == "VAT":
                vat = (k, tax)
        if vat is None:
            self.add("BR-CO-04", f"{p}.taxes", "Each Invoice line shall have a VAT category code (BT-151).")
            return
        k, tax = vat
        tp = f"{p}.taxes[{k}]"
        raw_rate = tax.get("rate")
        rate = None if raw_rate is None else self.decimal(raw_rate, f"{tp}.rate")
        self.rate_keys[id(tax)] = ZERO if raw_rate is None else rate
        category = text(tax.get("categoryCode"))
        if category is None:
            self.add(
                "BR-CO-04", f"{tp}.categoryCode", "Each Invoice line shall have a VAT category code (BT-151)."
            )
            return
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

    def categories(
        self,
        found: Mapping[str, Sequence[tuple[str, Mapping[str, Any]]]],
        seller: Mapping[str, Any],
        buyer: Mapping[str, Any],
    ) -> None:
        seller_vat = text(seller.get("vatId")) is not None
        seller_tax = text(seller.get("taxId")) is not None
        buyer_vat = text(buyer.get("vatId")) is not None
        buyer_legal = text(buyer.get("legalRegistrationId")) is not None
        if "B" in found:
            self.split_payment(found)
        self.vatex(found)
        for category, taxes in found.items():
            rules = _CATEGORY_RULES.get(category)
            if rules is None:
                continue
            prefix, name = rules
            if category in ("S", "Z", "E", "L", "M") and not (seller_vat or seller_tax):
                self.add(
                    f"{prefix}-02", "seller.vatId", f"{name} lines need the Seller VAT id or tax number."
                )
            if category == "G" and not seller_vat:
                self.add("BR-G-02", "seller.vatId", "Export outside the EU lines need the Seller VAT id.")
            if category == "AE":
                if not (seller_vat or seller_tax):
                    self.add("BR-AE-02", "seller.vatId", "Reverse charge lines need the Seller VAT id.")
                if not (buyer_vat or buyer_legal):
                    self.add("BR-AE-02", "buyer.vatId", "Reverse charge lines need the Buyer VAT id.")
            if category == "K":
                if not seller_vat:
                    self.add(
                        "BR-IC-02", "seller.vatId", "Intra-community supply lines need the Seller VAT id."
                    )
                if not buyer_vat:
                    self.add("BR-IC-02", "buyer.vatId", "Intra-community supply lines need the Buyer VAT id.")
                if text(self.inv.get("deliveryDate")) is None:
                    self.add(
                        "BR-IC-11", "deliveryDate", "Intra-community supply needs the Actual delivery date."
                    )
                ship_to = self.inv.get("shipTo")
                if not isinstance(ship_to, Mapping) or text(ship_to.get("country")) is None:
                    self.add(
                        "BR-IC-12", "shipTo.country", "Intra-community supply needs the Deliver to country."
                    )
            if category == "O":
                if seller_vat:
                    self.add(
                        "BR-O-02",
                        "seller.vatId",
                        "Not subject to VAT invoices shall not carry a Seller VAT id.",
                    )
                if buyer_vat:
                    self.add(
                        "BR-O-02",
                        "buyer.vatId",
                        "Not subject to VAT invoices shall not carry a Buyer VAT id.",
                    )
                others = [(c, t) for c, ts in found.items() if c != "O" for t in ts]
                if others:
                    self.add("BR-O-11", f"{others[0][1][0]}.categoryCode", "O shall not share an invoice.")
                    for _c, (tp, _tax) in others:
                        self.add(
                            "BR-O-12", f"{tp}.categoryCode", "A Not subject to VAT invoice: only O lines."
                        )
            self.exemption(category, prefix, name, taxes)
        if self.xr and set(found) & _DE16_CATEGORIES and not (seller_vat or seller_tax):
            self.add(
                "BR-DE-16", "seller.vatId", "XRechnung needs the Seller VAT id or tax number (BT-31/BT-32)."
            )
        if not seller_vat and text(seller.get("legalRegistrationId")) is None:
            self.add(
                "BR-CO-26", "seller.vatId", "The Seller needs a VAT id or a legal registration id (BT-30)."
            )

    def split_payment(self, found: Mapping[str, Sequence[tuple[str, Mapping[str, Any]]]]) -> None:
        """BR-B-01 (only Italian addresses) and BR-B-02 (no Standard rated lines) for category B."""
        for field in ("seller", "buyer", "shipTo"):
            party = self.inv.get(field)
            country = text(party.get("country")) if isinstance(party, Mapping) else None
            if country is not None and country != "IT":
                self.add(
                    "BR-B-01",
                    f"{field}.country",
                    "A Split payment invoice shall be a domestic Italian invoice.",
                )
        for tp, _tax in found.get("S", ()):
            self.add(
                "BR-B-02",
                f"{tp}.categoryCode",
                "A Split payment invoice shall not contain Standard rated lines.",
            )

    def vatex(self, found: Mapping[str, Sequence[tuple[str, Mapping[str, Any]]]]) -> None:
        """BR-CL-22 on the code each VAT breakdown group gets: the first code of its lines."""
        for taxes in found.values():
            seen: set[Any] = set()
            for tp, tax in taxes:
                key = self.rate_keys.get(id(tax))
                code = text(tax.get("exemptionReasonCode"))
                if code is None or key in seen:
                    continue
                seen.add(key)
                if code not in codes.VATEX_CODES:
                    self.add("BR-CL-22", f"{tp}.exemptionReasonCode", f"{code[:30]!r} is not a VATEX code.")

    def exemption(
        self, category: str, prefix: str, name: str, taxes: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> None:
        # The breakdown of a (category, rate) group takes the first reason text/code of its lines.
        groups: dict[Any, list[tuple[str, Mapping[str, Any]]]] = {}
        for tp, tax in taxes:
            groups.setdefault(self.rate_keys.get(id(tax)), []).append((tp, tax))
        for members in groups.values():
            has_reason = [
                (
                    tp,
                    text(tax.get("exemptionReason")) is not None
                    or text(tax.get("exemptionReasonCode")) is not None,
                )
                for tp, tax in members
            ]
            if category in (*_RATE_CATEGORIES, "Z"):
                for tp, has in has_reason:
                    if has:
                        self.add(
                            f"{prefix}-10",
                            f"{tp}.exemptionReason",
                            f"{name} shall not have an exemption reason.",
                        )
            elif not any(has for _tp, has in has_reason):
                self.add(
                    f"{prefix}-10",
                    f"{members[0][0]}.exemptionReason",
                    f"{name} needs an exemption reason or code.",
                )

    def payment(self, seller: Mapping[str, Any]) -> None:
        code = payment_means_code(self.inv)
        if code not in codes.PAYMENT_MEANS:
            self.add("BR-CL-16", "paymentMeansCode", f"{code[:20]!r} is not an UNCL 4461 payment means code.")
        iban = text(seller.get("iban"))
        if code in codes.PAYMENT_MEANS_CREDIT_TRANSFER and iban is None:
            # the same requirement has a different id in each syntax's rules
            rule = "BR-61" if self.syntax == "ubl" else "CII-SR-470"
            self.add(rule, "seller.iban", "Credit transfer needs the Payment account identifier (BT-84).")
            if self.xr:
                self.add(
                    "BR-DE-23-a", "seller.iban", "XRechnung: credit transfer needs CREDIT TRANSFER (BG-17)."
                )
        if self.xr and code in codes.PAYMENT_MEANS_CARD:
            self.add("BR-DE-24-a", "paymentMeansCode", "Card payment information (BG-18) cannot be sent.")
        if self.xr and code in codes.PAYMENT_MEANS_DIRECT_DEBIT:
            self.add("BR-DE-25-a", "paymentMeansCode", "Direct debit information (BG-19) cannot be sent.")
        terms = self.inv.get("paymentTerms")
        if self.xr and isinstance(terms, str) and not _skonto_ok(terms):
            self.add("BR-DE-18", "paymentTerms", "Skonto lines must read #SKONTO#TAGE=n#PROZENT=n.nn#.")


def _vat_prefix_ok(prefix: str, syntax: str) -> bool:
    """BR-CO-09 as each syntax's rules test it: CII looks the 2-character prefix up in the list, UBL
    tests whether it is a substring of the space-separated list (so a 1-character prefix may pass)."""
    if syntax == "cii" or len(prefix) == 2:
        return prefix in codes.VAT_ID_PREFIXES or (syntax == "ubl" and " " in prefix)
    return " " in prefix or any(prefix in code for code in codes.VAT_ID_PREFIXES)


def _skonto_ok(terms: str) -> bool:
    lines = [line for line in re.split(r"\r?\n", terms.replace("\r\n", "\n")) if line.strip().startswith("#")]
    if not lines:
        return True
    if not all(_SKONTO.search(" ".join(line.split())) for line in lines):
        return False
    tail = re.split(r"#[^\n\r]+#", terms)[-1]
    return re.match(r"^\s*\n", tail) is not None


def check_invoice(invoice: Any, *, path: str = "invoices[0]", xrechnung: bool = True) -> list[Violation]:
    """Every EN 16931 (and, with ``xrechnung``, XRechnung 3.0) violation of one payload invoice."""
    if not isinstance(invoice, Mapping):
        return [Violation("FAKTOORA-TYPE", path, f"expected an invoice object, got {_kind(invoice)}")]
    try:
        return _Checker(invoice, path, xrechnung).run()
    except Exception as exc:  # defensive: pre-flight checks must never raise on garbage input
        logger.exception("check_invoice failed on %s", path)
        return [Violation("FAKTOORA-TYPE", path, f"invoice could not be checked: {type(exc).__name__}")]


def check_invoices(invoices: Any, *, xrechnung: bool = True) -> list[Violation]:
    """Check a list of invoices (or ``{"invoices": [...]}``); paths are ``invoices[i]....``."""
    if isinstance(invoices, Mapping) and "invoices" in invoices:
        invoices = invoices["invoices"]
    if not isinstance(invoices, (list, tuple)):
        return [Violation("FAKTOORA-TYPE", "invoices", f"expected a list of invoices, got {_kind(invoices)}")]
    result: list[Violation] = []
    for index, invoice in enumerate(invoices):
        result.extend(check_invoice(invoice, path=f"invoices[{index}]", xrechnung=xrechnung))
    return result
