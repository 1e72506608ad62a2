"""The sandbox's only door to :mod:`faktoora_async.einvoice` (pure EN 16931 code).

Imports are lazy so the sandbox starts fast.  ``PLACEHOLDER`` fallbacks below exist only until the
einvoice modules land; they produce minimal documents and are marked as such.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger("faktoora_async.sandbox")


def _module(name: str) -> Any:
    try:
        return importlib.import_module(f"faktoora_async.einvoice.{name}")
    except ImportError:
        return None


def render_files(invoice: Mapping[str, Any]) -> tuple[bytes, bytes]:
    """``(xml, pdf)`` of a payload invoice (blocking: call it in a worker thread)."""
    mod = _module("render")
    if mod is not None:
        try:
            files = mod.render_files(invoice)
        except ImportError:  # PLACEHOLDER: a half-landed einvoice package
            mod = None
        else:
            return bytes(files.xml), bytes(files.pdf)
    logger.warning("PLACEHOLDER renderer in use: faktoora_async.einvoice.render is missing")
    return _placeholder_xml(invoice), _placeholder_pdf(str(invoice.get("invoiceNumber", "")))


def validate_xml(xml: bytes) -> tuple[bool, Any]:
    """``(accepted, verdict)`` of a rendered invoice (blocking)."""
    mod = _module("validate")
    if mod is None:
        return True, None
    verdict = mod.validate_document(xml)
    return bool(verdict.accepted), verdict


def validate_parsed(parsed: Any) -> tuple[bool, Any]:
    mod = _module("validate")
    if mod is None:
        return True, None
    verdict = mod.validate_document(parsed)
    return bool(verdict.accepted), verdict


def report_pdf(verdict: Any, title: str, invoice_number: str) -> bytes:
    """The PDF validation report of ``verdict`` (blocking)."""
    mod = _module("pdf")
    if mod is None or verdict is None:
        return _placeholder_pdf(f"Validation report {invoice_number}")
    return bytes(mod.render_validation_report_pdf(verdict, title=title, invoice_number=invoice_number))


def content_pdf(content: Mapping[str, Any]) -> bytes:
    mod = _module("pdf")
    if mod is None:
        return _placeholder_pdf(str(content.get("invoiceNumber", "")))
    return bytes(mod.render_content_pdf(content))


class UnreadableFile(Exception):
    """The uploaded file is not a readable invoice."""


def parse_document(data: bytes) -> Any:
    """A ``ParsedInvoice``; raises :class:`UnreadableFile` on anything unreadable (blocking)."""
    mod = _module("parse")
    if mod is None:
        raise UnreadableFile("the document parser is not available yet")
    errors = importlib.import_module("faktoora_async.einvoice.errors")
    try:
        return mod.parse_document(data)
    except errors.DocumentError as exc:
        raise UnreadableFile(str(exc.reason)) from exc


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- PLACEHOLDER (remove once faktoora_async.einvoice.render lands) -------------------------------
def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _placeholder_xml(invoice: Mapping[str, Any]) -> bytes:
    number = _esc(str(invoice.get("invoiceNumber", "")))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rsm:CrossIndustryInvoice '
        'xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" '
        'xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100">'
        f"<rsm:ExchangedDocument><ram:ID>{number}</ram:ID></rsm:ExchangedDocument></rsm:CrossIndustryInvoice>\n"
    ).encode()


def _placeholder_pdf(title: str) -> bytes:
    text = title.replace("\\", "").replace("(", "").replace(")", "")[:80]
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
