"""Shared parts of the PDFs: fonts, styles, text helpers, the page template and the PDF/A output intent.

Fonts: DejaVu Sans (regular and bold), embedded, from the data folder of matplotlib, which the
``[sandbox]`` extra installs for it: it covers Latin, Greek and Cyrillic, so Polish, Turkish, Czech, Greek
and Russian names print as written; a character neither font has is drawn as ``?``.
"""

from __future__ import annotations

import importlib.util
import io
import logging
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfdoc import PDFArray, PDFName, PDFObject
from reportlab.pdfbase.ttfonts import TTFont
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


# Characters assigned to every document's font subsets first, in this order (see _EmbeddedFont): the
# German letters and the punctuation the PDFs print, and the accented letters common in names.
_SUBSET_SEED: Final = "äöüÄÖÜß·–„“”’€§°²×éèáàçíóôåëŞşłŚ"
_SUBSET_CACHE_SIZE: Final = 64  # distinct subsets kept per font (each ~20 KB compressed)


class _EmbeddedFont(TTFont):  # type: ignore[misc]  # reportlab has no type hints
    """A TrueType font whose embedded subsets are made and compressed once, not once per document.

    reportlab embeds, per document, the subset of glyphs the document used: it cuts the subset out of the
    font file (``makeSubset``) and deflates it (``zlib``), ~35 KB per font, a quarter of the CPU of an
    invoice PDF.  The subset is numbered by the characters' order of first use, so two invoices rarely
    had the same one; :meth:`seed` assigns the characters of :data:`_SUBSET_SEED` first in every
    document, so documents that use only ASCII and those characters (nearly all invoices) share one
    subset, which is then reused as it is, deflated.  A document with other characters gets its own
    subset as before (also kept, up to :data:`_SUBSET_CACHE_SIZE` per font).  The bytes embedded are the
    same as reportlab's own for that subset.  Not thread-safe: renders hold the module lock of
    :mod:`.pdf`.
    """

    def __init__(self, name: str, filename: str) -> None:
        super().__init__(name, filename)
        self._subsets: dict[tuple[int, ...], bytes] = {}
        self._deflated: dict[tuple[int, ...], bytes] = {}
        self._parts: dict[tuple[str, tuple[int, ...]], tuple[bytes, bytes]] = {}
        face = self.face
        make_subset, add_subset_objects = face.makeSubset, face.addSubsetObjects

        def cached_subset(subset: list[int]) -> bytes:
            key = tuple(subset)
            found = self._subsets.get(key)
            if found is None:
                found = make_subset(subset)
                if len(self._subsets) < _SUBSET_CACHE_SIZE:
                    self._subsets[key] = found
            return bytes(found)

        def deflated_subset_objects(doc: Any, fontname: str, subset: list[int]) -> Any:
            descriptor = add_subset_objects(doc, fontname, subset)  # the font file stream, not yet deflated
            if doc.compression:
                stream = doc.idToObject[doc.idToObject[descriptor.name]["FontFile2"].name]
                key = tuple(subset)
                packed = self._deflated.get(key)
                if packed is None:
                    packed = zlib.compress(stream.content)
                    if len(self._deflated) < _SUBSET_CACHE_SIZE:
                        self._deflated[key] = packed
                stream.content = packed  # a stream with a /Filter already is written as it is
                stream.dictionary["Filter"] = PDFArray([PDFName("FlateDecode")])
            return descriptor

        # instance attributes: reportlab calls these through the face of this font only
        face.makeSubset = cached_subset
        face.addSubsetObjects = deflated_subset_objects

    def addObjects(self, doc: Any) -> None:  # reportlab's name
        """The font objects of every subset ``doc`` used, as ``TTFont.addObjects`` makes them, with each
        subset's ``/Widths`` array formatted and its ToUnicode CMap made and deflated once (~0.8 ms per
        subset and document otherwise); the bytes written are the same."""
        from reportlab.pdfbase import pdfdoc
        from reportlab.pdfbase.ttfonts import SUBSETN

        state = self.state.get(doc)
        if state is None or not doc.compression:
            super().addObjects(doc)
            return
        state.frozen = 1
        fonts = doc.idToObject["BasicFonts"].dict
        face = self.face
        for n, subset in enumerate(state.subsets):
            internal = self.getSubsetInternalName(n, doc)[1:]
            base = b"".join((SUBSETN(n), b"+", face.name, face.subfontNameX)).decode("pdfdoc")
            widths, cmap = self._subset_parts(doc, base, subset)
            font = pdfdoc.PDFTrueTypeFont()
            font.__Comment__ = f"Font {self.fontName} subset {n}"
            font.Name = internal
            font.BaseFont = base
            font.FirstChar = 0
            font.LastChar = len(subset) - 1
            font.Widths = _Formatted(widths)
            stream = pdfdoc.PDFStream(
                pdfdoc.PDFDictionary({"Filter": pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])}), cmap
            )
            font.ToUnicode = doc.Reference(stream, "toUnicodeCMap:" + base)
            font.FontDescriptor = face.addSubsetObjects(doc, base, subset)
            doc.Reference(font, internal)
            fonts[internal] = font
        del self.state[doc]

    def _subset_parts(self, doc: Any, base: str, subset: list[int]) -> tuple[bytes, bytes]:
        """The formatted ``/Widths`` array and the deflated ToUnicode CMap of one subset (kept, up to
        :data:`_SUBSET_CACHE_SIZE`)."""
        from reportlab.pdfbase import pdfdoc
        from reportlab.pdfbase.ttfonts import makeToUnicodeCMap

        key = (base, tuple(subset))
        parts = self._parts.get(key)
        if parts is None:
            widths = pdfdoc.PDFArray([self.face.getCharWidth(code) for code in subset]).format(doc)
            parts = widths, pdfdoc.PDFZCompress.encode(makeToUnicodeCMap(base, subset))
            if len(self._parts) < _SUBSET_CACHE_SIZE:
                self._parts[key] = parts
        return parts

    def seed(self, doc: Any) -> None:
        """Assign :data:`_SUBSET_SEED` (the characters this font has) first in ``doc``'s subsets."""
        if doc not in self.state:
            self.splitString(_SUBSET_SEED, doc)


