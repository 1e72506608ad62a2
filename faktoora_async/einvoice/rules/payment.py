"""Pre-flight rules on payment means and terms."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .. import codes
from .._util import payment_means_code, text
from ._base import CheckerBase

__all__ = ["PaymentChecks"]

_SKONTO = re.compile(
    r"(^|\r?\n)#(SKONTO)#TAGE=([0-9]+#PROZENT=[0-9]+\.[0-9]{2})(#BASISBETRAG=-?[0-9]+\.[0-9]{2})?#$"
)


class PaymentChecks(CheckerBase):
    """Pre-flight rules on payment means and terms."""

    def payment(self, seller: Mapping[str, Any]) -> None:
        if not self.has_seller and text(self.inv.get("paymentMeansCode")) is None:
            code = ""  # the account profile (with its bank account) decides the payment means
        else:
            code = payment_means_code(self.inv)
        if code and code not in codes.PAYMENT_MEANS:
            self.add("BR-CL-16", "paymentMeansCode", f"{code[:20]!r} is not an UNCL 4461 payment means code.")
        iban = text(seller.get("iban"))
        if self.has_seller and code in codes.PAYMENT_MEANS_CREDIT_TRANSFER and iban is None:
            # the same requirement has a different id in each syntax's rules
            rule = "BR-61" if self.syntax == "ubl" else "CII-SR-470"
            self.add(rule, "seller.iban", "Credit transfer needs the Payment account identifier (BT-84).")
            if self.xr:
                self.add(
                    "BR-DE-23-a", "seller.iban", "XRechnung: credit transfer needs CREDIT TRANSFER (BG-17)."
                )
        if self.xr and code in codes.PAYMENT_MEANS_CARD:
            self.add("BR-DE-24-a", "paymentMeansCode", "Card payment information (BG-18) cannot be sent.")
        terms = self.inv.get("paymentTerms")
        if self.xr and isinstance(terms, str) and not _skonto_ok(terms):
            self.add("BR-DE-18", "paymentTerms", "Skonto lines must read #SKONTO#TAGE=n#PROZENT=n.nn#.")


def _skonto_ok(terms: str) -> bool:
    if "#" not in terms:  # the common terms: no Skonto line at all
        return True
    lines = [line for line in re.split(r"\r?\n", terms.replace("\r\n", "\n")) if line.strip().startswith("#")]
    if not lines:
        return True
    if not all(_SKONTO.search(" ".join(line.split())) for line in lines):
        return False
    tail = re.split(r"#[^\n\r]+#", terms)[-1]
    return re.match(r"^\s*\n", tail) is not None
