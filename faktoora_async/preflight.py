"""The client's EN 16931 pre-flight: every problem of every invoice, found before anything is sent.

:func:`check` prepares each invoice's wire form once (see :mod:`faktoora_async.protocol.wire`) and runs,
on that same object, a shape check (does it fit the :class:`~faktoora_async.models.Invoice` model?) and
the EN 16931 / XRechnung rules of :mod:`faktoora_async.einvoice.rules`.  ``client.invoices.create()``
and the bulk engine both call it, so they accept exactly the same inputs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from .models import Invoice, InvoiceItem
from .models._base import dec_hook
from .protocol.wire import (
    InvoiceInput,
    WireInvoice,
    copy_plain_items,
    plain_invoice_sharing_lines,
    prepare_invoice,
)

__all__ = ["Checked", "Problem", "check", "describe"]

logger = logging.getLogger("faktoora_async")


@dataclass(frozen=True, slots=True)
class Problem:
    """One pre-flight finding: rule id (official, or ``FAKTOORA-*``), JSON path, message."""

    rule_id: str
    path: str
    message: str

    def __str__(self) -> str:
        return describe(self)


@dataclass(frozen=True, slots=True)
class Checked:
    """The outcome for one invoice: its wire form (None if it could not be prepared) and its problems."""

    index: int
    wire: WireInvoice | None
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return self.wire is not None and not self.problems


def describe(problem: Any) -> str:
    """``RULE at path: message`` for any violation-like object."""
    rule, path = getattr(problem, "rule_id", "?"), getattr(problem, "path", "?")
    return f"{rule} at {path}: {getattr(problem, 'message', problem)}"


def _fits(payload: dict[str, Any], other_lines: list[int]) -> bool:
    """Whether ``payload`` converts to an :class:`Invoice`, knowing that only ``other_lines`` may not.

    Converting an invoice succeeds exactly when its fields without the lines do and each line does (the
    model checks every field for itself; its ``__post_init__`` only turns the dates msgspec made into
    wire dates), so the lines the rules found plain (see ``rules.check_invoice_traced``: exact JSON types
    that the line model takes) are not converted again.
    """
    items = payload["invoiceItems"]
    try:
        msgspec.convert({**payload, "invoiceItems": []}, Invoice, dec_hook=dec_hook, strict=False)
        for index in other_lines:
            msgspec.convert(items[index], InvoiceItem, dec_hook=dec_hook, strict=False)
    except msgspec.ValidationError:
        return False
    return True


def _shape_problems(
    path: str, payload: dict[str, Any], other_lines: list[int] | None = None
) -> list[Problem]:
    """Type/shape problems of a dict invoice (msgspec's message names the field's path).

    ``other_lines``: the indices of the lines not known to fit the model (None: nothing is known of any
    line).  When the invoice fits, that is all; otherwise the whole invoice is converted once more, for
    the message of its first problem.
    """
    if other_lines is not None and type(payload.get("invoiceItems")) is list and _fits(payload, other_lines):
        return []
    try:
        msgspec.convert(payload, Invoice, dec_hook=dec_hook, strict=False)
    except msgspec.ValidationError as exc:
        text = str(exc)
        field = text.rsplit("at `$", 1)[1].rstrip("`").lstrip(".") if "at `$" in text else ""
        return [Problem("FAKTOORA-TYPE", f"{path}.{field}" if field else path, text)]
    return []


def _problems(
    path: str, payload: dict[str, Any], found: Sequence[Any], other_lines: list[int] | None, *, shape: bool
) -> tuple[Problem, ...]:
    """The shape problems (``shape``: the input was not a struct), then the rules' violations."""
    problems = _shape_problems(path, payload, other_lines) if shape else []
    problems.extend(Problem(v.rule_id, v.path, v.message) for v in found)
    return tuple(problems)


def _check_sharing_lines(index: int, path: str, invoice: dict[Any, Any], rules: Any) -> Checked | None:
    """:func:`check` of a dict invoice without copying its plain common lines; None: check it the usual way.

    The rules' pass over the lines proves each plain common line JSON data already (exact types, no other
    keys; see ``rules.lines._common_lines``), which is what copying it would have proved; the other lines
    are copied (and so proved) by ``wire.copy_plain_items``.  The wire form then holds the caller's own
    line objects: fit only for a caller that encodes it at once (``client.invoices.create()``), never for
    one that keeps it.
    """
    payload = plain_invoice_sharing_lines(invoice)
    if payload is None:
        return None
    items = payload["invoiceItems"]
    if items:  # a first line of Decimal or date values: the lines are not JSON data, copy them first
        product = items[0].get("product") if type(items[0]) is dict else None
        quantity = product.get("quantity") if type(product) is dict else None
        if type(quantity) is not str and type(quantity) is not int:
            return None
    found, other_lines = rules.check_invoice_traced(payload, path=path)  # never raises
    if other_lines is None:
        return None
    if not copy_plain_items(items, other_lines):
        return None
    return Checked(index, WireInvoice(payload), _problems(path, payload, found, other_lines, shape=True))


def check(invoices: Sequence[InvoiceInput], *, start: int = 0, share_lines: bool = False) -> list[Checked]:
    """Check each invoice; ``start`` numbers the paths (``invoices[start + i]``).

    ``share_lines``: the wire forms of dict invoices may hold the caller's own line objects where the rules
    proved them JSON data (see :func:`_check_sharing_lines`): only for a caller that encodes them at once.
    """
    from .einvoice import rules  # pure domain code: importing it costs nothing until a check runs

    out: list[Checked] = []
    for offset, invoice in enumerate(invoices):
        index = start + offset
        path = f"invoices[{index}]"
        if share_lines and type(invoice) is dict:
            shared = _check_sharing_lines(index, path, invoice, rules)
            if shared is not None:
                out.append(shared)
                continue
        try:
            wire = prepare_invoice(invoice)
        except (TypeError, ValueError) as exc:
            out.append(Checked(index, None, (Problem("FAKTOORA-TYPE", path, str(exc)),)))
            continue
        found, other_lines = rules.check_invoice_traced(wire.payload, path=path)  # never raises
        shape = not isinstance(invoice, (Invoice, WireInvoice))  # a struct is well-typed by construction
        out.append(Checked(index, wire, _problems(path, wire.payload, found, other_lines, shape=shape)))
    return out