class _Formatted(PDFObject):  # type: ignore[misc]  # reportlab has no type hints
    """A PDF value already formatted (bytes), written as it is."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def format(self, document: Any) -> bytes:
        return self.data


def _seed_fonts(doc: Any) -> None:
    """Give a new document (``canvas._doc``) the common subset of both fonts (see :class:`_EmbeddedFont`)."""
    from reportlab.pdfbase import pdfmetrics

    for name in (_REGULAR, _BOLD):
        font = pdfmetrics.getFont(name)
        if isinstance(font, _EmbeddedFont):
            font.seed(doc)


def _register_fonts() -> None:
    """Embed the fonts (PDF/A requires embedded fonts) and note which characters they can draw."""
    if _GLYPHS:
        return
    from reportlab.pdfbase import pdfmetrics

    regular_file, bold_file, family = font_files()
    if family != "DejaVu Sans":
        logger.warning("DejaVu Sans not found (install faktoora-async[sandbox]); PDFs use %s", family)
    regular, bold = _EmbeddedFont(_REGULAR, regular_file), _EmbeddedFont(_BOLD, bold_file)
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
_PLAIN_MAX_LINES: Final = 12  # taller text stays a Paragraph (its row or frame splits at its own leading)


_WIDTHS: dict[tuple[str, str, float], float] = {}  # (text, font, size) -> reportlab's stringWidth
_MAX_WIDTHS: Final = 50_000  # then the cache starts over (~5 MB at most)


def _string_width(text: str, font: str, size: float) -> float:
    """reportlab's ``stringWidth``, remembered: the labels, words and characters of invoices repeat (5 of
    6 measurements of the demo's invoices had been made before, ~2.5 us each)."""
    key = (text, font, size)
    width = _WIDTHS.get(key)
    if width is None:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        if len(_WIDTHS) >= _MAX_WIDTHS:
            _WIDTHS.clear()
        width = _WIDTHS[key] = stringWidth(text, font, size)
    return width


def _plain_lines(text: str, font: str, size: float, room: float) -> list[str] | None:
    """``text`` as lines of at most ``room`` points in ``font`` at ``size``, or None when a Paragraph must
    set it (more than :data:`_PLAIN_MAX_LINES` lines).

    Each ``\\n`` starts a line; a line that fits is kept as written, a longer one is broken at its spaces
    (greedy, as a Paragraph breaks plain text), and a word longer than a line (an e-mail address, an IBAN)
    fills the line it starts on and continues on the next, as a Paragraph splits long words.  This is the
    cheap path: a Paragraph parses markup and breaks lines word by word (most of reportlab's time in an
    invoice), while plain lines are measured once and drawn as they are.
    """
    out: list[str] = []
    for line in text.split("\n"):
        if _string_width(line, font, size) <= room:
            out.append(line)
            continue
        space = _string_width(" ", font, size)
        words: list[str] = []
        used = 0.0
        for word in line.split():
            width = _string_width(word, font, size)
            # a word that does not fit ends the line, unless it is longer than a line and room is left
            if words and used + space + width > room and (width <= room or used + space >= room):
                out.append(" ".join(words))
                words, used = [], 0.0
            if width <= room:
                used = width if not words else used + space + width
                words.append(word)
                continue
            while word:  # longer than a line: as much as fits here, the rest on the next line(s)
                left = room - (used + space if words else 0.0)
                cut, taken = 0, 0.0
                for ch in word:
                    step = _string_width(ch, font, size)
                    if taken + step > left and (cut or words):
                        break
                    cut, taken = cut + 1, taken + step
                if cut:
                    used = taken if not words else used + space + taken
                    words.append(word[:cut])
                    word = word[cut:]
                if word:
                    out.append(" ".join(words))
                    words, used = [], 0.0
        out.append(" ".join(words))
        if len(out) > _PLAIN_MAX_LINES:
            return None
    return out if len(out) <= _PLAIN_MAX_LINES else None


