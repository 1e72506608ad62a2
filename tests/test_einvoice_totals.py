"""EN 16931 totals from payload invoices: hand-computed examples and rounding edge cases."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from faktoora_async.einvoice.totals import VatGroup, compute_totals

D = Decimal


def _item(quantity: Any, price: Any, category: str = "S", rate: Any = 19, **tax: Any) -> dict[str, Any]:
    taxes: dict[str, Any] = {"typeCode": "VAT", "categoryCode": category, **tax}
    if rate is not None:
        taxes["rate"] = rate
    return {"product": {"name": "x", "quantity": quantity, "price": price, "taxes": [taxes]}}


def _invoice(*items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"invoiceNumber": "T-1", "issueDate": "20250630", "invoiceItems": list(items), **extra}


def test_two_rates_hand_computed() -> None:
    totals = compute_totals(_invoice(_item("3", "19.99"), _item("1.5", "10.00", rate="7")))
    assert [line.net_amount for line in totals.lines] == [D("59.97"), D("15.00")]
    assert totals.vat == (
        VatGroup("S", D("19"), D("59.97"), D("11.39")),  # 11.3943
        VatGroup("S", D("7"), D("15.00"), D("1.05")),
    )
    assert totals.line_total == D("74.97")
    assert totals.tax_basis_total == D("74.97")
    assert totals.tax_total == D("12.44")
    assert totals.grand_total == D("87.41")
    assert totals.due_payable == D("87.41")
    assert totals.currency == "EUR"
    assert [line.line_id for line in totals.lines] == ["1", "2"]


def test_line_rounding_half_up_not_half_even() -> None:
    # 3 x 0.335 = 1.005 -> 1.01 (half up; half-even and binary floats both give 1.00)
    totals = compute_totals(_invoice(_item(3, "0.335")))
    assert totals.lines[0].net_amount == D("1.01")
    # the same price sent as a JSON float is read from its shortest repr, not its binary value
    assert compute_totals(_invoice(_item(3, 0.335))).lines[0].net_amount == D("1.01")
    # 0.5 x 0.01 = 0.005 -> 0.01
    assert compute_totals(_invoice(_item("0.5", "0.01"))).lines[0].net_amount == D("0.01")
    # 1 x 0.004 -> 0.00
    assert compute_totals(_invoice(_item("1", "0.004"))).lines[0].net_amount == D("0.00")


def test_tax_rounding_half_up() -> None:
    # 1.50 x 7 % = 0.105 -> 0.11 (half-even would give 0.10)
    totals = compute_totals(_invoice(_item("1", "1.50", rate="7")))
    assert totals.vat[0].tax == D("0.11")
    assert totals.grand_total == D("1.61")
    # 0.50 x 25 % = 0.125 -> 0.13
    assert compute_totals(_invoice(_item("1", "0.50", rate=25))).tax_total == D("0.13")


def test_many_lines_round_each_line_before_summing() -> None:
    totals = compute_totals(_invoice(*[_item("1", "0.335") for _ in range(1000)]))
    # each line 0.34 (half up), so 340.00 - not round(1000 x 0.335) = 335.00
    assert totals.line_total == D("340.00")
    assert totals.tax_total == D("64.60")
    assert totals.grand_total == D("404.60")
    assert len(totals.vat) == 1


def test_negative_credit_line() -> None:
    totals = compute_totals(_invoice(_item("2", "50.00"), _item("-1", "50.00"), _item("-0.5", "0.01")))
    assert [line.net_amount for line in totals.lines] == [D("100.00"), D("-50.00"), D("-0.01")]
    assert totals.line_total == D("49.99")
    assert totals.tax_total == D("9.50")  # 9.4981
    assert totals.due_payable == D("59.49")


def test_categories_group_by_category_and_rate() -> None:
    totals = compute_totals(
        _invoice(
            _item("2", "10", rate="19.00"),
            _item("1", "5", rate=19),
            _item("1", "100", "Z", "0"),
            _item("4", "25", "E", 0, exemptionReason="Steuerfrei § 4 Nr. 21 UStG"),
            _item("1", "1", "E", 0, exemptionReasonCode="VATEX-EU-132"),
            currency="CHF",
        )
    )
    assert totals.currency == "CHF"
    assert [(g.category, g.rate, g.basis, g.tax) for g in totals.vat] == [
        ("S", D("19"), D("25"), D("4.75")),
        ("Z", D("0"), D("100"), D("0.00")),
        ("E", D("0"), D("101"), D("0.00")),
    ]
    exempt = totals.vat[2]
    assert exempt.exemption_reason == "Steuerfrei § 4 Nr. 21 UStG"
    assert exempt.exemption_reason_code == "VATEX-EU-132"
    assert totals.grand_total == D("230.75")


def test_category_o_without_rate_is_zero() -> None:
    totals = compute_totals(_invoice(_item("2", "300", "O", None)))
    assert totals.lines[0].rate == D("0")
    assert totals.tax_total == D("0.00")
    assert totals.grand_total == D("600")


@pytest.mark.parametrize(
    ("invoice", "path"),
    [
        (_invoice(_item("1", "2"), _item("1", "abc")), "invoiceItems[1].product.price"),
        (_invoice(_item("1,5", "2")), "invoiceItems[0].product.quantity"),
        (_invoice(_item(True, "2")), "invoiceItems[0].product.quantity"),
        (_invoice(_item("1", float("nan"))), "invoiceItems[0].product.price"),
        (_invoice(_item("1", "Infinity")), "invoiceItems[0].product.price"),
        (_invoice(_item("1", "2", rate="19%")), "invoiceItems[0].product.taxes[0].rate"),
        (_invoice(_item("1", "2", rate=None)), "invoiceItems[0].product.taxes[0].rate"),
        (_invoice(_item(None, "2")), "invoiceItems[0].product.quantity"),
        (_invoice({"product": {"quantity": 1, "price": 1}}), "invoiceItems[0].product.taxes"),
        (_invoice("not an item"), "invoiceItems[0]"),
        ({"invoiceItems": {"a": 1}}, "invoiceItems"),
    ],
)
def test_bad_input_raises_value_error_naming_the_field(invoice: dict[str, Any], path: str) -> None:
    with pytest.raises(ValueError) as info:
        compute_totals(invoice)
    assert str(info.value).startswith(path + ":"), str(info.value)


def test_generated_invoice_totals_are_consistent() -> None:
    from faktoora_async.einvoice.generate import generate_invoices

    for invoice in generate_invoices(50, seed=5):
        totals = compute_totals(invoice)
        assert totals.line_total == sum(line.net_amount for line in totals.lines)
        assert totals.tax_total == sum(group.tax for group in totals.vat)
        assert totals.grand_total == totals.tax_basis_total + totals.tax_total
        for group in totals.vat:
            assert group.tax == (group.basis * group.rate / 100).quantize(D("0.01"), rounding="ROUND_HALF_UP")
            assert group.tax.as_tuple().exponent == -2


def test_no_negative_zero() -> None:
    totals = compute_totals(
        _invoice(_item("-1", "729.89", "E", "0", exemptionReason="x"), _item("-1", "0.004"))
    )
    assert str(totals.vat[0].tax) == "0.00"
    assert str(totals.lines[1].net_amount) == "0.00"
    assert str(totals.tax_total) == "0.00"
