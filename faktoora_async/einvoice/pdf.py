"""PDFs for e-invoices: a readable invoice view, Factur-X / ZUGFeRD 2 PDF/A-3, and validation reports.

* :func:`render_content_pdf` draws an A4 invoice from a content dict (:mod:`.content`): parties, number,
  dates, a line table that continues over as many pages as needed (header row repeated), the VAT
  breakdown, totals and payment information.  All text is real PDF text, so it can be extracted.
* :func:`render_facturx_pdf` turns that view into a PDF/A-3 with the CII XML embedded as ``factur-x.xml``
  (Factur-X / ZUGFeRD 2, profile EN 16931) using the ``factur-x`` library; nothing touches the network.
* :func:`render_validation_report_pdf` lists every message of a :class:`~.validate.Verdict`.

Thread safety: reportlab keeps module-level caches that are not safe to use from several threads at
once (concurrent renders were seen to fail with ``KeyError`` inside reportlab), so the three public
functions hold one module-level lock while they draw.  They may be called from any thread.

Cost (the sandbox renders PDFs lazily, so this bounds bulk runs with PDFs): table cells whose text fits
its column are drawn as plain table strings, only text that must wrap becomes a ``Paragraph`` (markup
parsing and line breaking are most of reportlab's time); a 20-line view takes ~17 ms of CPU.  The Factur-X
sRGB output intent is written by reportlab itself, and factur-x's result replaces its input instead of
being appended to it (which stored every page and font twice).

reportlab draws; factur-x embeds.  The standard Helvetica fonts are used (WinAnsi: German umlauts, ß and
the euro sign are fine; characters outside it are replaced by ``?``).
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, Final
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .verdict import Verdict

__all__ = ["render_content_pdf", "render_facturx_pdf", "render_validation_report_pdf"]

logger = logging.getLogger("faktoora_async.einvoice.pdf")

_TYPE_NAMES: Final = {
    "380": "Rechnung / Invoice",
    "381": "Gutschrift / Credit note",
    "384": "Korrigierte Rechnung / Corrected invoice",
    "389": "Gutschrift (Selbstfakturierung) / Self-billed invoice",
    "326": "Teilrechnung / Partial invoice",
    "875": "Abschlagsrechnung / Partial construction invoice",
    "877": "Schlussrechnung / Final construction invoice",
}
_CATEGORY_NAMES: Final = {
    "S": "Standard",
    "Z": "Zero rated",
    "E": "Exempt",
    "AE": "Reverse charge",
    "K": "Intra-community",
    "G": "Export",
    "O": "Not subject to VAT",
    "L": "Canary Islands",
    "M": "Ceuta/Melilla",
}
_REGULAR: Final = "FaktooraVera"
_BOLD: Final = "FaktooraVera-Bold"
_fonts_registered = False


def _register_fonts() -> None:
    """Embed Bitstream Vera (shipped with reportlab) so the PDFs carry their fonts, as PDF/A requires."""
    global _fonts_registered
    if _fonts_registered:
        return
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(_REGULAR, "Vera.ttf"))
    pdfmetrics.registerFont(TTFont(_BOLD, "VeraBd.ttf"))
    pdfmetrics.registerFontFamily(_REGULAR, normal=_REGULAR, bold=_BOLD, italic=_REGULAR, boldItalic=_BOLD)
    _fonts_registered = True


_GREY: Final = colors.HexColor("#555555")
_LIGHT: Final = colors.HexColor("#EEF1F5")
_LINE: Final = colors.HexColor("#B8C0CC")
_ACCENT: Final = colors.HexColor("#1F3A5F")


# ------------------------------------------------------------------------------------------ helpers


def _s(value: Any) -> str:
    """Plain text for a value (``None`` -> ``""``), restricted to what the base fonts can show."""
    if value is None:
        return ""
    text = str(value)
    return text.encode("cp1252", errors="replace").decode("cp1252")


def _p(value: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(_s(value)).replace("\n", "<br/>"), style)


_CELL_FONT_SIZE: Final = 8.5
_CELL_LEADING: Final = 10.5
_CELL_PADDING: Final = 12.0  # left + right padding of a table cell (reportlab's default 6 + 6)


def _cell(value: Any, style: ParagraphStyle, width: float) -> str | Paragraph:
    """A table cell: the plain text when each of its lines fits ``width`` points, else a wrapping Paragraph.

    Plain strings are drawn by the table itself (its FONTNAME/FONTSIZE/LEADING/ALIGN, one line per
    ``\\n``), which costs a fraction of a Paragraph (no markup parsing, no line breaking): most cells are
    numbers, codes and short names.
    """
    from reportlab.pdfbase.pdfmetrics import stringWidth

    text = _s(value)
    room = width - _CELL_PADDING
    if all(stringWidth(line, _REGULAR, _CELL_FONT_SIZE) <= room for line in text.split("\n")):
        return text
    return _p(text, style)


def _date(value: Any) -> str:
    text = _s(value)
    if len(text) == 8 and text.isdigit():
        return f"{text[6:8]}.{text[4:6]}.{text[0:4]}"
    return text


def _money(value: Any, currency: str = "") -> str:
    text = _s(value)
    if not text:
        return ""
    return f"{text} {currency}".strip()


_STYLES: dict[str, ParagraphStyle] = {}


def _styles() -> dict[str, ParagraphStyle]:
    """The paragraph styles, built once (renders run under the module lock, so no race)."""
    if not _STYLES:
        _STYLES.update(_build_styles())
    return _STYLES


def _build_styles() -> dict[str, ParagraphStyle]:
    _register_fonts()
    base = getSampleStyleSheet()
    normal = ParagraphStyle("n", parent=base["Normal"], fontName=_REGULAR, fontSize=8.5, leading=10.5)
    return {
        "normal": normal,
        "small": ParagraphStyle("s", parent=normal, fontSize=7.5, leading=9, textColor=_GREY),
        "bold": ParagraphStyle("b", parent=normal, fontName=_BOLD),
        "right": ParagraphStyle("r", parent=normal, alignment=TA_RIGHT),
        "title": ParagraphStyle(
            "t", parent=normal, fontName=_BOLD, fontSize=16, leading=20, textColor=_ACCENT
        ),
        "h2": ParagraphStyle(
            "h",
            parent=normal,
            fontName=_BOLD,
            fontSize=10,
            leading=13,
            textColor=_ACCENT,
            spaceBefore=6,
        ),
    }


def _party_lines(party: Mapping[str, Any] | None) -> list[str]:
    if not party:
        return []
    lines = [_s(party.get("name"))]
    if party.get("street"):
        lines.append(_s(party.get("street")))
    place = " ".join(x for x in (_s(party.get("postcode")), _s(party.get("city"))) if x)
    if place or party.get("country"):
        lines.append(" ".join(x for x in (place, _s(party.get("country"))) if x))
    if party.get("vatId"):
        lines.append(f"USt-IdNr./VAT ID: {_s(party.get('vatId'))}")
    if party.get("taxId"):
        lines.append(f"Steuernummer/Tax no.: {_s(party.get('taxId'))}")
    for key, label in (("contactName", "Kontakt"), ("phone", "Tel."), ("email", "E-Mail")):
        if party.get(key):
            lines.append(f"{label}: {_s(party.get(key))}")
    if party.get("electronicAddress"):
        scheme = (
            f" ({_s(party.get('electronicAddressScheme'))})" if party.get("electronicAddressScheme") else ""
        )
        lines.append(f"E-Adresse: {_s(party.get('electronicAddress'))}{scheme}")
    return [line for line in lines if line]


def _table_style(header: bool = True) -> TableStyle:
    commands: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), _REGULAR),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, _LINE),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        commands += [
            ("BACKGROUND", (0, 0), (-1, 0), _LIGHT),
            ("FONTNAME", (0, 0), (-1, 0), _BOLD),
            ("LINEBELOW", (0, 0), (-1, 0), 0.75, _ACCENT),
        ]
    return TableStyle(commands)


def _body_cells(style: TableStyle, first_row: int = 1) -> TableStyle:
    """Plain-string body cells (``first_row`` on) drawn like the ``normal`` paragraph style."""
    style.add("FONTSIZE", (0, first_row), (-1, -1), _CELL_FONT_SIZE)
    style.add("LEADING", (0, first_row), (-1, -1), _CELL_LEADING)
    return style


def _facts_table(rows: list[list[Any]]) -> Table:
    table = Table(rows or [[_p("", _styles()["normal"])]], colWidths=[32 * mm, 32 * mm])
    table.setStyle(
        TableStyle([("FONTNAME", (0, 0), (-1, -1), _REGULAR), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    )
    return table


class _Footer:
    """Draws a footer line with the invoice number and the page number on every page."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __call__(self, canvas: Canvas, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(_REGULAR, 7)
        canvas.setFillColor(_GREY)
        canvas.drawString(18 * mm, 10 * mm, self.label)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"Seite/Page {doc.page}")
        canvas.restoreState()


