"""Read EN 16931 invoices: UN/CEFACT CII (D16B), OASIS UBL Invoice/CreditNote, and PDFs embedding one;
also ZUGFeRD 1.0 files (:mod:`.read_zf1`), so that old invoices can be imported.

``parse_document(data)`` returns a :class:`ParsedInvoice` holding the invoice XML, its syntax, the content
model of :mod:`faktoora_async.einvoice.content` and the embedded attachments (BG-24, plus the other
files embedded in a PDF).  Anything that is not a readable CII/UBL invoice raises
:class:`~faktoora_async.einvoice.errors.DocumentError` with one sentence naming the reason.

XML is parsed with the hardened parser of :mod:`.xmlread` (no DTD, no entities, no network, DOCTYPEs
refused) and read by the one reader of its syntax (:mod:`.read_cii`, :mod:`.read_ubl`) into a
:class:`~.document.Document`, from which :func:`.content.from_document` builds the content model.
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from lxml import etree

from .content import from_document, summarize
from .document import Document
from .errors import DocumentError
from .read_cii import read_cii
from .read_ubl import read_ubl
from .read_zf1 import read_zf1
from .xmlread import (
    CII_ROOT,
    NS,
    UBL_CREDIT_NOTE_ROOT,
    UBL_INVOICE_ROOT,
    ZUGFERD1_ROOT,
    detect_syntax,
    parse_xml,
)

__all__ = [
    "CII_ROOT",
    "NS",
    "UBL_CREDIT_NOTE_ROOT",
    "UBL_INVOICE_ROOT",
    "ZUGFERD1",
    "ZUGFERD1_ROOT",
    "Attachment",
    "ParsedInvoice",
    "detect_syntax",
    "parse_document",
    "parse_xml",
    "read_content",
    "read_document",
]

logger = logging.getLogger("faktoora_async.einvoice.parse")

ZUGFERD1: Final = "zugferd1"
"""``ParsedInvoice.syntax`` of a ZUGFeRD 1.0 file (read by the CII reader after renaming; never rendered)."""

INVOICE_ATTACHMENT_NAMES: Final = frozenset({"factur-x.xml", "xrechnung.xml", "zugferd-invoice.xml"})

_MIME_BY_SUFFIX: Final = {
    ".pdf": "application/pdf",
    ".xml": "text/xml",
    ".csv": "text/csv",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".txt": "text/plain",
}


@dataclass(frozen=True)
class Attachment:
    """One embedded file (BG-24 binary object, or another file embedded in a PDF)."""

    id: str
    filename: str
    mime_type: str
    description: str | None
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class ParsedInvoice:
    """A readable EN 16931 invoice: its XML, syntax, content model and attachments."""

    syntax: str  # "cii" | "ubl" | "zugferd1"
    source_kind: str  # "xml" | "pdf"
    xml: bytes = field(repr=False)
    content: dict[str, Any] = field(repr=False)
    attachments: list[Attachment] = field(default_factory=list, repr=False)
    document: Document | None = field(default=None, repr=False, compare=False)
    """What the syntax's reader read (:mod:`.document`); :func:`~.validate.validate_document` reuses it."""

    def summary(self) -> dict[str, Any]:
        """Key attributes: number, dates, type, currency, party names, totals, line count, syntax."""
        return summarize(self.content, self.syntax)


def read_document(root: etree._Element, syntax: str, *, scan: bool = True) -> Document:
    """The one reader of ``syntax`` (``"cii"`` or ``"ubl"``) applied to a parsed element tree (``scan``: see
    :func:`.read_cii.read_cii`)."""
    return read_cii(root, scan=scan) if syntax == "cii" else read_ubl(root, scan=scan)


def _embedded(doc: Document) -> list[tuple[str, str, str | None, bytes]]:
    """The attachments (BG-24) carried in the XML, decoded."""
    out = []
    for item in doc.embedded:
        filename = item.filename or item.reference or "attachment"
        out.append((filename, item.mime_code or "", item.description, _b64(item.base64_text, filename)))
    return out


