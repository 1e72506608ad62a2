"""The readable A4 invoice view drawn from a content dict (:mod:`.content`), section by section."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table, TableStyle

from ._pdf_base import (
    _ACCENT,
    _BOLD,
    _CATEGORY_NAMES,
    _REGULAR,
    _TYPE_NAMES,
    FirstPageHook,
    _body_cells,
    _build,
    _cell,
    _date,
    _facts_table,
    _money,
    _party_lines,
    _plain_style,
    _s,
    _styles,
    _table_style,
    _text,
)

__all__ = ["render_view"]

logger = logging.getLogger("faktoora_async.einvoice.pdf")
_WIDTH = A4[0] - 36 * mm


def _kind(content: Mapping[str, Any]) -> str:
    type_code = _s(content.get("invoiceTypeCode"))
    return _TYPE_NAMES.get(
        type_code, f"Rechnung / Invoice (type {type_code})" if type_code else "Rechnung / Invoice"
    )


def _facts(content: Mapping[str, Any]) -> list[tuple[str, str]]:
    period = content.get("invoicingPeriod") or {}
    span = " - ".join(x for x in (_date(period.get("startDate")), _date(period.get("endDate"))) if x)
    preceding = _s(content.get("precedingInvoiceNumber"))
    if content.get("precedingInvoiceDate"):
        preceding = f"{preceding} ({_date(content.get('precedingInvoiceDate'))})"
    return [
        ("Rechnungsdatum / Issue date", _date(content.get("issueDate"))),
        (
            "Fällig am / Due date",
            _date(content.get("dueDate") or (content.get("paymentTerms") or {}).get("dueDate")),
        ),
        ("Leistungsdatum / Delivery date", _date((content.get("delivery") or {}).get("date"))),
        ("Leistungszeitraum / Invoicing period", span),
        ("Käuferreferenz / Buyer reference", _s(content.get("buyerReference"))),
        ("Bestellung / Purchase order", _s(content.get("purchaseOrderReference"))),
        ("Vertrag / Contract", _s(content.get("contractReference"))),
        ("Projekt / Project", _s(content.get("projectReference"))),
        ("Kostenstelle / Buyer accounting ref.", _s(content.get("buyerAccountingReference"))),
        ("Vorherige Rechnung / Preceding invoice", preceding),
        ("Währung / Currency", _s(content.get("currency"))),
    ]


def _header(content: Mapping[str, Any], story: list[Flowable]) -> None:
    """Seller line, title, number, the parties and the key facts."""
    st = _styles()
    number = _s(content.get("invoiceNumber"))
    kind = _kind(content)
    seller = content.get("seller") or {}
    buyer = content.get("buyer") or {}
    width = _WIDTH
    seller_line = " · ".join(
        x for x in (_s(seller.get("name")), _s(seller.get("street")), _s(seller.get("city"))) if x
    )
    story.append(_text(seller_line, st["small"], width))
    story.append(Spacer(1, 4 * mm))
    story.append(_text(kind, st["title"], width))
    story.append(_text(f"Nr./No. {number}", st["h2"], width))
    story.append(Spacer(1, 3 * mm))

    widths = [width * 0.31, width * 0.31, width * 0.38]
    bold, normal = st["bold"], st["normal"]
    parties = Table(
        [
            [
                _cell("Verkäufer / Seller", bold, widths[0], 6),
                _cell("Käufer / Buyer", bold, widths[1], 6),
                "",
            ],
            [
                _cell("\n".join(_party_lines(seller)), normal, widths[0], 6),
                _cell("\n".join(_party_lines(buyer)), normal, widths[1], 6),
                _facts_table(_facts(content)),
            ],
        ],
        colWidths=widths,
    )
    style = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), _REGULAR),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ]
    )
    _plain_style(style, ((0, 0), (-1, 0)), bold)
    _plain_style(style, ((0, 1), (-1, -1)), normal)
    parties.setStyle(style)
    story.append(parties)

    delivery = content.get("delivery") or {}
    if delivery.get("name") or delivery.get("street") or delivery.get("city"):
        story.append(Spacer(1, 2 * mm))
        story.append(_text("Lieferanschrift / Deliver to", bold, width))
        story.append(_text("\n".join(_party_lines(delivery)), normal, width))


def _line_extras(line: Mapping[str, Any], currency: str) -> list[str]:
    """Price details, allowances/charges and period of one line, as short text lines under its name."""
    out = []
    if line.get("grossPrice"):
        discount = _s(line.get("priceDiscount") or "0")
        out.append(f"Bruttopreis/Gross {_s(line.get('grossPrice'))} - Rabatt/Discount {discount}")
    if line.get("priceBaseQuantity"):
        unit = _s(line.get("priceBaseQuantityUnitCode") or line.get("unitCode"))
        out.append(f"Preis je/Price per {_s(line.get('priceBaseQuantity'))} {unit}")
    for key, label in (("allowances", "Abschlag/Allowance"), ("charges", "Zuschlag/Charge")):
        for ac in line.get(key) or []:
            reason = _s(ac.get("reason") or ac.get("reasonCode"))
            out.append(f"{label} {_money(ac.get('amount'), currency)} {reason}".strip())
    period = line.get("invoicingPeriod") or {}
    if period.get("startDate") or period.get("endDate"):
        out.append(f"Zeitraum/Period {_date(period.get('startDate'))} - {_date(period.get('endDate'))}")
    return out


def _lines(content: Mapping[str, Any], story: list[Flowable]) -> int:
    """The line table (header row repeated on every page); returns the number of lines."""
    st = _styles()
    width = _WIDTH
    currency = _s(content.get("currency"))
    story.append(Spacer(1, 5 * mm))
    story.append(_text("Positionen / Lines", st["h2"], _WIDTH))
    header = ["Pos.", "Bezeichnung / Item", "Menge / Qty", "Einheit", "Preis / Price", "USt", "Netto / Net"]
    col_widths = [
        12 * mm,
        width - 12 * mm - 20 * mm - 14 * mm - 24 * mm - 18 * mm - 26 * mm,
        20 * mm,
        14 * mm,
        24 * mm,
        18 * mm,
        26 * mm,
    ]
    rows: list[list[Any]] = [header]
    normal, right = st["normal"], st["right"]
    for line in content.get("lineItems") or []:
        name = _s(line.get("name"))
        if line.get("description"):
            name = f"{name}\n{_s(line.get('description'))}"
        extras = _line_extras(line, currency)
        if extras:
            name = "\n".join([name, *extras])
        vat = _s(line.get("vatCategory"))
        if line.get("vatRate") is not None:
            vat = f"{vat} {_s(line.get('vatRate'))}%"
        rows.append(
            [
                _cell(line.get("lineId"), normal, col_widths[0]),
                _cell(name, normal, col_widths[1]),
                _cell(line.get("quantity"), right, col_widths[2]),
                _cell(line.get("unitCode"), normal, col_widths[3]),
                _cell(line.get("netPrice"), right, col_widths[4]),
                _cell(vat, normal, col_widths[5]),
                _cell(line.get("netAmount"), right, col_widths[6]),
            ]
        )
    lines_table = Table(
        rows,
        colWidths=col_widths,
        repeatRows=1,
        splitInRow=1,  # a line with a very long description may be taller than a page
    )
    lines_style = _body_cells(_table_style())
    for col in (2, 4, 6):
        lines_style.add("ALIGN", (col, 0), (col, -1), "RIGHT")
    lines_table.setStyle(lines_style)
    story.append(lines_table)

    return len(rows) - 1


def _allowances(content: Mapping[str, Any], story: list[Flowable]) -> None:
    """Document level allowances (BG-20) and charges (BG-21)."""
    st = _styles()
    currency = _s(content.get("currency"))
    rows: list[list[Any]] = []
    for key, label in (("allowances", "Abschlag / Allowance"), ("charges", "Zuschlag / Charge")):
        for ac in content.get(key) or []:
            basis = (
                f"{_s(ac.get('percentage'))} % von {_s(ac.get('baseAmount'))}" if ac.get("percentage") else ""
            )
            vat = f"{_s(ac.get('categoryCode'))} {_s(ac.get('rate') or '')}".strip()
            reason = " ".join(x for x in (_s(ac.get("reasonCode")), _s(ac.get("reason"))) if x)
            rows.append([label, reason, basis, vat, _money(ac.get("amount"), currency)])
    if not rows:
        return
    story.append(Spacer(1, 4 * mm))
    story.append(_text("Ab- und Zuschläge / Allowances and charges", st["h2"], _WIDTH))
    header = ["", "Grund / Reason", "Basis", "USt", "Betrag / Amount"]
    widths = [36 * mm, _WIDTH - 126 * mm, 36 * mm, 24 * mm, 30 * mm]
    table = Table([header, *rows], repeatRows=1, splitInRow=1, colWidths=widths)
    style = _body_cells(_table_style())
    style.add("ALIGN", (4, 0), (4, -1), "RIGHT")
    table.setStyle(style)
    story.append(table)


def _taxes(content: Mapping[str, Any], story: list[Flowable]) -> None:
    """The VAT breakdown (BG-23)."""
    st = _styles()
    width = _WIDTH
    currency = _s(content.get("currency"))
    normal, right = st["normal"], st["right"]
    taxes = content.get("taxes") or []
    if taxes:
        story.append(Spacer(1, 4 * mm))
        story.append(_text("Umsatzsteuer / VAT breakdown", st["h2"], _WIDTH))
        tax_widths = [38 * mm, 18 * mm, 30 * mm, 28 * mm, width - 114 * mm]
        tax_rows: list[list[Any]] = [
            ["Kategorie / Category", "Satz / Rate", "Basis", "Steuer / VAT", "Befreiungsgrund / Exemption"]
        ]
        for tax in taxes:
            category = _s(tax.get("category"))
            reason = " ".join(
                x for x in (_s(tax.get("exemptionReasonCode")), _s(tax.get("exemptionReason"))) if x
            )
            tax_rows.append(
                [
                    _cell(f"{category} {_CATEGORY_NAMES.get(category, '')}".strip(), normal, tax_widths[0]),
                    _cell(
                        f"{_s(tax.get('rate'))} %" if tax.get("rate") is not None else "",
                        right,
                        tax_widths[1],
                    ),
                    _cell(_money(tax.get("basisAmount"), currency), right, tax_widths[2]),
                    _cell(_money(tax.get("taxAmount"), currency), right, tax_widths[3]),
                    _cell(reason, st["small"], tax_widths[4]) if reason else "",
                ]
            )
        tax_table = Table(tax_rows, colWidths=tax_widths, repeatRows=1, splitInRow=1)
        tax_style = _body_cells(_table_style())
        tax_style.add("ALIGN", (1, 0), (3, -1), "RIGHT")
        _plain_style(tax_style, ((4, 1), (4, -1)), st["small"])
        tax_table.setStyle(tax_style)
        story.append(tax_table)


def _totals(content: Mapping[str, Any], story: list[Flowable]) -> None:
    """Document totals (BG-22), with the VAT total in the accounting currency (BT-111) when there is one."""
    st = _styles()
    currency = _s(content.get("currency"))
    normal, right = st["normal"], st["right"]
    totals = content.get("totals") or {}
    total_rows = [
        ("Summe Positionen / Line total", totals.get("lineTotal")),
        ("Nachlässe / Allowances", totals.get("allowanceTotal")),
        ("Zuschläge / Charges", totals.get("chargeTotal")),
        ("Gesamt netto / Total without VAT", totals.get("taxBasisTotal")),
        ("Umsatzsteuer / VAT", totals.get("taxTotal")),
        (f"USt in / VAT in {_s(content.get('taxCurrency'))}", totals.get("taxTotalInTaxCurrency")),
        ("Gesamt brutto / Total with VAT", totals.get("grandTotal")),
        ("Bereits bezahlt / Paid", totals.get("paidAmount")),
        ("Rundung / Rounding", totals.get("roundingAmount")),
        ("Zahlbetrag / Amount due", totals.get("duePayable")),
    ]
    shown = [
        [
            _cell(k, normal, 60 * mm),
            _cell(
                _money(v, _s(content.get("taxCurrency")) if k.startswith("USt in") else currency),
                right,
                35 * mm,
            ),
        ]
        for k, v in total_rows
        if v is not None
    ]
    if shown:
        story.append(Spacer(1, 4 * mm))
        totals_table = Table(shown, colWidths=[60 * mm, 35 * mm], hAlign="RIGHT", splitInRow=1)
        style = _body_cells(_table_style(header=False), first_row=0)
        style.add("ALIGN", (1, 0), (1, -1), "RIGHT")
        style.add("FONTNAME", (0, -1), (-1, -1), _BOLD)
        style.add("LINEABOVE", (0, -1), (-1, -1), 0.75, _ACCENT)
        totals_table.setStyle(style)
        story.append(totals_table)


def _payment(content: Mapping[str, Any], story: list[Flowable]) -> None:
    """Payment terms and means, direct debit, remittance information, attachments and the note."""
    st = _styles()
    terms = content.get("paymentTerms") or {}
    means = content.get("paymentMeans") or []
    if terms.get("description") or means:
        story.append(Spacer(1, 4 * mm))
        story.append(_text("Zahlung / Payment", st["h2"], _WIDTH))
        if terms.get("description"):
            story.append(_text(terms.get("description"), st["normal"], _WIDTH))
        for pm in means:
            parts = [f"Zahlungsart/Means {_s(pm.get('typeCode'))}"]
            for key, label in (
                ("information", ""),
                ("accountName", "Inhaber"),
                ("iban", "IBAN"),
                ("bic", "BIC"),
            ):
                if pm.get(key):
                    parts.append(f"{label} {_s(pm.get(key))}".strip())
            story.append(_text(" · ".join(parts), st["normal"], _WIDTH))
    if content.get("remittanceInformation"):
        story.append(
            _text(
                f"Verwendungszweck / Remittance: {_s(content.get('remittanceInformation'))}",
                st["normal"],
                _WIDTH,
            )
        )
    debit = content.get("directDebit") or {}
    if any(debit.values()):
        story.append(
            _text(
                f"SEPA-Lastschrift / Direct debit: Mandat {_s(debit.get('mandateReference'))} · "
                f"Gläubiger-ID {_s(debit.get('creditorId'))} · IBAN {_s(debit.get('debitedAccount'))}",
                st["normal"],
                _WIDTH,
            )
        )
    attachments = content.get("attachments") or []
    if attachments:
        story.append(Spacer(1, 4 * mm))
        story.append(_text("Anlagen / Attachments", st["h2"], _WIDTH))
        for item in attachments:
            parts = [
                _s(item.get("id")),
                _s(item.get("description")),
                _s(item.get("fileName") or item.get("uri")),
            ]
            story.append(_text(" · ".join(x for x in parts if x), st["normal"], _WIDTH))
    if content.get("note"):
        story.append(Spacer(1, 4 * mm))
        story.append(_text("Hinweis / Note", st["h2"], _WIDTH))
        story.append(_text(content.get("note"), st["small"], _WIDTH))


def render_view(
    content: Mapping[str, Any],
    *,
    output_intent: bool = False,
    hook: FirstPageHook | None = None,
    invariant: bool = True,
) -> bytes:
    """A4 PDF view of an invoice content dict (as produced by ``parse_document(...).content``).

    ``output_intent`` adds the sRGB OutputIntent a PDF/A needs (for the Factur-X PDF); ``hook`` and
    ``invariant`` are passed on to :func:`._pdf_base._build` (the Factur-X PDF adds its parts there).
    """
    number = _s(content.get("invoiceNumber"))
    kind = _kind(content)
    story: list[Flowable] = []
    _header(content, story)
    count = _lines(content, story)
    for section in (_allowances, _taxes, _totals, _payment):
        section(content, story)
    pdf = _build(
        story,
        title=f"{kind} {number}",
        footer=f"{kind} {number}",
        subject=f"Invoice {number}",
        output_intent=output_intent,
        hook=hook,
        invariant=invariant,
    )
    logger.debug("rendered content PDF for %s (%d lines, %d bytes)", number, count, len(pdf))
    return pdf
