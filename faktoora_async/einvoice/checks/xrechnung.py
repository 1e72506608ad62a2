"""XRechnung 3.0 rules (BR-DE-*), reported only with ``xrechnung=True``."""

# ruff: noqa: E501
from __future__ import annotations

import re
from typing import Final

from ..document import Document
from ..verdict import Out
from ._common import is_vat
from .peppol import check_peppol

__all__ = ["check_xrechnung"]

_XR_SKONTO: Final = re.compile(
    r"(^|\r?\n)#(SKONTO)#TAGE=([0-9]+#PROZENT=[0-9]+\.[0-9]{2})(#BASISBETRAG=-?[0-9]+\.[0-9]{2})?#$"
)
_DE16_CATEGORIES: Final = frozenset({"S", "Z", "E", "AE", "K", "G", "L", "M"})
_XR_SPEC_IDS: Final = frozenset(
    {
        "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
        "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
        "#conformant#urn:xeinkauf.de:kosit:extension:xrechnung_3.0",
    }
)


def _skonto_ok(text: str) -> bool:
    lines = [ln for ln in re.split(r"\r?\n", text) if ln.strip().startswith("#")]
    if not lines:
        return True
    tail = re.split(r"#[^\r\n]+#", text)[-1]
    if not re.match(r"^\s*\n", tail):
        return False
    return all(_XR_SKONTO.search(" ".join(ln.split())) for ln in lines)


def _parties(d: Document, out: Out) -> None:
    """BR-DE-1 .. BR-DE-11."""
    E = out.error
    if not d.payment_means:
        E("BR-DE-1", 'Eine Rechnung (INVOICE) muss Angaben zu "PAYMENT INSTRUCTIONS" (BG-16) enthalten.')
    if d.seller.present and not d.seller.contact_present:
        E("BR-DE-2", 'Die Gruppe "SELLER CONTACT" (BG-6) muss übermittelt werden.')
    if d.seller.address_present:
        if not d.seller.city:
            E("BR-DE-3", 'Das Element "Seller city" (BT-37) muss übermittelt werden.')
        if not d.seller.postcode:
            E("BR-DE-4", 'Das Element "Seller post code" (BT-38) muss übermittelt werden.')
    if d.seller.contact_present:
        if not d.seller.contact_name:
            E("BR-DE-5", 'Das Element "Seller contact point" (BT-41) muss übermittelt werden.')
        if not d.seller.phone:
            E("BR-DE-6", 'Das Element "Seller contact telephone number" (BT-42) muss übermittelt werden.')
        if not d.seller.email:
            E("BR-DE-7", 'Das Element "Seller contact email address" (BT-43) muss übermittelt werden.')
    if d.buyer.address_present:
        if not d.buyer.city:
            E("BR-DE-8", 'Das Element "Buyer city" (BT-52) muss übermittelt werden.')
        if not d.buyer.postcode:
            E("BR-DE-9", 'Das Element "Buyer post code" (BT-53) muss übermittelt werden.')
    if d.ship_to_address:
        if not d.ship_to_city:
            E(
                "BR-DE-10",
                'Das Element "Deliver to city" (BT-77) muss übermittelt werden, wenn die Gruppe "DELIVER TO ADDRESS" (BG-15) übermittelt wird.',
            )
        if not d.ship_to_postcode:
            E(
                "BR-DE-11",
                'Das Element "Deliver to post code" (BT-78) muss übermittelt werden, wenn die Gruppe "DELIVER TO ADDRESS" (BG-15) übermittelt wird.',
            )