_SRGB_ICC: list[bytes] = []


def _srgb_icc() -> bytes:
    """Pillow's (LittleCMS) sRGB ICC profile, made once."""
    if not _SRGB_ICC:
        from PIL import ImageCms

        _SRGB_ICC.append(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    return _SRGB_ICC[0]


def _add_output_intent(canvas: Canvas) -> None:
    """Put an sRGB OutputIntent (PDF/A needs one to define device colours) into the catalog being written."""
    from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFStream, PDFString

    document = canvas._doc
    profile = PDFStream(PDFDictionary({"N": 3}), _srgb_icc())
    intent = PDFDictionary(
        {
            "Type": PDFName("OutputIntent"),
            "S": PDFName("GTS_PDFA1"),
            "OutputConditionIdentifier": PDFString("sRGB"),
            "Info": PDFString("sRGB IEC61966-2.1"),
            "DestOutputProfile": document.Reference(profile),
        }
    )
    catalog = document.Catalog
    # reportlab writes only the catalog keys its class lists; this one instance lists one more
    catalog.__NoDefault__ = [*type(catalog).__NoDefault__, "OutputIntents"]
    canvas.setCatalogEntry("OutputIntents", PDFArray([document.Reference(intent)]))


class _FirstPage:
    """The first page's callback: the footer, plus (once) the output intent."""

    def __init__(self, footer: _Footer, output_intent: bool) -> None:
        self.footer = footer
        self.output_intent = output_intent

    def __call__(self, canvas: Canvas, doc: Any) -> None:
        if self.output_intent:
            _add_output_intent(canvas)
        self.footer(canvas, doc)


def _build(
    story: Sequence[Flowable], *, title: str, footer: str, subject: str, output_intent: bool = False
) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=_s(title),
        author="faktoora-async",
        subject=_s(subject),
        creator="faktoora-async",
        invariant=True,
        initialFontName=_REGULAR,
    )
    on_page = _Footer(_s(footer))
    doc.build(list(story), onFirstPage=_FirstPage(on_page, output_intent), onLaterPages=on_page)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------ content view


