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
from .protocol.wire import InvoiceInput, WireInvoice, prepare_invoice

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


def check(invoices: Sequence[InvoiceInput], *, start: int = 0) -> list[Checked]:
    """Check each invoice; ``start`` numbers the paths (``invoices[start + i]``)."""
    from .einvoice import rules  # pure domain code: importing it costs nothing until a check runs

    out: list[Checked] = []
    for offset, invoice in enumerate(invoices):
        index = start + offset
        path = f"invoices[{index}]"
        try:
            wire = prepare_invoice(invoice)
        except (TypeError, ValueError) as exc:
            out.append(Checked(index, None, (Problem("FAKTOORA-TYPE", path, str(exc)),)))
            continue
        found, other_lines = rules.check_invoice_traced(wire.payload, path=path)  # never raises
        problems: list[Problem] = []
        if not isinstance(invoice, (Invoice, WireInvoice)):  # a struct is well-typed by construction
            problems.extend(_shape_problems(path, wire.payload, other_lines))
        problems.extend(Problem(v.rule_id, v.path, v.message) for v in found)
        out.append(Checked(index, wire, tuple(problems)))
    return out
