"""Is a downloaded document the invoice it was asked for?  (Its invoice number, BT-1.)

A server that reuses ids after a restart, or answers with a stale document after an incident, must not
make a bulk run store one invoice's document under another's name.  The XML's BT-1 is read with the
standard library's streaming parser (no extra dependency; expat refuses entity bombs and ElementTree never
resolves external entities); a PDF's embedded XML (ZUGFeRD/Factur-X) is read when ``pypdf`` is installed
(the ``[sandbox]`` extra).  Anything that cannot be read this way is reported as unknown, and the caller
asks the server instead.
"""

from __future__ import annotations

import io
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import cast

__all__ = ["UNKNOWN", "document_number"]

UNKNOWN = "\x00unknown"  # the document's number could not be read (not an error by itself)

_CII_ROOT = "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}CrossIndustryInvoice"
_CII_DOC = "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}ExchangedDocument"
_RAM_ID = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}ID"
_UBL_ID = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}ID"
_UBL_ROOTS = ("Invoice", "CreditNote")
_EMBEDDED = {"factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml", "zugferd_invoice.xml"}
_PDF_READ_LIMIT = 64 * 1024 * 1024  # larger PDFs are not opened in memory: the caller asks the server


_XML_CHUNK = 4096  # BT-1 comes within the first kilobyte of a CII or UBL invoice: read no further


def _xml_number(stream: io.BufferedIOBase | io.BytesIO) -> str:
    """BT-1 of the XML read from ``stream``, or :data:`UNKNOWN`; stops reading as soon as it is known.

    The document is fed to the pull parser ``_XML_CHUNK`` bytes at a time (``ET.iterparse`` reads 16 KB
    and parses all of it before the first event), so a downloaded invoice is parsed only up to its
    number.
    """
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    depth = 0
    root: str | None = None
    in_doc = False
    try:
        while chunk := stream.read(_XML_CHUNK):
            parser.feed(chunk)
            for item in parser.read_events():
                event, el = cast("tuple[str, ET.Element]", item)  # only start/end events were asked for
                if event == "start":
                    depth += 1
                    if depth == 1:
                        root = el.tag
                        if root != _CII_ROOT and root.rsplit("}", 1)[-1] not in _UBL_ROOTS:
                            return UNKNOWN
                    elif depth == 2 and el.tag == _CII_DOC:
                        in_doc = True
                    continue
                depth -= 1
                if root == _CII_ROOT and in_doc and depth == 2 and el.tag == _RAM_ID:
                    return (el.text or "").strip()
                if root != _CII_ROOT and depth == 1 and el.tag == _UBL_ID:
                    return (el.text or "").strip()
                if depth == 1 and el.tag == _CII_DOC:
                    in_doc = False
                if depth <= 1:
                    el.clear()
        parser.close()
    except ET.ParseError:
        return UNKNOWN
    return UNKNOWN


def _pdf_number(path: Path) -> str:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError
    except ImportError:  # core install: no PDF reader
        return UNKNOWN
    if path.stat().st_size > _PDF_READ_LIMIT:
        return UNKNOWN
    try:
        reader = PdfReader(str(path), strict=False)
        for name, blobs in reader.attachments.items():
            if name.lower() in _EMBEDDED and blobs:
                return _xml_number(io.BytesIO(blobs[0]))
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError):
        return UNKNOWN
    return UNKNOWN


def document_number(path: str | os.PathLike[str], fmt: str) -> str:
    """BT-1 of the stored ``fmt`` (``xml`` or ``pdf``) document at ``path``, or :data:`UNKNOWN`.

    Blocking file I/O: call it from a worker thread.
    """
    target = Path(path)
    if fmt == "xml":
        with open(target, "rb") as fh:
            return _xml_number(fh)
    return _pdf_number(target)
