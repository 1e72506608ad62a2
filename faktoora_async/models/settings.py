"""Account settings: the invoice-number template (``/settings/invoice-number-template``)."""

from __future__ import annotations

from ._base import ResponseBase

__all__ = ["InvoiceNumberSettings"]


class InvoiceNumberSettings(ResponseBase, frozen=True):
    """``{"template": "YYYY/MM/id", "padLength": 5, "counter": 42}``; every field optional (``.raw``).

    ``counter`` is the last number used: the next invoice without ``invoiceNumber`` gets counter + 1.
    """

    template: str | None = None
    pad_length: int | None = None
    counter: int | None = None
