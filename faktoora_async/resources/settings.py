"""``client.settings``: account settings; today the invoice-number template (API.md v2)."""

from __future__ import annotations

from .._raw import raw_method
from ..models import InvoiceNumberSettings
from ..protocol import settings as proto
from ._base import Resource

__all__ = ["Settings", "SettingsWithRawResponse"]


class Settings(Resource):
    """The account's settings (``/settings/...``)."""

    @property
    def with_raw_response(self) -> SettingsWithRawResponse:
        return SettingsWithRawResponse(self)

    async def invoice_number_template(self) -> InvoiceNumberSettings:
        """The template (``YYYY/MM/id``...), pad length and counter (the last number used)."""
        return await self._r.request(proto.invoice_number_template(), InvoiceNumberSettings)

    async def update_invoice_number_template(
        self, *, template: str | None = None, pad_length: int | None = None
    ) -> InvoiceNumberSettings:
        """Change the template and/or the pad length (1-10); answers the new settings.

        A template that breaks faktoora's grammar raises ``ValueError`` naming the rule, before any request.
        """
        req = proto.update_invoice_number_template(template=template, pad_length=pad_length)
        return await self._r.request(req, InvoiceNumberSettings)


class SettingsWithRawResponse:
    """``client.settings.with_raw_response``."""

    def __init__(self, settings: Settings) -> None:
        self.invoice_number_template = raw_method(settings.invoice_number_template)
        self.update_invoice_number_template = raw_method(settings.update_invoice_number_template)
