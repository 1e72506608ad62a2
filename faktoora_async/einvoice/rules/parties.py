"""Pre-flight rules on the seller, the buyer and the deliver-to address."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import codes
from .._util import text
from ._base import _ADDRESS_FIELDS, _PARTY_FIELDS, CheckerBase

__all__ = ["PartyChecks"]


class PartyChecks(CheckerBase):
    """Pre-flight rules on the seller, the buyer and the deliver-to address."""

    def party(self, party: Mapping[str, Any], role: str) -> None:
        self.string_fields(party, _PARTY_FIELDS, f"{role}.")
        seller = role == "seller"
        name = text(party.get("name"))
        if name is None:
            rule = "BR-06" if seller else "BR-07"
            self.add(rule, f"{role}.name", f"An Invoice shall contain the {role.title()} name.")
        country = text(party.get("country"))
        if country is None:
            rule = "BR-09" if seller else "BR-11"
            self.add(
                rule, f"{role}.country", f"The {role.title()} postal address shall contain a country code."
            )
        elif country not in codes.COUNTRIES:
            self.add("BR-CL-14", f"{role}.country", f"{country[:20]!r} is not an ISO 3166-1 alpha-2 code.")
        vat_id = text(party.get("vatId"))
        prefix = (vat_id or "")[:2]
        if vat_id is not None and not _vat_prefix_ok(prefix, self.syntax):
            self.add(
                "BR-CO-09",
                f"{role}.vatId",
                f"VAT identifier must start with an ISO 3166-1 country prefix, not {prefix!r}.",
            )
        address = text(party.get("electronicAddress"))
        scheme = text(party.get("electronicAddressScheme"))
        if address is not None:
            if scheme is None and "@" not in address:
                rule = "BR-62" if seller else "BR-63"
                self.add(
                    rule,
                    f"{role}.electronicAddressScheme",
                    "The electronic address needs a scheme (e.g. EM).",
                )
            elif scheme is not None and scheme not in codes.EAS_CODES:
                self.add(
                    "BR-CL-25",
                    f"{role}.electronicAddressScheme",
                    f"{scheme[:20]!r} is not a CEF EAS scheme code.",
                )
        elif self.xr:
            rule = "PEPPOL-EN16931-R020" if seller else "PEPPOL-EN16931-R010"
            self.add(
                rule, f"{role}.electronicAddress", f"{role.title()} electronic address MUST be provided."
            )
        if not self.xr:
            return
        if seller:
            if text(party.get("city")) is None:
                self.add("BR-DE-3", "seller.city", "XRechnung needs the Seller city (BT-37).")
            if text(party.get("postcode")) is None:
                self.add("BR-DE-4", "seller.postcode", "XRechnung needs the Seller post code (BT-38).")
            contact = [text(party.get(k)) for k in ("contactName", "phone", "email")]
            if not any(contact):
                self.add("BR-DE-2", "seller.contactName", "XRechnung needs the SELLER CONTACT group (BG-6).")
            else:
                for value, key, rule, what in zip(
                    contact,
                    ("contactName", "phone", "email"),
                    ("BR-DE-5", "BR-DE-6", "BR-DE-7"),
                    ("contact point (BT-41)", "contact telephone number (BT-42)", "contact e-mail (BT-43)"),
                    strict=True,
                ):
                    if value is None:
                        self.add(rule, f"seller.{key}", f"XRechnung needs the Seller {what}.")
        else:
            if text(party.get("city")) is None:
                self.add("BR-DE-8", "buyer.city", "XRechnung needs the Buyer city (BT-52).")
            if text(party.get("postcode")) is None:
                self.add("BR-DE-9", "buyer.postcode", "XRechnung needs the Buyer post code (BT-53).")

    def ship_to(self, ship_to: Mapping[str, Any], raw: Any) -> None:
        if not isinstance(raw, Mapping):
            return
        self.string_fields(ship_to, _ADDRESS_FIELDS, "shipTo.")
        country = text(ship_to.get("country"))
        if country is None:
            self.add(
                "BR-57", "shipTo.country", "Each Deliver to address shall contain a country code (BT-80)."
            )
        elif country not in codes.COUNTRIES:
            self.add("BR-CL-14", "shipTo.country", f"{country[:20]!r} is not an ISO 3166-1 alpha-2 code.")
        if self.xr and text(ship_to.get("city")) is None:
            self.add("BR-DE-10", "shipTo.city", "XRechnung needs the Deliver to city (BT-77).")
        if self.xr and text(ship_to.get("postcode")) is None:
            self.add("BR-DE-11", "shipTo.postcode", "XRechnung needs the Deliver to post code (BT-78).")


def _vat_prefix_ok(prefix: str, syntax: str) -> bool:
    """BR-CO-09 as each syntax's rules test it: CII looks the 2-character prefix up in the list, UBL
    tests whether it is a substring of the space-separated list (so a 1-character prefix may pass)."""
    if syntax == "cii" or len(prefix) == 2:
        return prefix in codes.VAT_ID_PREFIXES or (syntax == "ubl" and " " in prefix)
    return " " in prefix or any(prefix in code for code in codes.VAT_ID_PREFIXES)