def _cell(value: Any, style: ParagraphStyle, width: float, padding: float = _CELL_PADDING) -> str | Paragraph:
    """A table cell: plain text (broken into lines that fit ``width`` minus ``padding`` points, in the font
    and size of ``style``) or, when that is not possible, a wrapping Paragraph (see :func:`_plain_lines`).

    Plain strings are drawn by the table itself (its FONTNAME/FONTSIZE/LEADING/TEXTCOLOR/ALIGN, one line
    per ``\n``), which costs a fraction of a Paragraph: the table's style must give such cells the font,
    size, leading and colour of ``style``.
    """
    text = _s(value)
    lines = _plain_lines(text, style.fontName, style.fontSize, width - padding)
    if lines is None:
        return _p(text, style)
    return "\n".join(lines)


class _Text(Flowable):  # type: ignore[misc]  # reportlab has no type hints
    """Left-aligned lines of plain text in one style: what a Paragraph of unmarked text draws, without
    its markup parsing and line breaking (the lines are broken by :func:`_plain_lines`).

    Like a Paragraph, the first baseline is ``fontSize`` below the top, lines are ``leading`` apart, and
    the style's ``spaceBefore``/``spaceAfter`` apply; at the foot of a frame it splits between lines.
    """

    def __init__(self, lines: list[str], style: ParagraphStyle) -> None:
        super().__init__()
        self.lines = lines
        self.style = style
        self.spaceBefore = style.spaceBefore
        self.spaceAfter = style.spaceAfter

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        self.height = self.style.leading * len(self.lines)
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        fit = int(availHeight // self.style.leading)
        if fit < 1 or fit >= len(self.lines):
            return []
        return [_Text(self.lines[:fit], self.style), _Text(self.lines[fit:], self.style)]

    def draw(self) -> None:
        st = self.style
        text = self.canv.beginText(0, self.height - st.fontSize)
        text.setFont(st.fontName, st.fontSize, st.leading)
        text.setFillColor(st.textColor)
        for line in self.lines:
            text.textLine(line)
        self.canv.drawText(text)


def _text(value: Any, style: ParagraphStyle, width: float) -> Flowable:
    """A block of text ``width`` points wide for the story: a :class:`_Text` when its lines can be set
    plainly (:func:`_plain_lines`), else a Paragraph."""
    text = _s(value)
    lines = _plain_lines(text, style.fontName, style.fontSize, width)
    if lines is None or style.alignment != TA_LEFT:
        return _p(text, style)
    return _Text(lines, style)


def _plain_style(
    style: TableStyle, cells: tuple[tuple[int, int], tuple[int, int]], para: ParagraphStyle
) -> None:
    """Give the plain-string cells in the range ``cells`` the font, size, leading and colour of ``para``."""
    start, stop = cells
    style.add("FONTNAME", start, stop, para.fontName)
    style.add("FONTSIZE", start, stop, para.fontSize)
    style.add("LEADING", start, stop, para.leading)
    style.add("TEXTCOLOR", start, stop, para.textColor)


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


def _facts_table(facts: Sequence[tuple[str, str]]) -> Table:
    """The key facts with a value, two 32 mm columns of plain cells: the label small and grey, the value
    in the normal style (a cell too long to set plainly is a Paragraph, see :func:`_cell`)."""
    st = _styles()
    width = 32 * mm
    rows = [[_cell(k, st["small"], width), _cell(v, st["normal"], width)] for k, v in facts if v]
    table = Table(rows or [["", ""]], colWidths=[width, width])
    style = TableStyle([("FONTNAME", (0, 0), (-1, -1), _REGULAR), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    _plain_style(style, ((0, 0), (0, -1)), st["small"])
    _plain_style(style, ((1, 0), (1, -1)), st["normal"])
    table.setStyle(style)
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


FirstPageHook = Callable[[Canvas], None]
"""Called with the canvas before the first page is drawn (to add catalog entries, set metadata)."""


class _FirstPage:
    """The first page's callback (called before anything is drawn on it): the fonts' common subset
    (:func:`_seed_fonts`), the footer, plus (once) the output intent and the caller's ``hook``."""

    def __init__(self, footer: _Footer, output_intent: bool, hook: FirstPageHook | None = None) -> None:
        self.footer = footer
        self.output_intent = output_intent
        self.hook = hook

    def __call__(self, canvas: Canvas, doc: Any) -> None:
        _seed_fonts(canvas._doc)  # before the first text of the document
        if self.output_intent:
            _add_output_intent(canvas)
        if self.hook is not None:
            self.hook(canvas)
        self.footer(canvas, doc)


def _build(
    story: Sequence[Flowable],
    *,
    title: str,
    footer: str,
    subject: str,
    output_intent: bool = False,
    hook: FirstPageHook | None = None,
    invariant: bool = True,
) -> bytes:
    """The PDF of ``story``; ``invariant=False`` dates it now (else reportlab's fixed 2000-01-01)."""
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
        invariant=invariant,
        initialFontName=_REGULAR,
    )
    on_page = _Footer(_s(footer))
    doc.build(list(story), onFirstPage=_FirstPage(on_page, output_intent, hook), onLaterPages=on_page)
    return buffer.getvalue()
