"""The generator's EN 16931 terms beyond the basics (issue 13), drawn from their own random stream.

Frequencies per invoice aim at what German B2B/B2G invoices carry (each at least ~4 %, so 500 invoices
hold every term 20 times or more): purchase-order reference 35 %, remittance information 25 %, invoicing
period 45 % (80 % of those without a delivery date), contract 10 %, project 8 %, buyer accounting
reference 8 %, document allowances 12 % and charges 8 %, line allowances 10 % and charges 8 %, gross price
and price discount 8 %, price base quantity 6 %, line periods 6 %, SEPA direct debit 7 %, prepaid amount
6 % (30 % of final construction invoices 877), rounding amount 5 %, foreign currency with the VAT total in
EUR 7 %, attachments 6 %; type codes 326, 383, 384, 386, 389, 875, 876, 877 about 4.5 % each (of drawn codes).
Every value keeps the invoice valid against the official EN 16931 and XRechnung 3.0 rules.
"""

from __future__ import annotations

import base64
import datetime as _dt
import random
import struct
import zlib
from decimal import Decimal
from typing import Any

from ._util import round2
from .totals import compute_totals

__all__ = ["NEW_TYPE_CODES", "add_terms", "draw_type_code"]

NEW_TYPE_CODES = ("326", "383", "384", "386", "389", "875", "876", "877")
_ALLOWANCE_REASONS = (("95", "Rabatt"), ("100", "Sonderrabatt"), ("64", "Vereinbarter Nachlass"))
_CHARGE_REASONS = (("FC", "Frachtkosten"), ("PC", "Verpackung"), ("ABL", "Zusätzliche Verpackung"))
_LINE_ALLOWANCES = (("95", "Mengenrabatt"), ("100", "Aktionsrabatt"))
_LINE_CHARGES = (("ABL", "Sonderverpackung"), ("FC", "Expresszuschlag"))
_FOREIGN = (("CHF", Decimal("1.0421")), ("USD", Decimal("0.9216")), ("GBP", Decimal("1.1712")))
_DAY = _dt.timedelta(days=1)


def draw_type_code(drawn: str, extra: random.Random) -> str:
    """A drawn 380 becomes one of the rarer codes now and then."""
    if drawn == "380" and extra.random() < 0.45:
        return extra.choice(NEW_TYPE_CODES)
    return drawn


def _ymd(day: _dt.date) -> str:
    return day.strftime("%Y%m%d")


def _iban(rng: random.Random) -> str:
    bban = f"{rng.randrange(10_000_000, 99_999_999)}{rng.randrange(10**9, 10**10)}"
    check = 98 - int(bban + "131400") % 97
    return f"DE{check:02d}{bban}"


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x1f\x3a\x5f" * 8 for _ in range(8))
    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _pdf(title: str) -> bytes:
    stream = f"BT /F1 12 Tf 72 720 Td ({title}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _attachments(rng: random.Random, number: str) -> list[dict[str, Any]]:
    kinds = [
        (
            "stundennachweis.csv",
            "text/csv",
            "Stundennachweis",
            b"Datum;Stunden\n2025-01-02;7.5\n2025-01-03;8\n",
        ),
        ("lieferschein.pdf", "application/pdf", "Lieferschein", _pdf(f"Lieferschein zu {number}")),
        ("foto-baustelle.png", "image/png", "Foto der Baustelle", _png()),
    ]
    chosen = rng.sample(kinds, rng.choice((1, 1, 2)))
    return [
        {
            "id": f"ANL-{i}",
            "description": description,
            "fileName": name,
            "mimeCode": mime,
            "content": base64.b64encode(data).decode("ascii"),
        }
        for i, (name, mime, description, data) in enumerate(chosen, start=1)
    ]


def _document_allowances(rng: random.Random, invoice: dict[str, Any], key: str) -> None:
    """One allowance or charge in the category and rate of a line (so the breakdown keeps its reasons)."""
    item = rng.choice(invoice["invoiceItems"])
    tax = item["product"]["taxes"][0]
    code, reason = rng.choice(_ALLOWANCE_REASONS if key == "allowances" else _CHARGE_REASONS)
    entry: dict[str, Any] = {"reasonCode": code, "reason": reason, "categoryCode": tax["categoryCode"]}
    if tax["categoryCode"] != "O":
        entry["rate"] = str(tax["rate"])
    totals = compute_totals({"invoiceItems": [item]})
    base = max(totals.line_total, Decimal("10.00"))
    if rng.random() < 0.5:
        entry.update(baseAmount=str(base), percentage=rng.choice(("2", "3", "5")))
    else:
        entry["amount"] = str(round2(min(base * Decimal("0.04"), Decimal(rng.randrange(5, 80)))))
    invoice[key] = [entry]


