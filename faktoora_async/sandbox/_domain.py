"""The sandbox's only door to :mod:`faktoora_async.einvoice` (pure EN 16931 code).

The einvoice modules (lxml, reportlab, pypdf) are imported lazily, on first use, so the sandbox starts
fast.  Every function here blocks: the app calls them in its bounded worker-thread pool.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faktoora_async.einvoice.parse import ParsedInvoice
    from faktoora_async.einvoice.validate import Verdict


class UnreadableFile(Exception):
    """The uploaded file is not a readable invoice."""


def render_xml(invoice: Mapping[str, Any]) -> bytes:
    """The invoice XML (UBL for ``schema: "UBL"``, else CII): fast, done in the generation job."""
    from .validation import syntax_of

    if syntax_of(invoice) == "ubl":
        from faktoora_async.einvoice.ubl import render_ubl

        return bytes(render_ubl(invoice))
    from faktoora_async.einvoice.cii import render_cii

    return bytes(render_cii(invoice))


def render_pdf(invoice: Mapping[str, Any], xml: bytes) -> bytes:
    """The PDF matching ``xml`` (Factur-X with that XML embedded for ``zf:*``, else a readable view).

    Costly (reportlab), so the sandbox renders it on the first PDF download and caches it.
    """
    from faktoora_async.einvoice.parse import read_content
    from faktoora_async.einvoice.pdf import render_content_pdf, render_facturx_pdf
    from faktoora_async.einvoice.render import FACTURX_FORMATS

    content = read_content(xml)
    if str(invoice.get("format") or "xrechnung") in FACTURX_FORMATS:
        return bytes(render_facturx_pdf(content, xml))
    return bytes(render_content_pdf(content))


def validate_xml(xml: bytes) -> tuple[bool, Verdict]:
    """``(accepted, verdict)`` of a rendered invoice (EN 16931 + XRechnung rules)."""
    from faktoora_async.einvoice.validate import validate_document

    verdict = validate_document(xml)
    return bool(verdict.accepted), verdict


def validate_parsed(parsed: ParsedInvoice) -> tuple[bool, Verdict]:
    from faktoora_async.einvoice.validate import validate_document

    verdict = validate_document(parsed)
    return bool(verdict.accepted), verdict


def report_pdf(verdict: Verdict, title: str, invoice_number: str) -> bytes:
    """The PDF validation report of ``verdict``."""
    from faktoora_async.einvoice.pdf import render_validation_report_pdf

    return bytes(render_validation_report_pdf(verdict, title=title, invoice_number=invoice_number))


def content_pdf(content: Mapping[str, Any]) -> bytes:
    """A PDF view of an imported invoice's content."""
    from faktoora_async.einvoice.pdf import render_content_pdf

    return bytes(render_content_pdf(content))


def parse_document(data: bytes) -> ParsedInvoice:
    """A ``ParsedInvoice``; raises :class:`UnreadableFile` on anything unreadable."""
    from faktoora_async.einvoice.errors import DocumentError
    from faktoora_async.einvoice.parse import parse_document as _parse

    try:
        return _parse(data)
    except DocumentError as exc:
        raise UnreadableFile(exc.reason) from exc


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
