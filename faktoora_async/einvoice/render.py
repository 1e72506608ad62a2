"""Render a faktoora payload invoice to its e-invoice files: the XML (CII or UBL) and a PDF.

``format`` picks the kind of invoice: ``xrechnung`` (default) or ``zf:2`` (CII embedded in a Factur-X /
ZUGFeRD 2 PDF/A-3, profile EN 16931).  ``zf:1`` (ZUGFeRD 1.0) is refused with a ``ValueError`` saying it is
not produced.  ``schema`` picks the XRechnung syntax: ``"CII"`` (default) or ``"UBL"``;
ZUGFeRD embeds CII only, so ``schema: "UBL"`` with a ``zf:*`` format is refused.  The value
``xrechnung:ubl`` of the first contract is refused with a message naming its replacement.  The PDFs come
from :mod:`faktoora_async.einvoice.pdf`.
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

__all__ = [
    "FACTURX_FORMATS",
    "FORMATS",
    "SCHEMAS",
    "RenderedFiles",
    "render_files",
    "render_xml",
    "syntax_for",
    "syntax_for_format",
]

logger = logging.getLogger("faktoora_async.einvoice.render")

FORMATS: frozenset[str] = frozenset({"xrechnung", "zf:2", "zf:1"})
"""The payload ``format`` values."""

SCHEMAS: dict[str, str] = {"CII": "cii", "UBL": "ubl"}
"""Payload ``schema`` value -> XML syntax."""

FACTURX_FORMATS = frozenset({"zf:2"})
"""Formats whose PDF is a Factur-X/ZUGFeRD 2 PDF/A-3 with the CII embedded."""

NOT_PRODUCED = {
    "zf:1": "ZUGFeRD 1.0 (format 'zf:1') is not produced; "
    "send format 'zf:2' (ZUGFeRD 2.x / Factur-X EN 16931)"
}
"""Formats the contract names but this project does not render, with the message that says so.
(ZUGFeRD 1.0 files are still *read* on import.)"""

LEGACY_UBL_FORMAT = "xrechnung:ubl"
"""The version-1 spelling of XRechnung UBL, refused since API.md version 2."""


@dataclass(frozen=True)
class RenderedFiles:
    """The rendered invoice: XML bytes, PDF bytes (Factur-X for zf:*, else a visualisation) and syntax."""

    xml: bytes = field(repr=False)
    pdf: bytes = field(repr=False)
    syntax: str


def syntax_for_format(invoice_format: Any, schema: Any = None) -> str:
    """``"cii"`` or ``"ubl"`` for a payload ``format`` and ``schema`` (absent: ``xrechnung``, ``CII``).

    Raises ``ValueError`` whose message starts with the field at fault (``format:`` or ``schema:``).
    """
    key = text(invoice_format) or "xrechnung"
    if key == LEGACY_UBL_FORMAT:
        raise ValueError(
            f"format: {LEGACY_UBL_FORMAT!r} is not accepted any more; "
            "send format 'xrechnung' with schema 'UBL'"
        )
    if key in NOT_PRODUCED:
        raise ValueError(f"format: {NOT_PRODUCED[key]}")
    if key not in FORMATS:
        raise ValueError(f"format: unknown format {key[:40]!r}, expected one of {sorted(FORMATS)}")
    name = text(schema) or "CII"
    if name not in SCHEMAS:
        raise ValueError(f"schema: unknown schema {name[:40]!r}, expected 'CII' or 'UBL'")
    if name == "UBL" and key in FACTURX_FORMATS:
        raise ValueError(
            f"schema: format {key!r} embeds CII; schema 'UBL' applies to format 'xrechnung' only"
        )
    return SCHEMAS[name]


def syntax_for(invoice: Mapping[str, Any]) -> str:
    """The XML syntax of a payload invoice, from its ``format`` and ``schema``."""
    return syntax_for_format(invoice.get("format"), invoice.get("schema"))


def render_xml(invoice: Mapping[str, Any]) -> tuple[bytes, str]:
    """Render the invoice XML; returns ``(xml_bytes, syntax)`` with syntax ``"cii"`` or ``"ubl"``."""
    syntax = syntax_for(invoice)
    xml = render_ubl(invoice) if syntax == "ubl" else render_cii(invoice)
    logger.debug("rendered %s invoice %r (%d bytes)", syntax, invoice.get("invoiceNumber"), len(xml))
    return xml, syntax


def render_files(invoice: Mapping[str, Any]) -> RenderedFiles:
    """Render the XML and the matching PDF (Factur-X with embedded CII for ``zf:*``)."""
    # E2's modules, imported lazily so that XML rendering works without the PDF stack.
    parse = importlib.import_module("faktoora_async.einvoice.parse")
    pdf = importlib.import_module("faktoora_async.einvoice.pdf")
    xml, syntax = render_xml(invoice)
    content = parse.read_content(xml)  # a view: without the facts only the rules read
    if (text(invoice.get("format")) or "xrechnung") in FACTURX_FORMATS:
        pdf_bytes = bytes(pdf.render_facturx_pdf(content, xml))
    else:
        pdf_bytes = bytes(pdf.render_content_pdf(content))
    return RenderedFiles(xml=xml, pdf=pdf_bytes, syntax=syntax)
