"""Generator, XML rendering (CII/UBL) and the official EN 16931 + XRechnung 3.0 rules."""

from __future__ import annotations

import json
from collections import Counter

from faktoora_async.einvoice.generate import generate_invoice, generate_invoices


def test_generator_is_deterministic_and_json_ready() -> None:
    a = list(generate_invoices(30, seed=7))
    b = list(generate_invoices(30, seed=7))
    assert a == b
    assert json.loads(json.dumps(a)) == a
    assert len({inv["invoiceNumber"] for inv in a}) == 30
    assert a[3]["invoiceNumber"] == "RE-7-000003"
    assert generate_invoice(3, seed=8) != a[3]


def test_generator_options() -> None:
    inv = generate_invoice(1, lines=500, categories=["S"], type_code="381", format="xrechnung:ubl")
    assert len(inv["invoiceItems"]) == 500
    assert inv["invoiceTypeCode"] == "381"
    assert inv["format"] == "xrechnung:ubl"
    assert {it["product"]["taxes"][0]["categoryCode"] for it in inv["invoiceItems"]} == {"S"}
    o = generate_invoice(2, categories=["O"])
    assert "vatId" not in o["seller"] and "vatId" not in o["buyer"] and o["seller"]["taxId"]
    k = generate_invoice(3, categories=["K"])
    assert k["buyer"]["country"] != "DE" and k["shipTo"]["country"] == k["buyer"]["country"]
    assert k["deliveryDate"]


def test_generator_variety() -> None:
    cats: Counter[str] = Counter()
    for inv in generate_invoices(200, seed=1):
        for item in inv["invoiceItems"]:
            cats[item["product"]["taxes"][0]["categoryCode"]] += 1
    assert set(cats) == {"S", "Z", "E", "AE", "K", "G", "O"}
