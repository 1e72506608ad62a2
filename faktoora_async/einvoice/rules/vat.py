"""Pre-flight rules on VAT categories, exemption reasons and the parties they need."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import codes
from .._util import text
from ._base import _CATEGORY_RULES, _DE16_CATEGORIES, _RATE_CATEGORIES, CheckerBase

__all__ = ["VatChecks"]


class VatChecks(CheckerBase):
    """Pre-flight rules on VAT categories, exemption reasons and the parties they need."""

    def categories(
        self,
        found: Mapping[str, Sequence[tuple[str, Mapping[str, Any]]]],
        seller: Mapping[str, Any],
        buyer: Mapping[str, Any],
    ) -> None:
        # no seller: the account profile, a complete seller with VAT id, is the seller
        given = self.has_seller
        seller_vat = text(seller.get("vatId")) is not None or not given
        seller_tax = text(seller.get("taxId")) is not None or not given
        buyer_vat = text(buyer.get("vatId")) is not None
        buyer_legal = text(buyer.get("legalRegistrationId")) is not None
        if "B" in found:
            self.split_payment(found)
        self.vatex(found)
        for category, taxes in found.items():
            rules = _CATEGORY_RULES.get(category)
            if rules is None:
                continue
            prefix, name = rules
            if category in ("S", "Z", "E", "L", "M") and not (seller_vat or seller_tax):
                self.add(
                    f"{prefix}-02", "seller.vatId", f"{name} lines need the Seller VAT id or tax number."
                )
            if category == "G" and not seller_vat:
                self.add("BR-G-02", "seller.vatId", "Export outside the EU lines need the Seller VAT id.")
            if category == "AE":
                if not (seller_vat or seller_tax):
                    self.add("BR-AE-02", "seller.vatId", "Reverse charge lines need the Seller VAT id.")
                if not (buyer_vat or buyer_legal):
                    self.add("BR-AE-02", "buyer.vatId", "Reverse charge lines need the Buyer VAT id.")
            if category == "K":
                if not seller_vat:
                    self.add(
                        "BR-IC-02", "seller.vatId", "Intra-community supply lines need the Seller VAT id."
                    )
                if not buyer_vat:
                    self.add("BR-IC-02", "buyer.vatId", "Intra-community supply lines need the Buyer VAT id.")
                period = self.inv.get("invoicingPeriod")
                has_period = isinstance(period, Mapping) and any(
                    text(period.get(k)) for k in ("startDate", "endDate")
                )
                if text(self.inv.get("deliveryDate")) is None and not has_period:
                    self.add(
                        "BR-IC-11", "deliveryDate", "Intra-community supply needs the Actual delivery date."
                    )
                ship_to = self.inv.get("shipTo")
                if not isinstance(ship_to, Mapping) or text(ship_to.get("country")) is None:
                    self.add(
                        "BR-IC-12", "shipTo.country", "Intra-community supply needs the Deliver to country."
                    )
            if category == "O":
                if given and seller_vat:
                    self.add(
                        "BR-O-02",
                        "seller.vatId",
                        "Not subject to VAT invoices shall not carry a Seller VAT id.",
                    )
                if buyer_vat:
                    self.add(
                        "BR-O-02",
                        "buyer.vatId",
                        "Not subject to VAT invoices shall not carry a Buyer VAT id.",
                    )
                others = [(c, t) for c, ts in found.items() if c != "O" for t in ts]
                if others:
                    self.add("BR-O-11", f"{others[0][1][0]}.categoryCode", "O shall not share an invoice.")
                    for _c, (tp, _tax) in others:
                        self.add(
                            "BR-O-12", f"{tp}.categoryCode", "A Not subject to VAT invoice: only O lines."
                        )
            self.exemption(category, prefix, name, taxes)
        if self.xr and set(found) & _DE16_CATEGORIES and not (seller_vat or seller_tax):
            self.add(
                "BR-DE-16", "seller.vatId", "XRechnung needs the Seller VAT id or tax number (BT-31/BT-32)."
            )
        if given and not seller_vat and text(seller.get("legalRegistrationId")) is None:
            self.add(
                "BR-CO-26", "seller.vatId", "The Seller needs a VAT id or a legal registration id (BT-30)."
            )

    def split_payment(self, found: Mapping[str, Sequence[tuple[str, Mapping[str, Any]]]]) -> None:
        """BR-B-01 (only Italian addresses) and BR-B-02 (no Standard rated lines) for category B."""
        for field in ("seller", "buyer", "shipTo"):
            party = self.inv.get(field)
            country = text(party.get("country")) if isinstance(party, Mapping) else None
            if country is not None and country != "IT":
                self.add(
                    "BR-B-01",
                    f"{field}.country",
                    "A Split payment invoice shall be a domestic Italian invoice.",
                )
        for tp, _tax in found.get("S", ()):
            self.add(
                "BR-B-02",
                f"{tp}.categoryCode",
                "A Split payment invoice shall not contain Standard rated lines.",
            )

    def vatex(self, found: Mapping[str, Sequence[tuple[str, Mapping[str, Any]]]]) -> None:
        """BR-CL-22 on the code each VAT breakdown group gets: the first code of its lines."""
        rate_keys = self.rate_keys
        for taxes in found.values():
            for _tp, tax in taxes:  # the common category first: every code given is a known one
                raw = tax.get("exemptionReasonCode")
                if raw is not None and (type(raw) is not str or raw.strip() not in _VATEX_CODES):
                    break
            else:
                continue  # whichever code each group takes is a VATEX code: nothing to report
            seen: set[Any] = set()
            for tp, tax in taxes:
                raw = tax.get("exemptionReasonCode")
                if raw is None:  # the common line: no code (text(None) is None)
                    continue
                code = text(raw)
                key = rate_keys.get(id(tax))
                if code is None or key in seen:
                    continue
                seen.add(key)
                if code not in codes.VATEX_CODES:
                    self.add("BR-CL-22", f"{tp}.exemptionReasonCode", f"{code[:30]!r} is not a VATEX code.")

    def exemption(
        self, category: str, prefix: str, name: str, taxes: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> None:
        # The breakdown of a (category, rate) group takes the first reason text/code of its lines.
        no_reason = category in _NO_REASON_CATEGORIES
        for _tp, tax in taxes:  # the common case first: no line of a no-reason category gives one, or
            reason = tax.get("exemptionReason")  # every line of the others does: nothing to report
            if type(reason) is str and reason.strip():  # _has_reason's common cases, without the call
                given = True
            elif reason is None and tax.get("exemptionReasonCode") is None:
                given = False
            else:
                given = _has_reason(tax)
            if given is no_reason:
                break
        else:
            return
        rate_keys = self.rate_keys
        groups: dict[Any, list[tuple[str, Mapping[str, Any]]]] = {}
        for entry in taxes:
            key = rate_keys.get(id(entry[1]))
            members = groups.get(key)
            if members is None:
                groups[key] = [entry]
            else:
                members.append(entry)
        for members in groups.values():
            if no_reason:
                for tp, tax in members:
                    if _has_reason(tax):
                        self.add(
                            f"{prefix}-10",
                            f"{tp}.exemptionReason",
                            f"{name} shall not have an exemption reason.",
                        )
            elif not any(_has_reason(tax) for _tp, tax in members):
                self.add(
                    f"{prefix}-10",
                    f"{members[0][0]}.exemptionReason",
                    f"{name} needs an exemption reason or code.",
                )


_VATEX_CODES = codes.VATEX_CODES
_NO_REASON_CATEGORIES = frozenset({*_RATE_CATEGORIES, "Z"})  # a breakdown of theirs has no exemption reason


def _has_reason(tax: Mapping[str, Any]) -> bool:
    """Whether a VAT entry gives an exemption reason text or code (BT-120/BT-121)."""
    reason = tax.get("exemptionReason")
    if type(reason) is str and reason.strip():  # the common given reason
        return True
    code = tax.get("exemptionReasonCode")
    if reason is None and code is None:  # the common line without one
        return False
    return text(reason) is not None or text(code) is not None