def _content(d: Document, out: Out) -> None:
    """BR-DE-14 .. BR-DE-18, BR-DE-22."""
    E = out.error
    for i, tax in enumerate(d.taxes, start=1):
        if not tax.rate_present:
            E(
                "BR-DE-14",
                'Das Element "VAT category rate" (BT-119) muss übermittelt werden.',
                f"/taxBreakdown[{i}]",
            )
    if not d.buyer_reference:
        E("BR-DE-15", 'Das Element "Buyer reference" (BT-10) muss übermittelt werden.')
    used = {ln.category for ln in d.lines if is_vat(ln.tax_type)} | {a.category for a in d.acs}
    if used & _DE16_CATEGORIES:
        seller_ids = (
            bool(d.seller.vat_ids or d.seller.fc_ids) if d.syntax == "cii" else bool(d.seller.any_tax_ids)
        )
        if not (seller_ids or d.tax_rep_present):
            E(
                "BR-DE-16",
                'Wenn in einer Rechnung die Steuercodes S, Z, E, AE, K, G, L oder M verwendet werden, muss mindestens eines der Elemente "Seller VAT identifier" (BT-31), "Seller tax registration identifier" (BT-32) oder "SELLER TAX REPRESENTATIVE PARTY" (BG-11) übermittelt werden.',
            )
    if d.terms_first is not None and not _skonto_ok(d.terms_first):
        E(
            "BR-DE-18",
            "Skonto Zeilen müssen dem regulären Ausdruck #SKONTO#TAGE=n#PROZENT=n.nn#(BASISBETRAG=n.nn#) entsprechen und mit einem Zeilenumbruch enden.",
        )
    names = [n for n, _m in d.attachments if n is not None]
    if len(names) != len(set(names)):
        E("BR-DE-22", "Not all filename attributes of the embeddedDocumentBinaryObject elements are unique.")


def _payment(d: Document, out: Out) -> None:
    """BR-DE-23-a/b, BR-DE-24-a/b, BR-DE-25-a/b: the payment group that matches the means code."""
    E = out.error
    for i, pm in enumerate(d.payment_means, start=1):
        loc = f"/paymentMeans[{i}]"
        code = pm.code or ""
        debit = pm.mandate or (d.direct_debit if d.syntax == "cii" else False)
        if code in ("30", "58"):
            if not pm.account_present:
                E(
                    "BR-DE-23-a",
                    'Wenn BT-81 "Payment means type code" einen Schlüssel für Überweisungen enthält (30, 58), muss BG-17 "CREDIT TRANSFER" übermittelt werden.',
                    loc,
                )
            if pm.card or debit:
                E(
                    "BR-DE-23-b",
                    'Wenn BT-81 "Payment means type code" einen Schlüssel für Überweisungen enthält (30, 58), dürfen BG-18 und BG-19 nicht übermittelt werden.',
                    loc,
                )
        elif code in ("48", "54", "55"):
            if not pm.card:
                E(
                    "BR-DE-24-a",
                    'Wenn BT-81 "Payment means type code" einen Schlüssel für Kartenzahlungen enthält (48, 54, 55), muss genau BG-18 "PAYMENT CARD INFORMATION" übermittelt werden.',
                    loc,
                )
            if pm.account_present or debit:
                E(
                    "BR-DE-24-b",
                    'Wenn BT-81 "Payment means type code" einen Schlüssel für Kartenzahlungen enthält (48, 54, 55), dürfen BG-17 und BG-19 nicht übermittelt werden.',
                    loc,
                )
        elif code == "59":
            if not debit:
                E(
                    "BR-DE-25-a",
                    'Wenn BT-81 "Payment means type code" einen Schlüssel für Lastschriften enthält (59), muss genau BG-19 "DIRECT DEBIT" übermittelt werden.',
                    loc,
                )
            if pm.account_present or pm.card:
                E(
                    "BR-DE-25-b",
                    'Wenn BT-81 "Payment means type code" einen Schlüssel für Lastschriften enthält (59), dürfen BG-17 und BG-18 nicht übermittelt werden.',
                    loc,
                )


def check_xrechnung(d: Document, out: Out) -> None:
    """Every XRechnung 3.0 rule (BR-DE-*) and the PEPPOL rules XRechnung adopts."""
    for check in (_parties, _content, _payment):
        check(d, out)
    check_peppol(d, out)
    if d.spec_id not in _XR_SPEC_IDS:
        out.warning(
            "BR-DE-21",
            'Das Element "Specification identifier" (BT-24) soll syntaktisch der Kennung des Standards XRechnung entsprechen.',
        )
