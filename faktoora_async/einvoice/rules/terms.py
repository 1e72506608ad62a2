"""Pre-flight rules on the extended EN 16931 terms: prices, periods, references, direct debit, VAT
accounting currency, prepaid and rounding amounts, attachments.

Official ids: BR-28 (gross price), BR-29/BR-30 and BR-CO-19/BR-CO-20 (invoicing periods), BR-55 (preceding
invoice), BR-52 (attachment id), BR-CL-05 (tax currency), BR-CL-24 (MIME code), BR-53 (VAT total in
accounting currency), BR-DEC-15/16/17 (at most 2 decimals in BT-111/113/114); with XRechnung:
PEPPOL-EN16931-R005, R046, R061, R110, R111, R121, R130, BR-DE-22, BR-DE-23-b, BR-DE-24-b, BR-DE-25-a,
BR-DE-30, BR-DE-31.  Payload-level ids: ``FAKTOORA-ATTACHMENT`` (base64, file name, MIME code, size
caps), ``FAKTOORA-DEPENDENCY`` (a field that needs another), ``FAKTOORA-LENGTH`` (a reference longer
than the sandbox takes) and ``FAKTOORA-TAX-CURRENCY`` (a German seller's foreign-currency invoice
without the VAT total in EUR).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .. import codes
from .._util import DIRECT_DEBIT_CODES, parse_date, payment_means_code, text
from ._base import CheckerBase, kind

__all__ = ["ATTACHMENT_LIMITS", "TermChecks"]

ATTACHMENT_LIMITS = {"count": 10, "file_bytes": 2 * 1024 * 1024, "invoice_bytes": 5 * 1024 * 1024}
"""BG-24 caps (docs/PAYLOAD.md): files per invoice, decoded bytes per file, decoded bytes per invoice."""

_DEBIT_FIELDS = ("mandateReference", "creditorId", "debitedAccount")
_TEXT_LIMITS = {  # docs/PAYLOAD.md, and the sandbox's own check (sandbox/_payload_en16931.py)
    "projectReference": 200,
    "contractReference": 200,
    "purchaseOrderReference": 200,
    "buyerAccountingReference": 200,
    "remittanceInformation": 140,
}
_AMOUNT_TERMS = {  # payload amount -> (BR-DEC rule, the term as the official message names it)
    "prepaidAmount": ("BR-DEC-16", "Paid amount (BT-113)"),
    "roundingAmount": ("BR-DEC-17", "Rounding amount (BT-114)"),
}
_ATTACHMENT_STRINGS = ("id", "description", "fileName", "mimeCode", "content", "uri")


class TermChecks(CheckerBase):
    """Pre-flight rules on the extended EN 16931 terms."""

    # ----------------------------------------------------------------------------------- prices
    def prices(self, product: Mapping[str, Any], p: str, price: Decimal | None) -> None:
        """BT-147 .. BT-150 of one line: BR-28, R046, R121, R130, BR-CL-23."""
        gross = (
            None
            if product.get("grossPrice") is None
            else self.decimal(product.get("grossPrice"), f"{p}.grossPrice")
        )
        discount = product.get("priceDiscount")
        discount_value = None if discount is None else self.decimal(discount, f"{p}.priceDiscount")
        if gross is not None and gross < 0:
            self.add("BR-28", f"{p}.grossPrice", "The Item gross price (BT-148) shall NOT be negative.")
        readable = (
            gross is not None and price is not None and (discount is None or discount_value is not None)
        )
        if self.xr and readable and price != (gross or 0) - (discount_value or 0):
            self.add("PEPPOL-EN16931-R046", f"{p}.price", "The net price must equal gross price - discount.")
        base_raw = product.get("priceBaseQuantity")
        base = None if base_raw is None else self.decimal(base_raw, f"{p}.priceBaseQuantity")
        if base is not None and base <= 0:
            rule = "PEPPOL-EN16931-R121" if self.xr else "FAKTOORA-DECIMAL"
            self.add(rule, f"{p}.priceBaseQuantity", "The price base quantity must be greater than zero.")
        unit = text(product.get("priceBaseQuantityUnitCode"))
        if unit is not None:
            if unit not in codes.UNIT_CODES:
                self.add("BR-CL-23", f"{p}.priceBaseQuantityUnitCode", f"{unit[:20]!r} is not a Rec 20 unit.")
            elif self.xr and unit != (text(product.get("unitCode")) or "C62"):
                self.add(
                    "PEPPOL-EN16931-R130",
                    f"{p}.priceBaseQuantityUnitCode",
                    "The unit of the price base quantity must be the unit of the invoiced quantity.",
                )

    # ---------------------------------------------------------------------------------- periods
    def _dates(self, period: Mapping[str, Any], p: str) -> tuple[str | None, str | None]:
        out: list[str | None] = []
        for key in ("startDate", "endDate"):
            value = period.get(key)
            if value is not None and not isinstance(value, str):
                self.add("FAKTOORA-TYPE", f"{p}.{key}", f"expected a YYYYMMDD string, got {kind(value)}")
                out.append(None)
                continue
            day = text(value)
            if day is not None:
                try:
                    parse_date(day, key)
                except ValueError as exc:
                    self.add("FAKTOORA-DATE", f"{p}.{key}", str(exc).split(": ", 1)[1])
                    day = None
            out.append(day)
        return out[0], out[1]

    def period(self, raw: Any, p: str, *, line: bool) -> tuple[str | None, str | None]:
        """BG-14 (``line=False``) or BG-26: BR-29/BR-30 and BR-CO-19/BR-CO-20."""
        if raw is None:
            return None, None
        if not isinstance(raw, Mapping):
            self.add("FAKTOORA-TYPE", p, f"expected an object, got {kind(raw)}")
            return None, None
        start, end = self._dates(raw, p)
        if text(raw.get("startDate")) is None and text(raw.get("endDate")) is None:
            rule = "BR-CO-20" if line else "BR-CO-19"
            self.add(rule, p, "An invoicing period needs a start date, an end date, or both.")
        if start and end and end < start:
            rule = "BR-30" if line else "BR-29"
            self.add(rule, f"{p}.endDate", "The period end date shall be later or equal to the start date.")
        return start, end

    def line_period(
        self, item: Mapping[str, Any], p: str, invoice_period: tuple[str | None, str | None]
    ) -> None:
        start, end = self.period(item.get("invoicingPeriod"), f"{p}.invoicingPeriod", line=True)
        in_scope = self.xr and not (self.syntax == "ubl" and _credit(self.inv))
        if in_scope and start and invoice_period[0] and start < invoice_period[0]:
            self.add(
                "PEPPOL-EN16931-R110",
                f"{p}.invoicingPeriod.startDate",
                "Line period starts before the invoice period.",
            )
        if in_scope and end and invoice_period[1] and end > invoice_period[1]:
            self.add(
                "PEPPOL-EN16931-R111",
                f"{p}.invoicingPeriod.endDate",
                "Line period ends after the invoice period.",
            )

    # ------------------------------------------------------------------------------- references
    def references(self) -> None:
        """BT-26 needs BT-25 (BR-55); BT-11/12/13/19 and BT-83 within the sandbox's lengths."""
        self.date("precedingInvoiceDate")
        if (
            text(self.inv.get("precedingInvoiceDate")) is not None
            and text(self.inv.get("precedingInvoiceNumber")) is None
        ):
            # CII writes the reference without its id; UBL cannot write the date alone (the XML Schema
            # wants the id), but the document meant is the same: BR-55 in both syntaxes
            self.add(
                "BR-55",
                "precedingInvoiceNumber",
                "A preceding invoice date needs the preceding invoice number.",
            )
        for key, limit in _TEXT_LIMITS.items():
            value = self.inv.get(key)
            if isinstance(value, str) and len(value) > limit:
                self.add("FAKTOORA-LENGTH", key, f"must be at most {limit} characters")

    # ----------------------------------------------------------------------------- direct debit
    def direct_debit(self) -> None:
        """BG-19: BR-DE-25-a, R061, BR-DE-30/31 and the groups other means codes refuse (BR-DE-23-b/24-b)."""
        raw = self.inv.get("directDebit")
        if not self.has_seller and text(self.inv.get("paymentMeansCode")) is None and raw is None:
            return
        code = payment_means_code(self.inv)
        if raw is None and code not in DIRECT_DEBIT_CODES:
            return  # the common invoice: no BG-19 and no direct debit code, so nothing below applies
        debit = self.obj(raw, "directDebit")
        self.string_fields(debit, _DEBIT_FIELDS, "directDebit.")
        values = {k: text(debit.get(k)) for k in _DEBIT_FIELDS}
        # BG-19 as the rendered document shows it: CII any of its terms, UBL a PaymentMandate (BT-89/BT-91)
        present = (
            any(values.values())
            if self.syntax == "cii"
            else bool(values["mandateReference"] or values["debitedAccount"])
        )
        if code in DIRECT_DEBIT_CODES:
            if self.xr and code == "59" and not any(values.values()):
                self.add("BR-DE-25-a", "directDebit", "SEPA direct debit (59) needs DIRECT DEBIT (BG-19).")
            if self.xr and values["mandateReference"] is None:
                self.add(
                    "PEPPOL-EN16931-R061",
                    "directDebit.mandateReference",
                    "A direct debit needs the mandate reference (BT-89).",
                )
        elif present and self.xr:
            if code in codes.PAYMENT_MEANS_CREDIT_TRANSFER:
                self.add(
                    "BR-DE-23-b",
                    "directDebit",
                    "Credit transfer (30, 58) shall not carry DIRECT DEBIT (BG-19).",
                )
            elif code in codes.PAYMENT_MEANS_CARD:
                self.add(
                    "BR-DE-24-b",
                    "directDebit",
                    "Card payment (48, 54, 55) shall not carry DIRECT DEBIT (BG-19).",
                )
        if self.xr and present:
            if values["creditorId"] is None:
                self.add(
                    "BR-DE-30",
                    "directDebit.creditorId",
                    "DIRECT DEBIT needs the Bank assigned creditor identifier (BT-90).",
                )
            if values["debitedAccount"] is None:
                self.add(
                    "BR-DE-31",
                    "directDebit.debitedAccount",
                    "DIRECT DEBIT needs the Debited account identifier (BT-91).",
                )

    # --------------------------------------------------------------------------- tax currency
    def tax_currency(self, seller: Mapping[str, Any]) -> None:
        """BT-6/BT-111: BR-CL-05, BR-53, R005, and the VAT directive's VAT total in EUR."""
        currency = text(self.inv.get("currency")) or "EUR"
        tax_currency = text(self.inv.get("taxCurrency"))
        raw_total = self.inv.get("taxTotalInTaxCurrency")
        if raw_total is not None:
            total = self.decimal(raw_total, "taxTotalInTaxCurrency")
            if self.syntax == "cii":
                term = "Invoice total VAT amount in accounting currency (BT-111)"
                self.two_decimals(total, "taxTotalInTaxCurrency", "BR-DEC-15", term)
            else:  # the official UBL BR-DEC-15 never matches its amount: UBL-DT-01 is what UBL reports
                self.two_decimals(total, "taxTotalInTaxCurrency", "UBL-DT-01", "amount")
        if tax_currency is None:
            if raw_total is not None:
                self.add(
                    "FAKTOORA-DEPENDENCY",
                    "taxTotalInTaxCurrency",
                    "taxTotalInTaxCurrency needs taxCurrency (BT-6).",
                )
            country = text(seller.get("country")) if self.has_seller else "DE"
            if currency != "EUR" and currency in codes.CURRENCIES and country == "DE":
                self.add(
                    "FAKTOORA-TAX-CURRENCY",
                    "taxCurrency",
                    f"an invoice in {currency[:5]} from a German seller must state its VAT total in EUR "
                    "(UStG § 14 (4) Nr. 8, VAT directive art. 230): "
                    "set taxCurrency 'EUR' and taxTotalInTaxCurrency",
                )
            return
        if tax_currency not in codes.CURRENCIES:
            self.add("BR-CL-05", "taxCurrency", f"{tax_currency[:20]!r} is not an ISO 4217 currency code.")
        if tax_currency == currency:
            if self.xr:
                self.add(
                    "PEPPOL-EN16931-R005",
                    "taxCurrency",
                    "The VAT accounting currency must differ from the invoice currency.",
                )
            if self.syntax == "cii":
                self.add(
                    "BR-53",
                    "taxTotalInTaxCurrency",
                    "The VAT total in accounting currency cannot be told apart.",
                )
        elif raw_total is None:
            self.add(
                "BR-53",
                "taxTotalInTaxCurrency",
                "A VAT accounting currency needs the VAT total in it (BT-111).",
            )

    def amounts(self) -> None:
        """BT-113/BT-114: decimal numbers with at most 2 decimals (BR-DEC-16/17)."""
        for key, (rule, term) in _AMOUNT_TERMS.items():
            if self.inv.get(key) is not None:
                self.two_decimals(self.decimal(self.inv.get(key), key), key, rule, term)

    # ----------------------------------------------------------------------------- attachments
    def attachments(self) -> None:
        """BG-24: BR-52, BR-CL-24, BR-DE-22, and the payload's own caps (FAKTOORA-ATTACHMENT)."""
        raw = self.inv.get("attachments")
        if raw is None:
            return
        if not isinstance(raw, (list, tuple)):
            self.add("FAKTOORA-TYPE", "attachments", f"expected a list, got {kind(raw)}")
            return
        if len(raw) > ATTACHMENT_LIMITS["count"]:
            self.add(
                "FAKTOORA-ATTACHMENT",
                "attachments",
                f"at most {ATTACHMENT_LIMITS['count']} attachments per invoice",
            )
        names: set[str] = set()
        total = 0
        for i, item in enumerate(raw):
            p = f"attachments[{i}]"
            if not isinstance(item, Mapping):
                self.add("FAKTOORA-TYPE", p, f"expected an object, got {kind(item)}")
                continue
            self.string_fields(item, _ATTACHMENT_STRINGS, f"{p}.")
            total += self._attachment(item, p, names)
        if total > ATTACHMENT_LIMITS["invoice_bytes"]:
            self.add(
                "FAKTOORA-ATTACHMENT",
                "attachments",
                f"attachments exceed {ATTACHMENT_LIMITS['invoice_bytes']} bytes in all",
            )

    def _attachment(self, item: Mapping[str, Any], p: str, names: set[str]) -> int:
        if text(item.get("id")) is None:
            self.add("BR-52", f"{p}.id", "Each attachment needs a Supporting document reference (BT-122).")
        mime = text(item.get("mimeCode"))
        if mime is not None and mime not in codes.MIME_TYPES:
            self.add("BR-CL-24", f"{p}.mimeCode", f"{mime[:60]!r} is not an allowed MIME code.")
        content = item.get("content")
        if not isinstance(content, str) or not content.strip():
            return 0
        name = text(item.get("fileName"))
        for key, value in (("fileName", name), ("mimeCode", mime)):
            if value is None:
                self.add("FAKTOORA-ATTACHMENT", f"{p}.{key}", f"an embedded file needs its {key}")
        if name is not None:
            if self.xr and name in names:
                self.add("BR-DE-22", f"{p}.fileName", f"the file name {name[:60]!r} is used twice")
            names.add(name)
        if len(content) > ATTACHMENT_LIMITS["file_bytes"] * 4 // 3 + 8:
            self.add(
                "FAKTOORA-ATTACHMENT",
                f"{p}.content",
                f"a file may have at most {ATTACHMENT_LIMITS['file_bytes']} bytes",
            )
            return len(content) * 3 // 4
        try:
            size = len(base64.b64decode("".join(content.split()), validate=True))
        except (binascii.Error, ValueError):
            self.add("FAKTOORA-ATTACHMENT", f"{p}.content", "content is not valid base64")
            return 0
        if size > ATTACHMENT_LIMITS["file_bytes"]:
            self.add(
                "FAKTOORA-ATTACHMENT",
                f"{p}.content",
                f"a file may have at most {ATTACHMENT_LIMITS['file_bytes']} bytes",
            )
        return size


def _credit(invoice: Mapping[str, Any]) -> bool:
    return (text(invoice.get("invoiceTypeCode")) or "380") in codes.CREDIT_NOTE_TYPE_CODES