def _render_content_pdf(content: Mapping[str, Any], *, output_intent: bool = False) -> bytes:
    """A4 PDF view of an invoice content dict (as produced by ``parse_document(...).content``).

    ``output_intent`` adds the sRGB OutputIntent a PDF/A needs (for the Factur-X PDF).
    """
    st = _styles()
    currency = _s(content.get("currency"))
    number = _s(content.get("invoiceNumber"))
    type_code = _s(content.get("invoiceTypeCode"))
    kind = _TYPE_NAMES.get(
        type_code, f"Rechnung / Invoice (type {type_code})" if type_code else "Rechnung / Invoice"
    )
    seller = content.get("seller") or {}
    buyer = content.get("buyer") or {}
    width = A4[0] - 36 * mm

    story: list[Flowable] = []
    seller_line = " · ".join(
        x for x in (_s(seller.get("name")), _s(seller.get("street")), _s(seller.get("city"))) if x
    )
    story.append(_p(seller_line, st["small"]))
    story.append(Spacer(1, 4 * mm))
    story.append(_p(kind, st["title"]))
    story.append(_p(f"Nr./No. {number}", st["h2"]))
    story.append(Spacer(1, 3 * mm))

    facts = [
        ("Rechnungsdatum / Issue date", _date(content.get("issueDate"))),
        (
            "Fällig am / Due date",
            _date(content.get("dueDate") or (content.get("paymentTerms") or {}).get("dueDate")),
        ),
        ("Leistungsdatum / Delivery date", _date((content.get("delivery") or {}).get("date"))),
        ("Käuferreferenz / Buyer reference", _s(content.get("buyerReference"))),
        ("Vorherige Rechnung / Preceding invoice", _s(content.get("precedingInvoiceNumber"))),
        ("Währung / Currency", currency),
    ]
    fact_rows = [[_p(k, st["small"]), _p(v, st["normal"])] for k, v in facts if v]
    parties = Table(
        [
            [_p("Verkäufer / Seller", st["bold"]), _p("Käufer / Buyer", st["bold"]), _p("", st["normal"])],
            [
                _p("\n".join(_party_lines(seller)), st["normal"]),
                _p("\n".join(_party_lines(buyer)), st["normal"]),
                _facts_table(fact_rows),
            ],
        ],
        colWidths=[width * 0.31, width * 0.31, width * 0.38],
    )
    parties.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), _REGULAR),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    story.append(parties)

    delivery = content.get("delivery") or {}
    if delivery.get("name") or delivery.get("street") or delivery.get("city"):
        story.append(Spacer(1, 2 * mm))
        story.append(_p("Lieferanschrift / Deliver to", st["bold"]))
        story.append(_p("\n".join(_party_lines(delivery)), st["normal"]))

    story.append(Spacer(1, 5 * mm))
    story.append(_p("Positionen / Lines", st["h2"]))
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

    taxes = content.get("taxes") or []
    if taxes:
        story.append(Spacer(1, 4 * mm))
        story.append(_p("Umsatzsteuer / VAT breakdown", st["h2"]))
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
                    _p(reason, st["small"]) if reason else "",
                ]
            )
        tax_table = Table(tax_rows, colWidths=tax_widths, repeatRows=1, splitInRow=1)
        tax_style = _body_cells(_table_style())
        tax_style.add("ALIGN", (1, 0), (3, -1), "RIGHT")
        tax_table.setStyle(tax_style)
        story.append(tax_table)

    totals = content.get("totals") or {}
    total_rows = [
        ("Summe Positionen / Line total", totals.get("lineTotal")),
        ("Nachlässe / Allowances", totals.get("allowanceTotal")),
        ("Zuschläge / Charges", totals.get("chargeTotal")),
        ("Gesamt netto / Total without VAT", totals.get("taxBasisTotal")),
        ("Umsatzsteuer / VAT", totals.get("taxTotal")),
        ("Gesamt brutto / Total with VAT", totals.get("grandTotal")),
        ("Bereits bezahlt / Paid", totals.get("paidAmount")),
        ("Rundung / Rounding", totals.get("roundingAmount")),
        ("Zahlbetrag / Amount due", totals.get("duePayable")),
    ]
    shown = [
        [_cell(k, normal, 60 * mm), _cell(_money(v, currency), right, 35 * mm)]
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

    terms = content.get("paymentTerms") or {}
    means = content.get("paymentMeans") or []
    if terms.get("description") or means:
        story.append(Spacer(1, 4 * mm))
        story.append(_p("Zahlung / Payment", st["h2"]))
        if terms.get("description"):
            story.append(_p(terms.get("description"), st["normal"]))
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
            story.append(_p(" · ".join(parts), st["normal"]))
    if content.get("note"):
        story.append(Spacer(1, 4 * mm))
        story.append(_p("Hinweis / Note", st["h2"]))
        story.append(_p(content.get("note"), st["small"]))

    pdf = _build(
        story,
        title=f"{kind} {number}",
        footer=f"{kind} {number}",
        subject=f"Invoice {number}",
        output_intent=output_intent,
    )
    logger.debug("rendered content PDF for %s (%d lines, %d bytes)", number, len(rows) - 1, len(pdf))
    return pdf


# ---------------------------------------------------------------------------------------- Factur-X


def _with_output_intent(pdf: bytes) -> bytes:
    """Add the sRGB OutputIntent with pypdf (a second pass: only if reportlab could not write it itself)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    icc = DecodedStreamObject()
    icc.set_data(_srgb_icc())
    icc[NameObject("/N")] = NumberObject(3)
    intent = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/OutputIntent"),
            NameObject("/S"): NameObject("/GTS_PDFA1"),
            NameObject("/OutputConditionIdentifier"): TextStringObject("sRGB"),
            NameObject("/Info"): TextStringObject("sRGB IEC61966-2.1"),
            NameObject("/DestOutputProfile"): writer._add_object(icc),
        }
    )
    writer._root_object[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


class _Rewritten(io.BytesIO):
    """The PDF handed to ``facturx.generate_from_file``, which writes its result into the same file object.

    It writes at the position its reader left behind (the end), so the result would follow the input
    (every page and font twice: twice the bytes; ``facturx.generate_from_binary`` does that, through a
    temporary file on disk).  The first write here starts the buffer afresh, so it holds the result only.
    """

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self._rewriting = False

    def write(self, data: Any, /) -> int:
        if not self._rewriting:
            self._rewriting = True
            self.seek(0)
            self.truncate()
        return super().write(data)


def _render_facturx_pdf(content: Mapping[str, Any], cii_xml: bytes) -> bytes:
    """A Factur-X / ZUGFeRD 2 PDF/A-3 (profile EN 16931) showing ``content`` with ``cii_xml`` embedded."""
    from facturx import generate_from_file

    visual = _render_content_pdf(content, output_intent=True)
    if b"/OutputIntents" not in visual:  # a reportlab that ignored the catalog entry: add it with pypdf
        visual = _with_output_intent(visual)
    number = _s(content.get("invoiceNumber"))
    seller = _s((content.get("seller") or {}).get("name"))
    metadata = {
        "author": seller or "faktoora-async",
        "keywords": "Factur-X, ZUGFeRD, EN 16931",
        "title": f"{seller}: Invoice {number}".strip(": "),
        "subject": f"Factur-X invoice {number}",
    }
    buffer = _Rewritten(visual)
    generate_from_file(
        buffer,
        cii_xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=False,
        pdf_metadata=metadata,
        lang="de-DE",
    )
    result = buffer.getvalue()
    if not result.startswith(b"%PDF") or result == visual:  # factur-x wrote nothing: never pass it off
        raise RuntimeError("factur-x did not write a PDF")
    logger.debug("rendered Factur-X PDF for %s (%d bytes)", number, len(result))
    return bytes(result)


# ---------------------------------------------------------------------------------- validation report


def _render_validation_report_pdf(
    verdict: Verdict, *, title: str, invoice_number: str | None = None
) -> bytes:
    """A PDF listing every message of ``verdict`` (rule id, level, text, location)."""
    st = _styles()
    width = A4[0] - 36 * mm
    story: list[Flowable] = [_p(title, st["title"]), Spacer(1, 2 * mm)]
    facts = [
        ("Rechnung / Invoice", invoice_number or "-"),
        ("Syntax", (verdict.syntax or "-").upper()),
        ("Ergebnis / Result", "ACCEPTED (gültig)" if verdict.accepted else "REJECTED (ungültig)"),
        ("Fehler / Errors", str(len(verdict.errors))),
        ("Warnungen / Warnings", str(len(verdict.warnings))),
        ("Erstellt / Created", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
    ]
    facts_table = Table(
        [[_p(k, st["small"]), _p(v, st["bold"])] for k, v in facts],
        colWidths=[45 * mm, 80 * mm],
        hAlign="LEFT",
    )
    facts_table.setStyle(_table_style(header=False))
    story.append(facts_table)
    story.append(Spacer(1, 5 * mm))
    story.append(_p("Meldungen / Messages", st["h2"]))
    if verdict.messages:
        rows: list[list[Any]] = [["Regel / Rule", "Level", "Meldung / Message"]]
        red = ParagraphStyle("fatal", parent=st["bold"], textColor=colors.HexColor("#B00020"))
        for message in verdict.messages:
            text = message.text
            if message.location and message.location != "/":
                text = f"{text}\n@ {message.location}"
            rows.append(
                [
                    _p(message.rule_id, st["bold"]),
                    _p(message.level, red if message.is_error else st["normal"]),
                    _p(text, st["normal"]),
                ]
            )
        table = Table(rows, colWidths=[46 * mm, 18 * mm, width - 64 * mm], repeatRows=1, splitInRow=1)
        table.setStyle(_table_style())
        story.append(table)
    else:
        story.append(_p("Keine Meldungen / No messages.", st["normal"]))
    footer = f"{title} {invoice_number or ''}".strip()
    return _build(story, title=title, footer=footer, subject="Validation report")


# One re-entrant lock around every reportlab/factur-x render (see the module docstring).
_RENDER_LOCK: Final = threading.RLock()


def render_content_pdf(content: Mapping[str, Any]) -> bytes:
    """A readable A4 PDF of ``content`` (the :mod:`.content` model); thread-safe."""
    with _RENDER_LOCK:
        return _render_content_pdf(content)


def render_facturx_pdf(content: Mapping[str, Any], cii_xml: bytes) -> bytes:
    """A Factur-X / ZUGFeRD 2 PDF/A-3 of ``content`` with ``cii_xml`` embedded; thread-safe."""
    with _RENDER_LOCK:
        return _render_facturx_pdf(content, cii_xml)


def render_validation_report_pdf(verdict: Verdict, *, title: str, invoice_number: str | None = None) -> bytes:
    """A PDF listing every message of ``verdict`` (rule id, level, text); thread-safe."""
    with _RENDER_LOCK:
        return _render_validation_report_pdf(verdict, title=title, invoice_number=invoice_number)
