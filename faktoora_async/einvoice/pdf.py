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
parsing and line breaking are most of reportlab's time).  The Factur-X sRGB output intent is written by
reportlab itself, and factur-x's result replaces its input instead of being appended to it (which stored
every page and font twice).

reportlab draws; factur-x embeds.  Text is set in DejaVu Sans (embedded; Latin, Greek and Cyrillic), from
matplotlib's data folder (see :mod:`._pdf_base`).  The parts: :mod:`._pdf_base` (fonts, styles, page
template), :mod:`._pdf_view` (the invoice view); this module: Factur-X, validation report, public API.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Final

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table

from ._pdf_base import _build, _p, _s, _srgb_icc, _styles, _table_style
from ._pdf_view import render_view as _render_content_pdf
from .verdict import Verdict

__all__ = ["render_content_pdf", "render_facturx_pdf", "render_validation_report_pdf"]

logger = logging.getLogger("faktoora_async.einvoice.pdf")

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


def _facturx_metadata(content: Mapping[str, Any]) -> dict[str, str]:
    """Title, author, subject and keywords of a Factur-X PDF (document info and XMP)."""
    number = _s(content.get("invoiceNumber"))
    seller = _s((content.get("seller") or {}).get("name"))
    return {
        "author": seller or "faktoora-async",
        "keywords": "Factur-X, ZUGFeRD, EN 16931",
        "title": f"{seller}: Invoice {number}".strip(": "),
        "subject": f"Factur-X invoice {number}",
    }


_XMP_PACKET: Final = ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n', '\n<?xpacket end="w"?>')


class _FacturXParts:
    """Makes the document being drawn a Factur-X / ZUGFeRD 2 PDF/A-3 (profile EN 16931): a first-page
    hook (:data:`._pdf_base.FirstPageHook`) that adds, in reportlab's own single pass, what
    ``facturx.generate_from_file`` adds by re-reading and re-writing the whole PDF with pypdf (~6 ms per
    invoice, a third of a Factur-X render):

    * the XML as embedded file ``factur-x.xml`` (``/EmbeddedFile``, subtype ``text/xml``, MD5 checksum,
      size and date), its ``/Filespec`` with ``/AFRelationship /Data``, listed in the catalog's
      ``/Names /EmbeddedFiles`` and ``/AF``, ``/PageMode /UseAttachments``, ``/Lang de-DE``;
    * the XMP metadata of factur-x's own :func:`facturx.facturx.generate_xmp_object` (PDF/A-3B, the
      Factur-X extension schema: document type INVOICE, file name, version 1.0, level EN 16931), with the
      title, author, subject, producer, creator tool and dates of the document information, which is
      set to the same values;
    * the ``%PDF-1.6`` header factur-x writes.
    """

    def __init__(self, xml: bytes, metadata: Mapping[str, str]) -> None:
        self.xml = xml
        self.metadata = metadata

    def __call__(self, canvas: Any) -> None:
        from facturx.facturx import FACTURX_FILENAME
        from reportlab.pdfbase import pdfdoc as pd

        doc = canvas._doc
        meta = self.metadata
        canvas.setTitle(meta["title"])
        canvas.setAuthor(meta["author"])
        canvas.setSubject(meta["subject"])
        canvas.setKeywords(meta["keywords"])
        # the dates reportlab writes into the document information (creation = modification)
        stamp = doc._timeStamp
        y, mo, d, h, mi, sec = stamp.YMDhms
        zh, zm = stamp.dhh, stamp.dmm
        pdf_date = f"D:{y:04d}{mo:02d}{d:02d}{h:02d}{mi:02d}{sec:02d}{zh:+03d}'{zm:02d}'"  # as reportlab's
        xmp_date = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{sec:02d}{zh:+03d}:{zm:02d}"

        name = pd.PDFString(FACTURX_FILENAME)
        spec_ref = self._file_spec(doc, pd, name, pdf_date)
        metadata = self._xmp_stream(doc, pd, xmp_date)
        catalog = doc.Catalog
        if getattr(catalog, "Names", None) is not None or getattr(catalog, "Metadata", None) is not None:
            raise RuntimeError("reportlab's catalog already has /Names or /Metadata")
        # reportlab writes only the catalog keys its class lists: this instance lists /AF too
        catalog.__NoDefault__ = [*catalog.__NoDefault__, "AF"]
        catalog.Names = pd.PDFDictionary(
            {"EmbeddedFiles": pd.PDFDictionary({"Names": pd.PDFArray([name, spec_ref])})}
        )
        catalog.AF = pd.PDFArray([spec_ref])
        catalog.Metadata = doc.Reference(metadata)
        catalog.PageMode = pd.PDFName("UseAttachments")
        catalog.Lang = pd.PDFString("de-DE")
        doc._pdfVersion = max(tuple(doc._pdfVersion), (1, 6))

    def _file_spec(self, doc: Any, pd: Any, name: Any, pdf_date: str) -> Any:
        """The XML as ``/EmbeddedFile`` and the reference to its ``/Filespec`` (``/AFRelationship /Data``)."""
        params = pd.PDFDictionary(
            {
                "CheckSum": f"<{hashlib.md5(self.xml).hexdigest()}>",  # a checksum, as the PDF spec says
                "ModDate": pd.PDFString(pdf_date),
                "Size": len(self.xml),
            }
        )
        head = {"Type": pd.PDFName("EmbeddedFile"), "Subtype": "/text#2Fxml", "Params": params}
        embedded = pd.PDFStream(
            pd.PDFDictionary(head),
            self.xml,
            filters=[pd.PDFZCompress],
        )
        file_ref = doc.Reference(embedded)
        spec = pd.PDFDictionary(
            {
                "Type": pd.PDFName("Filespec"),
                "F": name,
                "UF": name,
                "Desc": pd.PDFString("Factur-X XML file"),
                "AFRelationship": pd.PDFName("Data"),
                "EF": pd.PDFDictionary({"F": file_ref, "UF": file_ref}),
            }
        )
        return doc.Reference(spec)

    def _xmp_stream(self, doc: Any, pd: Any, xmp_date: str) -> Any:
        """The ``/Metadata`` stream: factur-x's own XMP with the document information's values."""
        from facturx.facturx import FACTURX_FILENAME, FACTURX_LEVEL2xmp, generate_xmp_object
        from lxml import etree

        meta = self.metadata
        xmp_root = generate_xmp_object(
            {
                "pdfa3_flavor": "B",
                "title": meta["title"],
                "author": meta["author"],
                "subject": meta["subject"],
                "producer": doc.info.producer,
                "creator_tool": doc.info.creator,
                "timestamp": xmp_date,
                "version": "1.0",
                "documenttype": "INVOICE",
                "xml_filename": FACTURX_FILENAME,
                "xmp_level": FACTURX_LEVEL2xmp["en16931"],
                "urn": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
            }
        )
        xmp = etree.tostring(xmp_root, pretty_print=True).decode("utf-8").strip()
        return pd.PDFStream(
            pd.PDFDictionary({"Type": pd.PDFName("Metadata"), "Subtype": pd.PDFName("XML")}),
            (_XMP_PACKET[0] + xmp + _XMP_PACKET[1]).encode("utf-8"),
            filters=[pd.PDFZCompress],
        )


