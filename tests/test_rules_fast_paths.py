"""The rules' common-line pass reports exactly what the full per-line check reports.

``rules.lines._common_lines`` takes the plain common lines in one cheap pass and leaves any other line to the
full check; taking no line at all must not change any violation (ids, paths, messages, order).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from test_preflight_shape import MUTATIONS, _invoices, mutated

from faktoora_async.einvoice.rules import check_invoice, lines


def _both(payload: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    fast = check_invoice(payload)
    with monkeypatch.context() as patch:
        patch.setattr(lines, "_common_lines", lambda items, start, *state: start)
        full = check_invoice(payload)
    assert fast == full


@pytest.mark.parametrize(("name", "mutate"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_broken_lines(
    name: str, mutate: Callable[[dict[str, Any]], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    for payload in mutated(_invoices()[::3], mutate):
        _both(payload, monkeypatch)


@pytest.mark.parametrize(
    "rates",
    [
        (19, True, 19.0),
        (1, True, "1"),
        ("19", 19, "19.00"),
        (0, False, "0", 0.0),
        (-1, "-1", 0),
    ],
)
@pytest.mark.parametrize("category", ["S", "Z", "L", "E"])
def test_rate_memo_keeps_types_apart(
    rates: tuple[Any, ...], category: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Equal rates of another type (1 == True == 1.0) are judged each on their own, as the full check does."""
    payload = copy.deepcopy(_invoices()[0])
    items = payload["invoiceItems"]
    for index, rate in enumerate(rates):
        tax = items[index % len(items)]["product"]["taxes"][0]
        tax.update(categoryCode=category, rate=rate)
    _both(payload, monkeypatch)


def test_generated(monkeypatch: pytest.MonkeyPatch) -> None:
    for payload in _invoices():
        _both(payload, monkeypatch)


@pytest.mark.parametrize(
    "codes",
    [
        ("VATEX-EU-G", "VATEX-EU-G"),
        ("VATEX-EU-G", "NOPE"),
        ("NOPE", "VATEX-EU-G"),
        (" VATEX-EU-G ", 5),
        ("", None),
        ("  ", "VATEX-EU-AE"),
        (None, "vatex-eu-g"),
    ],
)
@pytest.mark.parametrize("reasons", [("Steuerfrei", None), (None, None), ("", "  "), (3, "x")])
def test_exemption_codes_and_reasons(
    codes: tuple[Any, ...], reasons: tuple[Any, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """BR-CL-22 and BR-*-10 as the full check reports them (no known code: the grouped check always runs)."""
    from faktoora_async.einvoice.rules import vat

    for category, rate in (("E", "0"), ("G", "0"), ("S", "19"), ("AE", "0")):
        payload = copy.deepcopy(_invoices()[0])
        items = payload["invoiceItems"]
        for index, tax in enumerate(item["product"]["taxes"][0] for item in items):
            tax.update(categoryCode=category, rate=rate)
            tax.pop("exemptionReason", None)
            tax.pop("exemptionReasonCode", None)
            code, reason = codes[index % len(codes)], reasons[index % len(reasons)]
            if code is not None:
                tax["exemptionReasonCode"] = code
            if reason is not None:
                tax["exemptionReason"] = reason
        fast = check_invoice(payload)
        with monkeypatch.context() as patch:
            patch.setattr(vat, "_VATEX_CODES", frozenset())
            assert check_invoice(payload) == fast
