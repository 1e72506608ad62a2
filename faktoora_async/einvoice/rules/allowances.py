"""Pre-flight rules on allowances and charges: document level (BG-20/BG-21) and line level (BG-27/BG-28).

Ids and paths as the official rules report them for the rendered document: BR-31 .. BR-38 and
BR-CO-21/22 (document), BR-41 .. BR-44 and BR-CO-23/24 (line), BR-CL-17 (VAT category), BR-CL-19/20 (reason
codes), BR-DEC-01/02/05/06/24/25/27/28 (at most 2 decimals in amounts and base amounts), the VAT
category rules -03/-04 (CII: the parties a category needs), -06/-07 (rate), -10 (exemption reason of a
breakdown no line gives one), BR-O-11/13/14, BR-IC-11/12, BR-DE-16, and with XRechnung
PEPPOL-EN16931-R041/R042 (base amount and percentage together; reported for a UBL credit note only
where the official rules are known to check them: nowhere).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .. import codes
from .._util import ZERO, text, type_code
from ._base import _CATEGORY_RULES, _DE16_CATEGORIES, CheckerBase, kind

__all__ = ["AllowanceChecks"]

_NEEDS_REASON = frozenset({"E", "AE", "K", "G", "O"})  # their breakdown needs an exemption reason (-10)
_IDS = {  # document level allowance, charge
    False: ("BR-31", "BR-32", "BR-33", "BR-CO-21", "BR-CL-19", "-03", "-06"),
    True: ("BR-36", "BR-37", "BR-38", "BR-CO-22", "BR-CL-20", "-04", "-07"),
}
_LINE_AMOUNT_RULES = frozenset({"BR-41", "BR-43"})
_DEC_IDS = {  # (line level, charge) -> payload key -> (BR-DEC rule, the term the official message names)
    (False, False): {"amount": ("BR-DEC-01", "Document level allowance amount (BT-92)"),
                     "baseAmount": ("BR-DEC-02", "Document level allowance base amount (BT-93)")},
    (False, True): {"amount": ("BR-DEC-05", "Document level charge amount (BT-99)"),
                    "baseAmount": ("BR-DEC-06", "Document level charge base amount (BT-100)")},
    (True, False): {"amount": ("BR-DEC-24", "Invoice line allowance amount (BT-136)"),
                    "baseAmount": ("BR-DEC-25", "Invoice line allowance base amount (BT-137)")},
    (True, True): {"amount": ("BR-DEC-27", "Invoice line charge amount (BT-141)"),
                   "baseAmount": ("BR-DEC-28", "Invoice line charge base amount (BT-142)")},
}  # fmt: skip
_LINE_IDS = {
    False: ("BR-41", "BR-42", "BR-CO-23", "BR-CL-19"),
    True: ("BR-43", "BR-44", "BR-CO-24", "BR-CL-20"),
}


class AllowanceChecks(CheckerBase):
    """Pre-flight rules on allowances and charges (BG-20, BG-21, BG-27, BG-28)."""

    def _ac_common(
        self, raw: Any, p: str, charge: bool, ids: tuple[str, str, str, str]
    ) -> Mapping[str, Any] | None:
        """Type, amount, reason and reason code of one allowance/charge; returns the object (or None)."""
        if not isinstance(raw, Mapping):
            self.add("FAKTOORA-TYPE", p, f"expected an object, got {kind(raw)}")
            return None
        self.string_fields(raw, ("reason", "reasonCode", "categoryCode"), f"{p}.")
        values = {k: self.decimal(raw.get(k), f"{p}.{k}") for k in ("amount", "baseAmount", "percentage")
                  if raw.get(k) is not None}  # fmt: skip
        amount_rule, reason_rule, reason_co, code_list = ids
        for key, (dec_rule, term) in _DEC_IDS[(amount_rule in _LINE_AMOUNT_RULES, charge)].items():
            self.two_decimals(values.get(key), f"{p}.{key}", dec_rule, term)
        if raw.get("amount") is None and not (
            raw.get("baseAmount") is not None and raw.get("percentage") is not None
        ):
            what = "charge" if charge else "allowance"
            self.add(
                amount_rule,
                f"{p}.amount",
                f"Each {what} shall have an amount (or base amount and percentage).",
            )
        if text(raw.get("reason")) is None and text(raw.get("reasonCode")) is None:
            self.add(reason_rule, f"{p}.reason", "An allowance or charge needs a reason or a reason code.")
            self.add(
                reason_co, f"{p}.reason", "An allowance or charge needs a reason or a reason code, or both."
            )
        code = text(raw.get("reasonCode"))
        allowed = codes.CHARGE_REASONS if charge else codes.ALLOWANCE_REASONS
        if code is not None and code not in allowed:
            self.add(
                code_list,
                f"{p}.reasonCode",
                f"{code[:20]!r} is not a UNTDID {7161 if charge else 5189} code.",
            )
        del values
        return raw

    def _peppol_base_and_percentage(self, raw: Mapping[str, Any], p: str) -> None:
        if not self.xr:
            return
        if raw.get("percentage") is not None and raw.get("baseAmount") is None:
            self.add("PEPPOL-EN16931-R041", f"{p}.baseAmount", "A percentage needs the base amount.")
        if raw.get("baseAmount") is not None and raw.get("percentage") is None:
            self.add("PEPPOL-EN16931-R042", f"{p}.percentage", "A base amount needs the percentage.")

    def line_allowances(self, item: Mapping[str, Any], p: str) -> None:
        """BG-27/BG-28 of one line (``p`` is the path of the item)."""
        for key, charge in (("allowances", False), ("charges", True)):
            raw_list = item.get(key)
            if raw_list is None:
                continue
            if not isinstance(raw_list, (list, tuple)):
                self.add("FAKTOORA-TYPE", f"{p}.{key}", f"expected a list, got {kind(raw_list)}")
                continue
            for i, raw in enumerate(raw_list):
                ac = self._ac_common(raw, f"{p}.{key}[{i}]", charge, _LINE_IDS[charge])
                credit_ubl = self.syntax == "ubl" and type_code(self.inv) in codes.CREDIT_NOTE_TYPE_CODES
                if ac is not None and not credit_ubl:
                    self._peppol_base_and_percentage(ac, f"{p}.{key}[{i}]")

    def document_allowances(self) -> dict[str, list[tuple[str, Decimal | None, bool]]]:
        """BG-20/BG-21; returns category -> [(path, rate, is_charge)] for the invoice-wide checks."""
        found: dict[str, list[tuple[str, Decimal | None, bool]]] = {}
        if self.inv.get("allowances") is None and self.inv.get("charges") is None:
            return found  # the common invoice
        credit_ubl = self.syntax == "ubl" and type_code(self.inv) in codes.CREDIT_NOTE_TYPE_CODES
        for key, charge in (("allowances", False), ("charges", True)):
            raw_list = self.inv.get(key)
            if raw_list is None:
                continue
            if not isinstance(raw_list, (list, tuple)):
                self.add("FAKTOORA-TYPE", key, f"expected a list, got {kind(raw_list)}")
                continue
            ids = _IDS[charge]
            for i, raw in enumerate(raw_list):
                p = f"{key}[{i}]"
                ac = self._ac_common(raw, p, charge, (ids[0], ids[2], ids[3], ids[4]))
                if ac is None:
                    continue
                if not credit_ubl:
                    self._peppol_base_and_percentage(ac, p)
                category = text(ac.get("categoryCode"))
                if category is None:
                    self.add(
                        ids[1], f"{p}.categoryCode", "Each allowance or charge needs a VAT category code."
                    )
                    continue
                if category not in codes.VAT_CATEGORIES:
                    self.add(
                        "BR-CL-17", f"{p}.categoryCode", f"{category[:20]!r} is not an UNCL 5305 category."
                    )
                    continue
                rate = None if ac.get("rate") is None else self.decimal(ac.get("rate"), f"{p}.rate")
                self._ac_rate(category, ac.get("rate"), rate, p, ids[6])
                found.setdefault(category, []).append((p, rate, charge))
        return found

    def _ac_rate(self, category: str, raw_rate: Any, rate: Decimal | None, p: str, suffix: str) -> None:
        rules = _CATEGORY_RULES.get(category)
        if rules is None:
            return
        prefix, name = rules
        if category == "S":
            bad = raw_rate is None or (rate is not None and rate <= 0)
        elif category in ("L", "M"):
            bad = raw_rate is None or (rate is not None and rate < 0)
        else:  # zero-rate categories and O (no rate, or 0, which the renderers leave out)
            bad = rate is not None and rate != 0
        if bad:
            self.add(f"{prefix}{suffix}", f"{p}.rate", f"The VAT rate is not allowed for category '{name}'.")

    def allowance_categories(
        self,
        ac_found: Mapping[str, list[tuple[str, Decimal | None, bool]]],
        line_found: Mapping[str, Any],
        seller: Mapping[str, Any],
        buyer: Mapping[str, Any],
    ) -> None:
        """What a category used by document allowances/charges needs (parties, reasons, delivery)."""
        if not ac_found:
            return
        line_rates = {c: {self.rate_keys.get(id(t)) for _p, t in taxes} for c, taxes in line_found.items()}
        for category, entries in ac_found.items():
            prefix, name = _CATEGORY_RULES.get(category, ("", ""))
            if not prefix:
                continue
            if self.syntax == "cii":
                self._ac_parties(category, prefix, name, entries, seller, buyer)
            for p, rate, _charge in entries:
                key = ZERO if rate is None else rate
                if category in _NEEDS_REASON and key not in line_rates.get(category, set()):
                    self.add(
                        f"{prefix}-10", f"{p}.categoryCode", f"'{name}' needs an exemption reason of a line."
                    )
        categories = set(line_found) | set(ac_found)
        if "O" in categories and len(categories) > 1:
            for category, entries in ac_found.items():
                for p, _rate, charge in entries:
                    if category != "O":
                        self.add("BR-O-14" if charge else "BR-O-13", f"{p}.categoryCode", "O allows only O.")
                    if "O" not in line_found or category != "O":
                        self.add("BR-O-11", f"{p}.categoryCode", "O shall not share an invoice.")
        if "K" in ac_found and "K" not in line_found:
            period = self.inv.get("invoicingPeriod")
            has_period = isinstance(period, Mapping) and any(
                text(period.get(k)) for k in ("startDate", "endDate")
            )
            if text(self.inv.get("deliveryDate")) is None and not has_period:
                self.add("BR-IC-11", "deliveryDate", "Intra-community supply needs the Actual delivery date.")
            ship_to = self.inv.get("shipTo")
            if not isinstance(ship_to, Mapping) or text(ship_to.get("country")) is None:
                self.add("BR-IC-12", "shipTo.country", "Intra-community supply needs the Deliver to country.")
        given = self.has_seller
        no_ids = text(seller.get("vatId")) is None and text(seller.get("taxId")) is None
        if self.xr and given and set(ac_found) & _DE16_CATEGORIES and no_ids:
            self.add(
                "BR-DE-16",
                "seller.vatId",
                "XRechnung needs the Seller VAT id or tax number (BT-31/BT-32).",
            )

    def _ac_parties(
        self,
        category: str,
        prefix: str,
        name: str,
        entries: list[tuple[str, Decimal | None, bool]],
        seller: Mapping[str, Any],
        buyer: Mapping[str, Any],
    ) -> None:
        """-03/-04 (CII): the Seller/Buyer identifiers a category needs, for allowances and charges."""
        given = self.has_seller
        seller_vat = text(seller.get("vatId")) is not None or not given
        seller_tax = text(seller.get("taxId")) is not None or not given
        buyer_vat = text(buyer.get("vatId")) is not None
        buyer_legal = text(buyer.get("legalRegistrationId")) is not None
        missing: list[str] = []
        needs_seller = category in ("S", "Z", "E", "L", "M") and not (seller_vat or seller_tax)
        if needs_seller or (category == "G" and not seller_vat):
            missing.append("seller.vatId")
        elif category == "AE":
            missing += [
                f
                for f, ok in (
                    ("seller.vatId", seller_vat or seller_tax),
                    ("buyer.vatId", buyer_vat or buyer_legal),
                )
                if not ok
            ]
        elif category == "K":
            missing += [f for f, ok in (("seller.vatId", seller_vat), ("buyer.vatId", buyer_vat)) if not ok]
        elif category == "O":
            missing += [
                f for f, bad in (("seller.vatId", given and seller_vat), ("buyer.vatId", buyer_vat)) if bad
            ]
        for charge in {c for _p, _r, c in entries}:
            for field in missing:
                self.add(
                    f"{prefix}{'-04' if charge else '-03'}",
                    field,
                    f"'{name}' allowances/charges need other ids.",
                )