def _b64(text: str | None, filename: str) -> bytes:
    if not text:
        return b""
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise DocumentError(f"the embedded attachment {filename!r} is not valid base64.") from None


# ------------------------------------------------------------------------------------------- PDF


def _guess_mime(filename: str) -> str:
    lower = filename.lower()
    for suffix, mime in _MIME_BY_SUFFIX.items():
        if lower.endswith(suffix):
            return mime
    return "application/octet-stream"


def _pdf_files(data: bytes) -> list[tuple[str, bytes]]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        files: list[tuple[str, bytes]] = []
        for name, contents in reader.attachments.items():
            for blob in contents:
                files.append((name, blob))
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise DocumentError(f"the PDF cannot be read ({exc}).") from None
    return files


def _from_pdf(data: bytes) -> tuple[bytes, list[tuple[str, str, str | None, bytes]]]:
    files = _pdf_files(data)
    invoice = [i for i, (n, _) in enumerate(files) if n.lower() in INVOICE_ATTACHMENT_NAMES]
    if not invoice:
        names = ", ".join(sorted(n for n, _ in files)) or "none"
        raise DocumentError(
            "the PDF embeds no invoice XML (factur-x.xml, xrechnung.xml or zugferd-invoice.xml); "
            f"embedded files: {names}."
        )
    xml = files[invoice[0]][1]
    others: list[tuple[str, str, str | None, bytes]] = [
        (n, _guess_mime(n), None, b) for i, (n, b) in enumerate(files) if i != invoice[0]
    ]
    return xml, others


# ------------------------------------------------------------------------------------------ public


def _is_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


def parse_document(data: bytes) -> ParsedInvoice:
    """Parse CII, UBL Invoice/CreditNote or a PDF embedding one; raise ``DocumentError`` otherwise."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DocumentError("the document must be given as bytes.")
    data = bytes(data)
    if not data.strip():
        raise DocumentError("the file is empty.")
    extra: list[tuple[str, str, str | None, bytes]] = []
    if _is_pdf(data):
        xml, extra = _from_pdf(data)
        source_kind = "pdf"
        what = "the invoice XML embedded in the PDF"
    else:
        xml = data
        source_kind = "xml"
        what = "the file"
    root = parse_xml(xml, what=what)
    if root.tag == ZUGFERD1_ROOT:  # read for import; it is not an EN 16931 invoice (see validate)
        syntax, document = ZUGFERD1, read_zf1(root)
    else:
        syntax = detect_syntax(root, what=what)
        document = read_document(root, syntax)
    content = from_document(document)
    attachments = _number_attachments(_embedded(document) + extra)
    logger.debug(
        "parsed %s invoice %s from %s (%d lines, %d attachments)",
        syntax,
        content.get("invoiceNumber"),
        source_kind,
        len(content["lineItems"]),
        len(attachments),
    )
    return ParsedInvoice(
        syntax=syntax,
        source_kind=source_kind,
        xml=xml,
        content=content,
        attachments=attachments,
        document=document,
    )


def read_content(xml: bytes) -> dict[str, Any]:
    """The content model of a CII or UBL invoice XML: ``parse_document(xml).content``, read without the
    whole-document facts only the rules need (``scan=False``), for a view of the invoice (the sandbox's
    PDFs: ~1 ms less per invoice).  Anything else (a PDF, ZUGFeRD 1.0) is read by :func:`parse_document`;
    it raises the ``DocumentError`` that :func:`parse_document` would."""
    if not isinstance(xml, (bytes, bytearray, memoryview)) or _is_pdf(bytes(xml)):
        return parse_document(xml).content
    root = parse_xml(bytes(xml))
    if root.tag == ZUGFERD1_ROOT:
        return parse_document(xml).content
    return from_document(read_document(root, detect_syntax(root), scan=False))


def _number_attachments(items: Iterable[tuple[str, str, str | None, bytes]]) -> list[Attachment]:
    return [
        Attachment(
            id=str(index),
            filename=filename,
            mime_type=mime or _guess_mime(filename),
            description=description,
            content=blob,
        )
        for index, (filename, mime, description, blob) in enumerate(items, start=1)
    ]
