"""EN 16931 and XRechnung 3.0 validation in pure Python: a verdict without Java or stylesheets.

``validate_document(data)`` takes invoice bytes (CII, UBL, or a PDF embedding one) or a
:class:`~faktoora_async.einvoice.parse.ParsedInvoice` and returns a :class:`Verdict`: ``accepted`` is
``False`` as soon as one message has level ``"fatal"`` or ``"error"``.

The document is read by the one reader of its syntax (:mod:`.read_cii`, :mod:`.read_ubl`, the same that
:func:`~.parse.parse_document` uses) and judged by the rule modules of :mod:`.checks`; a
:class:`~.parse.ParsedInvoice` is not read again.

Principle: a rule is reported only where the official Schematron rules (CEN/TC 434 EN 16931 validation
artefacts and KoSIT's XRechnung 3.0 rules, including the PEPPOL rules that XRechnung adopts) report the
same rule id for the same document.  Where the CII and UBL variants of an official rule differ, the
check below is the one that holds for the syntax at hand, or the more lenient of the two.  Rules not in
the list below are not checked, so a document the official rules reject for another reason (a schema
or datatype rule such as ``CII-DT-*``/``UBL-SR-*``, an identifier code list, ...) can pass here.

Implemented rules (all reported with level ``"fatal"``, as the official rules flag them):

* Mandatory content: BR-01 .. BR-16, BR-18 .. BR-20, BR-21 .. BR-27, BR-29, BR-30, BR-31 .. BR-33,
  BR-36 .. BR-38, BR-41 .. BR-44, BR-45 .. BR-49, BR-50, BR-52, BR-53, BR-55, BR-56, BR-57, BR-61 (UBL),
  BR-62, BR-63,
  BR-CO-04, BR-CO-09, BR-CO-18, BR-CO-21 .. BR-CO-24, BR-CO-26,
  CII-DT-015 .. CII-DT-029 (referenced documents), CII-DT-097, CII-SR-467, CII-SR-470,
  UBL-SR-12, UBL-SR-13, UBL-SR-18, UBL-SR-47, UBL-SR-53.
* Totals: BR-CO-10, BR-CO-11, BR-CO-12, BR-CO-13, BR-CO-14, BR-CO-15, BR-CO-16, BR-CO-17.
* VAT categories: BR-S-01 .. BR-S-10, BR-Z-01 .. BR-Z-10, BR-E-01 .. BR-E-10, BR-AE-01 .. BR-AE-10,
  BR-IC-01 .. BR-IC-12 (category K), BR-G-01 .. BR-G-10, BR-O-01, BR-O-02, BR-O-05 .. BR-O-14,
  BR-AF-01 .. BR-AF-10 (L), BR-AG-01 .. BR-AG-10 (M), BR-B-01, BR-B-02.
* Code lists: BR-CL-01 (document type), BR-CL-08 (note subject), BR-CL-03/04/05 (ISO 4217),
  BR-CL-14 (ISO 3166 country),
  BR-CL-16 (payment means), BR-CL-17/18 (VAT category), BR-CL-22 (VATEX), BR-CL-23 (UN/ECE Rec 20 unit),
  BR-CL-24 (attachment MIME type), BR-CL-25 (electronic address scheme),
  BR-CL-10/11/21/26 (ISO 6523 ICD identifier schemes).
* XRechnung 3.0 (``xrechnung=True``): BR-DE-1 .. BR-DE-11, BR-DE-14, BR-DE-15, BR-DE-16, BR-DE-18,
  BR-DE-22, BR-DE-23-a/b, BR-DE-24-a/b, BR-DE-25-a/b, PEPPOL-EN16931-R001, R005, R008, R010, R020,
  R041, R042, R044, R046, R053, R054, R061, R110, R111, R120 (UBL), R121, R130;
  and the warning BR-DE-21 (specification identifier is not XRechnung 3.0).
"""

from __future__ import annotations

import logging

from lxml import etree

from .checks import EN16931_CHECKS, check_xrechnung
from .document import Document
from .parse import ZUGFERD1, ParsedInvoice, parse_document, read_document
from .verdict import Message, Out, Verdict
from .xmlread import ZUGFERD1_ROOT, detect_syntax, parse_xml

__all__ = ["Message", "Verdict", "validate_document", "validate_read", "validate_xml"]

logger = logging.getLogger("faktoora_async.einvoice.validate")

_ZUGFERD1_MESSAGE = Message(
    rule_id="FAKTOORA-ZUGFERD1",
    level="fatal",
    text="[FAKTOORA-ZUGFERD1] A ZUGFeRD 1.0 invoice is not an EN 16931 invoice: its content can be read, "
    "but no EN 16931 or XRechnung 3.0 rule applies to it.",
    location="/",
)


def validate_read(document: Document, *, xrechnung: bool = True) -> Verdict:
    """Judge an invoice already read into a :class:`~.document.Document`."""
    out = Out()
    for check in EN16931_CHECKS:
        check(document, out)
    if xrechnung:
        check_xrechnung(document, out)
    accepted = not any(m.is_error for m in out.messages)
    return Verdict(accepted=accepted, messages=out.messages, syntax=document.syntax)


def validate_xml(root: etree._Element, syntax: str, *, xrechnung: bool = True) -> Verdict:
    """Validate an already parsed invoice element tree (``syntax`` is ``"cii"`` or ``"ubl"``)."""
    return validate_read(read_document(root, syntax), xrechnung=xrechnung)


def validate_document(data: bytes | ParsedInvoice, *, xrechnung: bool = True) -> Verdict:
    """Validate invoice bytes (CII, UBL or a PDF embedding one) or a parsed invoice.

    Raises :class:`~faktoora_async.einvoice.errors.DocumentError` when ``data`` is not a readable invoice.
    """
    if not isinstance(data, ParsedInvoice) and b"%PDF-" in bytes(data[:1024]):
        data = parse_document(data)
    if isinstance(data, ParsedInvoice) and data.syntax == ZUGFERD1:
        return Verdict(accepted=False, messages=[_ZUGFERD1_MESSAGE], syntax=ZUGFERD1)
    if isinstance(data, ParsedInvoice):
        document = data.document
        if document is None:  # a ParsedInvoice built by hand: read its XML
            document = read_document(parse_xml(data.xml, what="the invoice XML"), data.syntax)
    else:  # XML bytes: no need to build the content model
        root = parse_xml(bytes(data))
        if root.tag == ZUGFERD1_ROOT:
            return Verdict(accepted=False, messages=[_ZUGFERD1_MESSAGE], syntax=ZUGFERD1)
        document = read_document(root, detect_syntax(root))
    verdict = validate_read(document, xrechnung=xrechnung)
    logger.debug(
        "validated %s invoice: %s, %d messages",
        document.syntax,
        "accepted" if verdict.accepted else "rejected",
        len(verdict.messages),
    )
    return verdict
