"""Reading ZUGFeRD 1.0 invoices (``urn:ferd:CrossIndustryDocument:invoice:1p0``) for import.

ZUGFeRD 1.0 is the CII D13B predecessor of EN 16931: the same business content under other element names
and namespaces (``HeaderExchangedDocument`` for ``ExchangedDocument``, ``ApplicableSupplyChainTradeAgreement``
for ``ApplicableHeaderTradeAgreement``, ``ApplicablePercent`` for ``RateApplicablePercent``, ``ram:ID`` of a
referenced document for ``IssuerAssignedID``...).  :func:`read_zf1` renames a copy of the tree into D16B and
reads it with the CII reader, so the content model of a ZUGFeRD 1.0 file is the same as that of a CII file.
The document keeps ``syntax = "cii"`` (what it was read as); :mod:`.parse` labels the file ``zugferd1``.
ZUGFeRD 1.0 is not EN 16931: the validator says so rather than judging it by EN 16931's rules.
"""

from __future__ import annotations

import copy
from typing import Final

from lxml import etree

from .document import Document
from .read_cii import read_cii
from .xmlread import NS

__all__ = ["ZF1_NAMESPACES", "read_zf1", "to_d16b"]

ZF1_NAMESPACES: Final = {
    "rsm": "urn:ferd:CrossIndustryDocument:invoice:1p0",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:15",
}
_TO_D16B_NS: Final = {
    ZF1_NAMESPACES["rsm"]: NS["rsm"],
    ZF1_NAMESPACES["ram"]: NS["ram"],
    ZF1_NAMESPACES["udt"]: NS["udt"],
}
_RENAME: Final = {  # local names that differ (after the namespace change)
    "CrossIndustryDocument": "CrossIndustryInvoice",
    "SpecifiedExchangedDocumentContext": "ExchangedDocumentContext",
    "HeaderExchangedDocument": "ExchangedDocument",
    "SpecifiedSupplyChainTradeTransaction": "SupplyChainTradeTransaction",
    "ApplicableSupplyChainTradeAgreement": "ApplicableHeaderTradeAgreement",
    "ApplicableSupplyChainTradeDelivery": "ApplicableHeaderTradeDelivery",
    "ApplicableSupplyChainTradeSettlement": "ApplicableHeaderTradeSettlement",
    "SpecifiedSupplyChainTradeAgreement": "SpecifiedLineTradeAgreement",
    "SpecifiedSupplyChainTradeDelivery": "SpecifiedLineTradeDelivery",
    "SpecifiedSupplyChainTradeSettlement": "SpecifiedLineTradeSettlement",
    "ApplicablePercent": "RateApplicablePercent",
}
_LINE_PARENTS: Final = frozenset({"SpecifiedSupplyChainTradeSettlement", "SpecifiedLineTradeSettlement"})


def _local(tag: str) -> tuple[str, str]:
    namespace, _, local = tag[1:].partition("}")
    return namespace, local


def to_d16b(root: etree._Element) -> etree._Element:
    """A copy of a ZUGFeRD 1.0 tree with D16B CII names (only what the CII reader reads is renamed)."""
    tree = copy.deepcopy(root)
    for el in tree.iter(etree.Element):
        namespace, local = _local(el.tag)
        if namespace not in _TO_D16B_NS:
            continue
        parent = el.getparent()
        parent_local = _local(parent.tag)[1] if parent is not None else ""
        if local == "SpecifiedTradeSettlementMonetarySummation":
            local = (
                "SpecifiedTradeSettlementLineMonetarySummation"
                if parent_local in _LINE_PARENTS
                else "SpecifiedTradeSettlementHeaderMonetarySummation"
            )
        elif local == "ID" and parent_local.endswith("ReferencedDocument"):
            local = "IssuerAssignedID"
        else:
            local = _RENAME.get(local, local)
        el.tag = f"{{{_TO_D16B_NS[namespace]}}}{local}"
    return tree


def read_zf1(root: etree._Element) -> Document:
    """Read a ``rsm:CrossIndustryDocument`` (ZUGFeRD 1.0) tree into the neutral document model."""
    return read_cii(to_d16b(root))
