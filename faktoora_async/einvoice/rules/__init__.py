"""Pre-flight checks of faktoora payload invoices against EN 16931 and XRechnung 3.0 business rules.

:func:`check_invoice` returns *every* violation it finds (never raises, whatever the input), each with
the official rule id and the JSON path of the offending field, e.g.
``Violation("BR-S-05", "invoices[3].invoiceItems[2].product.taxes[0].rate", "...")``.

For a payload the renderers (:mod:`~faktoora_async.einvoice.cii`, :mod:`~faktoora_async.einvoice.ubl`)
can render, every official rule id reported here is also reported by the official Schematron for the
rendered document (tests check this).  Ids starting with ``FAKTOORA-`` are payload-level problems that the
Schematron cannot see because the XML Schema or the renderer would reject them first:

* ``FAKTOORA-TYPE``: a field has the wrong JSON type (object/list/string/number/bool expected);
* ``FAKTOORA-DECIMAL``: a quantity, price, amount or rate is not a finite decimal number;
* ``FAKTOORA-DATE``: a date is not a valid ``YYYYMMDD`` calendar date;
* ``FAKTOORA-FORMAT``: ``format`` is not ``xrechnung`` or ``zf:2`` (``xrechnung:ubl`` is refused with the
  hint to send ``schema: "UBL"``; ``zf:1``, ZUGFeRD 1.0, is not produced), or ``schema`` is not
  ``CII``/``UBL`` (``UBL`` only with ``xrechnung``);
* ``FAKTOORA-ATTACHMENT``: an embedded file is not base64, lacks its file name or MIME code, or breaks the
  caps of docs/PAYLOAD.md (10 files, 2 MiB each, 5 MiB per invoice);
* ``FAKTOORA-DEPENDENCY``: a field needs another one (``taxTotalInTaxCurrency`` without ``taxCurrency``);
* ``FAKTOORA-LENGTH``: a reference is longer than the sandbox takes (``remittanceInformation`` 140
  characters, ``projectReference``/``contractReference``/``purchaseOrderReference``/
  ``buyerAccountingReference`` 200), with the sandbox's message;
* ``FAKTOORA-TAX-CURRENCY``: a German seller's invoice in another currency without its VAT total in EUR
  (UStG § 14 (4) Nr. 8, VAT directive art. 230), which no Schematron rule checks.

A missing ``seller`` is not an error (faktoora uses the account's company profile): the seller rules
below run only when a seller is given.

Implemented EN 16931 rules:

* mandatory content: BR-02 (invoiceNumber), BR-03 (issueDate), BR-06/BR-07 (seller/buyer name), BR-09/BR-11
  (seller/buyer country), BR-16 (at least one line), BR-22 (quantity), BR-25 (item name), BR-26 (price), BR-27
  (price not negative), BR-28 (gross price not negative), BR-29/BR-30 and BR-CO-19/BR-CO-20 (invoicing
  periods), BR-31 .. BR-38 and BR-CO-21/22 (document allowances/charges), BR-41 .. BR-44 and BR-CO-23/24 (line
  allowances/charges), BR-DEC-01/02/05/06/15/16/17/24/25/27/28 (at most 2 decimals in the amounts the payload
  gives, which the renderers would otherwise round), BR-52 (attachment id), BR-53 (VAT total in accounting
  currency), BR-55 (preceding invoice), BR-57 (deliver-to country), BR-62/BR-63 (electronic address scheme),
  BR-CO-04 (line VAT category), BR-CO-26 (seller VAT id or legal registration id), BR-CO-09 (VAT id country
  prefix), BR-61 (UBL) / CII-SR-470 (CII): account identifier for credit transfer (the id depends on the
  syntax the payload's ``schema`` selects);
* code lists: BR-CL-01 (type code), BR-CL-04/05 (currencies), BR-CL-14 (country codes), BR-CL-16 (payment
  means), BR-CL-17/18 (VAT category), BR-CL-19/20 (allowance/charge reason codes), BR-CL-22 (VATEX),
  BR-CL-23 (unit codes), BR-CL-24 (MIME code), BR-CL-25 (EAS scheme);
* VAT categories: BR-S-02/03/04/05/06/07/10, the same for Z, E, AE, G, L (BR-AF), M (BR-AG),
  BR-IC-02 .. 07/10/11/12 (K), BR-O-02 .. 07/10/11/12/13/14, BR-B-01/02; -03/-04 only for CII, where
  the official rules check them.

Implemented XRechnung 3.0 rules (only with ``xrechnung=True``): BR-DE-2 (seller contact), BR-DE-3/4
(seller city/post code), BR-DE-5/6/7 (contact name/phone/e-mail), BR-DE-8/9 (buyer city/post code),
BR-DE-10/11 (deliver-to city/post code), BR-DE-15 (buyer reference), BR-DE-16 (seller VAT id or tax
number), BR-DE-18 (Skonto lines in payment terms), BR-DE-22 (unique attachment file names), BR-DE-23-a/b,
BR-DE-24-a/b, BR-DE-25-a (the payment group that matches the means code), BR-DE-30/31 (creditor id and
debited account of a direct debit), PEPPOL-EN16931-R005 (VAT accounting currency), R010/R020
(buyer/seller electronic address), R041/R042 (allowance base amount and percentage), R046 (net = gross -
discount), R061 (mandate reference), R110/R111 (line period within the invoice period), R121 (price base
quantity), R130 (its unit).

The payload carries no totals, so BR-CO-10 ... BR-CO-17 cannot be violated by a payload: the renderers
compute them (:func:`~faktoora_async.einvoice.totals.compute_totals`).  BR-CO-25 (due date or payment
terms when an amount is due) is not checked because the shipped Schematron does not implement it.
Warnings and information-level rules (BR-DE-17, BR-DE-19, BR-DE-26/27/28, BR-DE-TMP-32) are not reported.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .. import codes
from .._util import text
from ._base import _FACTURX, _FORMATS, _LEGACY_UBL, _SCHEMAS, _STRING_FIELDS, Violation, kind
from .allowances import AllowanceChecks
from .lines import LineChecks
from .parties import PartyChecks
from .payment import PaymentChecks
from .terms import TermChecks
from .vat import VatChecks

__all__ = ["Violation", "check_invoice", "check_invoice_traced", "check_invoices"]

logger = logging.getLogger("faktoora_async.einvoice.rules")

_ZF1_MESSAGE = (
    "ZUGFeRD 1.0 (format 'zf:1') is not produced; send format 'zf:2' (ZUGFeRD 2.x / Factur-X EN 16931)"
)


class _Checker(PartyChecks, LineChecks, VatChecks, PaymentChecks, AllowanceChecks, TermChecks):
    """All rule families over one invoice."""

    def run(self) -> list[Violation]:
        inv = self.inv
        self.string_fields(inv, _STRING_FIELDS, "")
        for flag in ("draftOnly", "reviewMode", "validate"):
            value = inv.get(flag)
            if value is not None and not isinstance(value, bool):
                self.add("FAKTOORA-TYPE", flag, f"expected true or false, got {kind(value)}")
        for name in ("invoiceTypeCode", "paymentMeansCode"):
            value = inv.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
                self.add("FAKTOORA-TYPE", name, f"expected a string code, got {kind(value)}")
        self.format_and_schema()

        # API.md v2: an invoice sent without a number gets the account's next one at creation; a number
        # that is given must not be blank
        if inv.get("invoiceNumber") is not None and text(inv.get("invoiceNumber")) is None:
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
        if self.has_seller:
            self.party(seller, "seller")
        self.party(buyer, "buyer")
        ship_to = inv.get("shipTo")
        if ship_to is not None:
            self.ship_to(self.obj(ship_to, "shipTo"), ship_to)
        delivery = inv.get("delivery")
        if delivery is not None:
            delivery_obj = self.obj(delivery, "delivery")
            self.string_fields(delivery_obj, ("type", "recipient"), "delivery.")

        self.invoice_period = self.period(inv.get("invoicingPeriod"), "invoicingPeriod", line=False)
        self.references()
        categories = self.lines(seller)
        self.categories(categories, seller, buyer)
        self.allowance_categories(self.document_allowances(), categories, seller, buyer)
        self.payment(seller)
        self.direct_debit()
        self.tax_currency(seller)
        self.amounts()
        self.attachments()
        return self.out

    def format_and_schema(self) -> None:
        """``format`` one of xrechnung, zf:2, zf:1; ``schema`` CII or UBL, UBL only for XRechnung."""
        fmt = text(self.inv.get("format"))
        if fmt == _LEGACY_UBL:
            self.add(
                "FAKTOORA-FORMAT",
                "format",
                f"{_LEGACY_UBL!r} is not accepted any more: send format 'xrechnung' with schema 'UBL'",
            )
        elif fmt == "zf:1":
            self.add("FAKTOORA-FORMAT", "format", _ZF1_MESSAGE)
        elif fmt is not None and fmt not in _FORMATS:
            self.add("FAKTOORA-FORMAT", "format", f"unknown format {fmt[:40]!r}, expected {sorted(_FORMATS)}")
        schema = self.inv.get("schema")
        if not isinstance(schema, str):
            return  # absent (CII) or already reported as FAKTOORA-TYPE
        if schema not in _SCHEMAS:
            self.add("FAKTOORA-FORMAT", "schema", f"unknown schema {schema[:40]!r}, expected 'CII' or 'UBL'")
        elif schema == "UBL" and fmt in _FACTURX:
            self.add(
                "FAKTOORA-FORMAT",
                "schema",
                f"format {fmt!r} embeds CII; schema 'UBL' applies to format 'xrechnung' only",
            )


def check_invoice(invoice: Any, *, path: str = "invoices[0]", xrechnung: bool = True) -> list[Violation]:
    """Every EN 16931 (and, with ``xrechnung``, XRechnung 3.0) violation of one payload invoice."""
    return check_invoice_traced(invoice, path=path, xrechnung=xrechnung)[0]


def check_invoice_traced(
    invoice: Any, *, path: str = "invoices[0]", xrechnung: bool = True
) -> tuple[list[Violation], list[int] | None]:
    """:func:`check_invoice`, and the indices of the lines that were not plain JSON of exact types.

    A plain line is a dict of exactly ``id`` (a string) and ``product``, a dict of string names and
    codes, unsigned decimal strings (or integers) for quantity and price, no price details, and one VAT
    entry (a dict) whose ``typeCode`` is ``"VAT"`` or absent and whose rate is a decimal string, an
    integer or absent.  ``None`` instead of the indices: the lines were not a list (or not read), so
    nothing is known of them.  The pre-flight's shape check converts only the other lines.
    """
    if not isinstance(invoice, Mapping):
        return [Violation("FAKTOORA-TYPE", path, f"expected an invoice object, got {kind(invoice)}")], None
    try:
        checker = _Checker(invoice, path, xrechnung)
        return checker.run(), checker.other_lines
    except Exception as exc:  # defensive: pre-flight checks must never raise on garbage input
        logger.exception("check_invoice failed on %s", path)
        found = [Violation("FAKTOORA-TYPE", path, f"invoice could not be checked: {type(exc).__name__}")]
        return found, None


def check_invoices(invoices: Any, *, xrechnung: bool = True) -> list[Violation]:
    """Check a list of invoices (or ``{"invoices": [...]}``); paths are ``invoices[i]....``."""
    if isinstance(invoices, Mapping) and "invoices" in invoices:
        invoices = invoices["invoices"]
    if not isinstance(invoices, (list, tuple)):
        return [Violation("FAKTOORA-TYPE", "invoices", f"expected a list of invoices, got {kind(invoices)}")]
    result: list[Violation] = []
    for index, invoice in enumerate(invoices):
        result.extend(check_invoice(invoice, path=f"invoices[{index}]", xrechnung=xrechnung))
    return result