def _render_facturx_pdf(content: Mapping[str, Any], cii_xml: bytes) -> bytes:
    """A Factur-X / ZUGFeRD 2 PDF/A-3 (profile EN 16931) showing ``content`` with ``cii_xml`` embedded,
    drawn in one pass (:class:`_FacturXParts`); the factur-x library's re-write if that pass could not add
    every part (a reportlab that ignored a catalog entry)."""
    hook = _FacturXParts(cii_xml, _facturx_metadata(content))
    try:
        result = _render_content_pdf(content, output_intent=True, hook=hook, invariant=False)
    except RuntimeError as exc:
        logger.warning("Factur-X parts not written by reportlab (%s): using the factur-x library", exc)
        return _render_facturx_pdf_with_library(content, cii_xml)
    if not all(key in result for key in (b"/OutputIntents", b"/EmbeddedFiles", b"/AF ", b"/Metadata")):
        return _render_facturx_pdf_with_library(content, cii_xml)
    logger.debug("rendered Factur-X PDF for %s (%d bytes)", content.get("invoiceNumber"), len(result))
    return result


def _render_facturx_pdf_with_library(content: Mapping[str, Any], cii_xml: bytes) -> bytes:
    """The same PDF made the slow way: the view re-written by ``facturx.generate_from_file`` (pypdf)."""
    from facturx import generate_from_file

    visual = _render_content_pdf(content, output_intent=True)
    if b"/OutputIntents" not in visual:  # a reportlab that ignored the catalog entry: add it with pypdf
        visual = _with_output_intent(visual)
    buffer = _Rewritten(visual)
    generate_from_file(
        buffer,
        cii_xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=False,
        pdf_metadata=_facturx_metadata(content),
        lang="de-DE",
    )
    result = buffer.getvalue()
    if not result.startswith(b"%PDF") or result == visual:  # factur-x wrote nothing: never pass it off
        raise RuntimeError("factur-x did not write a PDF")
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
