"""Shared parts of the PDFs: fonts, styles, text helpers, the page template and the PDF/A output intent.

Fonts: DejaVu Sans (regular and bold), embedded, from the data folder of matplotlib, which the
``[sandbox]`` extra installs for it: it covers Latin, Greek and Cyrillic, so Polish, Turkish, Czech, Greek
and Russian names print as written; a character neither font has is drawn as ``?``.
"""

from __future__ import annotations

import importlib.util
import io
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Table, TableStyle

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
_REGULAR: Final = "FaktooraSans"
_BOLD: Final = "FaktooraSans-Bold"
_GLYPHS: set[int] = set()  # code points both fonts can draw; filled by _register_fonts
FONT_FAMILY: list[str] = []  # the family in use, for reports ("DejaVu Sans" or the "Bitstream Vera" fallback)


def font_files() -> tuple[str, str, str]:
    """(regular, bold, family): DejaVu Sans from matplotlib's data folder, else reportlab's Vera.

    DejaVu Sans covers Latin (with Extended-A/B), Greek and Cyrillic; matplotlib (a dependency of the
    ``[sandbox]`` extra) ships it and is found without being imported.  Without it, Bitstream Vera
    (reportlab) is used, which has Latin-1 only.
    """
    spec = importlib.util.find_spec("matplotlib")
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        folder = Path(location) / "mpl-data" / "fonts" / "ttf"
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return str(regular), str(bold), "DejaVu Sans"
    return "Vera.ttf", "VeraBd.ttf", "Bitstream Vera"


def _register_fonts() -> None:
    """Embed the fonts (PDF/A requires embedded fonts) and note which characters they can draw."""
    if _GLYPHS:
        return
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    regular_file, bold_file, family = font_files()
    if family != "DejaVu Sans":
        logger.warning("DejaVu Sans not found (install faktoora-async[sandbox]); PDFs use %s", family)
    regular, bold = TTFont(_REGULAR, regular_file), TTFont(_BOLD, bold_file)
    pdfmetrics.registerFont(regular)
    pdfmetrics.registerFont(bold)
    pdfmetrics.registerFontFamily(_REGULAR, normal=_REGULAR, bold=_BOLD, italic=_REGULAR, boldItalic=_BOLD)
    FONT_FAMILY[:] = [family]
    _GLYPHS.update(set(regular.face.charToGlyph) & set(bold.face.charToGlyph))


_GREY: Final = colors.HexColor("#555555")
_LIGHT: Final = colors.HexColor("#EEF1F5")
_LINE: Final = colors.HexColor("#B8C0CC")
_ACCENT: Final = colors.HexColor("#1F3A5F")


# ------------------------------------------------------------------------------------------ helpers


def _s(value: Any) -> str:
    """Plain text for a value (``None`` -> ``""``); a character the fonts cannot draw becomes ``?``."""
    if value is None:
        return ""
    text = str(value)
    if text.isascii():
        return text
    _register_fonts()
    return "".join(ch if ord(ch) in _GLYPHS or ch in "\n\t" else "?" for ch in text)


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
