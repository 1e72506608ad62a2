"""Render a faktoora payload invoice to its e-invoice files: the XML (CII or UBL) and a PDF.

``format`` picks the syntax: ``xrechnung`` (default) -> CII, ``xrechnung:ubl`` -> UBL, ``zf:2``/``zf:1``
-> CII (embedded in a Factur-X/ZUGFeRD PDF/A-3).  The PDFs come from :mod:`faktoora_async.einvoice.pdf`.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from faktoora_async.einvoice._util import text
from faktoora_async.einvoice.cii import render_cii
from faktoora_async.einvoice.ubl import render_ubl

__all__ = ["FACTURX_FORMATS", "FORMATS", "RenderedFiles", "render_files", "render_xml", "syntax_for_format"]

logger = logging.getLogger("faktoora_async.einvoice.render")

FORMATS: dict[str, str] = {"xrechnung": "cii", "xrechnung:ubl": "ubl", "zf:2": "cii", "zf:1": "cii"}
"""Payload ``format`` value -> XML syntax."""

FACTURX_FORMATS = frozenset({"zf:2", "zf:1"})
"""Formats whose PDF is a Factur-X/ZUGFeRD PDF/A-3 with the CII embedded."""


@dataclass(frozen=True)
class RenderedFiles:
    """The rendered invoice: XML bytes, PDF bytes (Factur-X for zf:*, else a visualisation) and syntax."""

    xml: bytes = field(repr=False)
    pdf: bytes = field(repr=False)
    syntax: str


def syntax_for_format(invoice_format: Any) -> str:
    """``"cii"`` or ``"ubl"`` for a payload ``format`` (absent means ``xrechnung``); ValueError if unknown."""
    key = text(invoice_format) or "xrechnung"
    try:
        return FORMATS[key]
    except KeyError:
        raise ValueError(f"format: unknown format {key[:40]!r}, expected one of {sorted(FORMATS)}") from None


def render_xml(invoice: Mapping[str, Any]) -> tuple[bytes, str]:
    """Render the invoice XML; returns ``(xml_bytes, syntax)`` with syntax ``"cii"`` or ``"ubl"``."""
    syntax = syntax_for_format(invoice.get("format"))
    xml = render_ubl(invoice) if syntax == "ubl" else render_cii(invoice)
    logger.debug("rendered %s invoice %r (%d bytes)", syntax, invoice.get("invoiceNumber"), len(xml))
    return xml, syntax


def render_files(invoice: Mapping[str, Any]) -> RenderedFiles:
    """Render the XML and the matching PDF (Factur-X with embedded CII for ``zf:*``)."""
    # E2's modules, imported lazily so that XML rendering works without the PDF stack.
    parse = importlib.import_module("faktoora_async.einvoice.parse")
    pdf = importlib.import_module("faktoora_async.einvoice.pdf")
    xml, syntax = render_xml(invoice)
    content = parse.parse_document(xml).content
    if (text(invoice.get("format")) or "xrechnung") in FACTURX_FORMATS:
        pdf_bytes = bytes(pdf.render_facturx_pdf(content, xml))
    else:
        pdf_bytes = bytes(pdf.render_content_pdf(content))
    return RenderedFiles(xml=xml, pdf=pdf_bytes, syntax=syntax)
