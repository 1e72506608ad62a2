"""Reading invoice XML safely, and the small lookups the CII and UBL readers share.

:func:`parse_xml` uses a hardened lxml parser: no DTD loading, no entity resolution, no network, and any
document carrying a ``<!DOCTYPE`` is refused outright (that closes XXE and "billion laughs").
:func:`detect_syntax` names the syntax from the root element.  The helpers below (``t``, ``s``, ``has``,
``dec``) are what :mod:`.read_cii` and :mod:`.read_ubl` use to fill a :class:`~.document.Document`.
"""

from __future__ import annotations

import re
import threading
from decimal import Decimal, InvalidOperation
from typing import Final

from lxml import etree

from .errors import DocumentError

__all__ = [
    "CII_ROOT",
    "NS",
    "UBL_CREDIT_NOTE_ROOT",
    "UBL_INVOICE_ROOT",
    "ZUGFERD1_ROOT",
    "dec",
    "detect_syntax",
    "first",
    "has",
    "parse_xml",
    "raw",
    "s",
    "t",
]

CII_ROOT: Final = "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}CrossIndustryInvoice"
UBL_INVOICE_ROOT: Final = "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
UBL_CREDIT_NOTE_ROOT: Final = "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"
ZUGFERD1_ROOT: Final = "{urn:ferd:CrossIndustryDocument:invoice:1p0}CrossIndustryDocument"

NS: Final = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}


def _new_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


_LOCAL = threading.local()  # lxml parser objects must not be shared between threads


def _parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_LOCAL, "parser", None)
    if parser is None:
        parser = _LOCAL.parser = _new_parser()
    return parser


def parse_xml(data: bytes, *, what: str = "the file") -> etree._Element:
    """Parse ``data`` with the hardened parser; refuse DOCTYPEs; raise ``DocumentError`` when unreadable."""
    if not data or not data.strip():
        raise DocumentError(f"{what} is empty.")
    head = data[:4096]
    if b"<!DOCTYPE" in head or b"<!doctype" in head or b"<!ENTITY" in data:
        raise DocumentError(f"{what} contains a DOCTYPE or entity declaration, which is refused.")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise DocumentError(f"{what} is not well-formed XML ({exc.msg}).") from None
    except ValueError as exc:  # e.g. unicode strings with an encoding declaration
        raise DocumentError(f"{what} is not readable XML ({exc}).") from None
    if root is None:
        raise DocumentError(f"{what} holds no XML element.")
    if root.getroottree().docinfo.internalDTD is not None:
        raise DocumentError(f"{what} contains a DOCTYPE declaration, which is refused.")
    return root


def detect_syntax(root: etree._Element, *, what: str = "the file") -> str:
    """``"cii"`` or ``"ubl"`` from the root element, else ``DocumentError``."""
    tag = root.tag
    if tag == CII_ROOT:
        return "cii"
    if tag in (UBL_INVOICE_ROOT, UBL_CREDIT_NOTE_ROOT):
        return "ubl"
    if tag == ZUGFERD1_ROOT:
        raise DocumentError(
            f"{what} is a ZUGFeRD 1.0 invoice (root {tag}), which is not an EN 16931 CII or UBL invoice."
        )
    raise DocumentError(f"{what} is not a CII or UBL invoice: root element {tag}.")


# ------------------------------------------------------------------------------------------ lookups


# A path of plain child steps ("ram:A/ram:B") is followed with lxml's C child iterator; lxml's find() would
# compile it through ElementPath and build a cache key from the sorted namespace map on every call (most of
# the time of reading an invoice).  Anything else (predicates, "//", ".", "*") is left to find().
_PLAIN_STEP: Final = re.compile(rf"(?:{'|'.join(NS)}):[A-Za-z_][\w.-]*")
_STEPS: dict[str, tuple[str, ...]] = {}  # path -> the Clark names of its steps; () when it is not plain
_MAX_STEPS: Final = 4096


def _steps(path: str) -> tuple[str, ...]:
    steps = _STEPS.get(path)
    if steps is None:
        parts = path.split("/")
        steps = ()
        if all(_PLAIN_STEP.fullmatch(part) for part in parts):
            steps = tuple(f"{{{NS[prefix]}}}{local}" for prefix, local in (p.split(":", 1) for p in parts))
        if len(_STEPS) < _MAX_STEPS:
            _STEPS[path] = steps
    return steps


def _first(el: etree._Element, steps: tuple[str, ...]) -> etree._Element | None:
    """What ``el.find()`` of these child steps finds: the first match in document order."""
    rest = steps[1:]
    for child in el.iterchildren(steps[0]):
        found = _first(child, rest) if rest else child
        if found is not None:
            return found
    return None


def _node(el: etree._Element | None, path: str | None) -> etree._Element | None:
    if el is None:
        return None
    if not path:
        return el
    steps = _steps(path)
    return _first(el, steps) if steps else el.find(path, NS)


def first(el: etree._Element | None, path: str) -> etree._Element | None:
    """What ``el.find(path, NS)`` finds (quicker for a path of plain child steps); None for ``el`` None."""
    return _node(el, path)


def t(el: etree._Element | None, path: str | None = None) -> str | None:
    """A code-like value: the text with whitespace runs collapsed (XPath ``normalize-space``); blank: None."""
    node = _node(el, path)
    if node is None or node.text is None:
        return None
    return " ".join(node.text.split()) or None


def s(el: etree._Element | None, path: str | None = None) -> str | None:
    """A free-text value: the text stripped at both ends (inner line breaks kept); blank: None."""
    node = _node(el, path)
    if node is None or node.text is None:
        return None
    return node.text.strip() or None


def raw(el: etree._Element | None, path: str | None = None) -> str | None:
    """The text verbatim (XRechnung Skonto lines end with a line break); blank: None."""
    node = _node(el, path)
    if node is None or node.text is None or not node.text.strip():
        return None
    return node.text


def has(el: etree._Element | None, path: str) -> bool:
    """Whether ``path`` selects an element below ``el``."""
    return _node(el, path) is not None


def dec(text: str | None) -> Decimal | None:
    """A finite decimal from ``text``; None when absent or unreadable."""
    if text is None:
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None