def _line_terms(rng: random.Random, invoice: dict[str, Any], period: dict[str, str] | None) -> None:
    items = invoice["invoiceItems"]
    if rng.random() < 0.10:
        item = rng.choice(items)
        code, reason = rng.choice(_LINE_ALLOWANCES)
        totals = compute_totals({"invoiceItems": [item]})
        value = round2(abs(totals.line_total) * Decimal("0.05"))
        if value > 0:
            item["allowances"] = [{"amount": str(value), "reasonCode": code, "reason": reason}]
    if rng.random() < 0.08:
        code, reason = rng.choice(_LINE_CHARGES)
        rng.choice(items)["charges"] = [
            {
                "baseAmount": "100.00",
                "percentage": rng.choice(("1", "2.5")),
                "reasonCode": code,
                "reason": reason,
            }
        ]
    if rng.random() < 0.08:
        product = rng.choice(items)["product"]
        gross = Decimal(product["price"])
        discount = round2(gross * Decimal(rng.choice(("0.05", "0.1", "0.15"))))
        if discount > 0:
            product.update(grossPrice=str(gross), priceDiscount=str(discount), price=str(gross - discount))
    if rng.random() < 0.06:
        product = rng.choice(items)["product"]
        base = rng.choice((10, 100))
        product["price"] = str(Decimal(product["price"]) * base)
        product.pop("grossPrice", None)
        product.pop("priceDiscount", None)
        product.update(
            priceBaseQuantity=str(base), priceBaseQuantityUnitCode=product.get("unitCode") or "C62"
        )
    if rng.random() < 0.06:
        start = _dt.date(2025, 1, 1) + _dt.timedelta(days=rng.randrange(0, 500))
        line_period = {"startDate": _ymd(start), "endDate": _ymd(start + rng.randrange(0, 30) * _DAY)}
        if period is not None:
            line_period = dict(period)
        rng.choice(items)["invoicingPeriod"] = line_period


def _money_terms(rng: random.Random, invoice: dict[str, Any]) -> None:
    if rng.random() < 0.07 and invoice["currency"] == "EUR":
        currency, rate = rng.choice(_FOREIGN)
        invoice["currency"] = currency
        invoice["taxCurrency"] = "EUR"
        invoice["taxTotalInTaxCurrency"] = str(round2(compute_totals(invoice).tax_total * rate))
    final = invoice["invoiceTypeCode"] == "877"
    if rng.random() < (0.3 if final else 0.05):
        due = compute_totals(invoice).grand_total
        invoice["prepaidAmount"] = str(round2(due * Decimal(rng.choice(("0.3", "0.5", "0.8")))))
    if rng.random() < 0.05:
        due = compute_totals(invoice).due_payable
        rounded = (due / Decimal("0.05")).quantize(Decimal(1)) * Decimal("0.05")
        invoice["roundingAmount"] = str(round2(rounded - due)) if rounded != due else "0.00"


def add_terms(invoice: dict[str, Any], rng: random.Random, issue: _dt.date) -> None:
    """Add the extended terms to a generated invoice, in place, from ``rng`` (its own stream)."""
    number = invoice["invoiceNumber"]
    if rng.random() < 0.35:
        invoice["purchaseOrderReference"] = f"PO-{rng.randrange(10000, 999999)}"
    if rng.random() < 0.10:
        invoice["contractReference"] = f"V-{issue.year}-{rng.randrange(100, 9999)}"
    if rng.random() < 0.08:
        invoice["projectReference"] = f"PRJ-{rng.randrange(1000, 99999)}"
    if rng.random() < 0.08:
        invoice["buyerAccountingReference"] = f"{rng.randrange(4000, 4999)}-{rng.randrange(100, 999)}"
    if rng.random() < 0.25:
        invoice["remittanceInformation"] = number
    if "precedingInvoiceNumber" in invoice:
        invoice["precedingInvoiceDate"] = _ymd(issue - rng.randrange(10, 90) * _DAY)
    period = None
    if rng.random() < (0.30 if "deliveryDate" in invoice else 0.80):
        start = issue.replace(day=1) - (rng.random() < 0.5) * 20 * _DAY
        start = start.replace(day=1)
        end = (start + 32 * _DAY).replace(day=1) - _DAY
        period = {"startDate": _ymd(start), "endDate": _ymd(end)}
        invoice["invoicingPeriod"] = period
    _line_terms(rng, invoice, period)
    if rng.random() < 0.12:
        _document_allowances(rng, invoice, "allowances")
    if rng.random() < 0.08:
        _document_allowances(rng, invoice, "charges")
    if rng.random() < 0.07:
        invoice["paymentMeansCode"] = "59"
        invoice["directDebit"] = {
            "mandateReference": f"MANDAT-{rng.randrange(100000, 999999)}",
            "creditorId": f"DE{rng.randrange(10, 99)}ZZZ{rng.randrange(10**10, 10**11)}",
            "debitedAccount": _iban(rng),
        }
    _money_terms(rng, invoice)
    if rng.random() < 0.06:
        invoice["attachments"] = _attachments(rng, number)
    if invoice.get("roundingAmount") == "0.00":
        del invoice["roundingAmount"]
