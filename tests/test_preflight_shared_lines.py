"""``preflight.check(..., share_lines=True)``, the send path of ``client.invoices.create()``.

It does not copy the lines the rules proved JSON data already; these tests hold it to the copying path
(``share_lines=False``): the same problems, the same request body byte for byte and the same digest, on
generated invoices and on lines broken in every way the shape tests know plus values that are not JSON
data (dates, Decimals, floats, enums, tuples, subclasses, unknown keys holding such values).
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from test_preflight_shape import MUTATIONS, _invoices, _set, mutated

from faktoora_async import preflight
from faktoora_async.protocol.wire import encode_invoices


class Unit(str, enum.Enum):
    HOUR = "HUR"


class Text(str):
    pass


class Box(dict[str, Any]):
    pass


NOT_JSON: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("quantity Decimal", _set("product.quantity", Decimal("2.5"))),
    ("price Decimal", _set("product.price", Decimal("10.00"))),
    ("rate Decimal", _set("product.taxes.0.rate", Decimal("19"))),
    ("description date", _set("product.description", datetime.date(2026, 4, 9))),
    ("name subclass", _set("product.name", Text("Beratung"))),
    ("typeCode subclass", _set("product.taxes.0.typeCode", Text("VAT"))),
    ("unit enum", _set("product.unitCode", Unit.HOUR)),
    ("taxes tuple", _set("product.taxes", ({"typeCode": "VAT", "categoryCode": "S", "rate": "19"},))),
    ("product subclass", _set("product", Box(name="x", quantity="1", price="1", taxes=[]))),
    ("unknown product key date", _set("product.deliveredOn", datetime.date(2026, 4, 9))),
    ("unknown product key str", _set("product.colour", "blau")),
    ("unknown tax key Decimal", _set("product.taxes.0.amount", Decimal("1.90"))),
    ("unknown tax key str", _set("product.taxes.0.note", "x")),
    ("period with dates", _set("invoicingPeriod", {"startDate": datetime.date(2026, 4, 1)})),
    ("id float", _set("id", 1.0)),
]


def _first_line_decimal(payload: dict[str, Any]) -> None:
    payload["invoiceItems"][0]["product"]["quantity"] = Decimal("3")


def _outcome(checked: preflight.Checked) -> tuple[Any, ...]:
    wire = checked.wire
    body = None if wire is None else encode_invoices([wire])
    digest = None if wire is None else wire.digest
    return checked.problems, body, digest, None if wire is None else (wire.number, wire.resting_status)


def _tree(value: Any) -> Any:
    """The containers of ``value`` copied, its leaves the same objects (which ``==`` then compares)."""
    if isinstance(value, dict):
        return (type(value), [(k, _tree(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value), [_tree(v) for v in value])
    return value


def _same(payload: dict[str, Any]) -> preflight.Checked:
    before = _tree(payload)
    (copying,) = preflight.check([payload])
    (sharing,) = preflight.check([payload], share_lines=True)
    assert _outcome(sharing) == _outcome(copying)
    assert _tree(payload) == before  # the caller's invoice is never changed
    return sharing


@pytest.mark.parametrize("index", range(24))
def test_generated_invoices_share_their_plain_lines(index: int) -> None:
    payload = _invoices()[index]
    checked = _same(payload)
    assert checked.wire is not None
    sent, given = checked.wire.payload["invoiceItems"], payload["invoiceItems"]
    assert sent is not given  # the list is the wire form's own (other lines are put in as copies)
    # a plain common line is the caller's object itself (the path was taken), any other a copy of it
    shared = [sent[i] is given[i] for i in range(len(given))]
    assert any(shared)
    (copying,) = preflight.check([payload])
    assert copying.wire is not None
    assert not any(a is b for a, b in zip(copying.wire.payload["invoiceItems"], given, strict=True))


@pytest.mark.parametrize(
    ("name", "mutate"), MUTATIONS + NOT_JSON + [("first line Decimal", _first_line_decimal)]
)
def test_broken_and_non_json_lines(name: str, mutate: Callable[[dict[str, Any]], None]) -> None:
    tested = 0
    for payload in mutated(_invoices()[::5], mutate):
        checked = _same(payload)
        tested += 1
        if name in {n for n, _ in NOT_JSON} and checked.wire is not None:
            line = checked.wire.payload["invoiceItems"][1]
            assert line is not payload["invoiceItems"][1]  # a line that is not JSON data is never shared
    assert tested or name in {n for n, _ in MUTATIONS}  # the shape tests' own may not fit every base


def test_a_non_json_value_outside_the_lines_takes_the_copying_path() -> None:
    payload = _invoices()[0]
    payload["issueDate"] = datetime.date(2026, 4, 9)
    checked = _same(payload)
    assert checked.wire is not None and checked.wire.payload["issueDate"] == "20260409"
    assert checked.wire.payload["invoiceItems"][0] is not payload["invoiceItems"][0]
    payload["seller"] = dict(payload["seller"], name=Text(payload["seller"]["name"]))
    checked = _same(payload)  # a str subclass is refused by both paths alike
    assert checked.wire is None and checked.problems[0].rule_id == "FAKTOORA-TYPE"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.pop("invoiceItems"),
        lambda p: p.update(invoiceItems=None),
        lambda p: p.update(invoiceItems=tuple(p["invoiceItems"])),
        lambda p: p.update(invoiceItems=[]),
        lambda p: p["invoiceItems"].append(5),
        lambda p: p["invoiceItems"].append(None),
        lambda p: p["invoiceItems"].append([1, "x"]),
        lambda p: p["invoiceItems"].append([datetime.date(2026, 1, 1)]),
        lambda p: p.update({1: "x"}),
    ],
)
def test_broken_invoices(mutate: Callable[[dict[str, Any]], Any]) -> None:
    payload = _invoices()[1]
    mutate(payload)
    _same(payload)


def test_public_preflight_keeps_copies() -> None:
    """``client.invoices.preflight()`` hands the wire forms out: they never hold the caller's objects."""
    from faktoora_async import FaktooraClient

    payload = _invoices()[2]
    client = FaktooraClient("key-for-a-local-call-only", base_url="http://127.0.0.1:9")
    (wire,) = client.invoices.preflight([payload])
    assert not any(a is b for a, b in zip(wire.payload["invoiceItems"], payload["invoiceItems"], strict=True))
