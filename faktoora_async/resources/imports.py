"""``client.imports``: existing XRechnung/ZUGFeRD files imported through ``/import/outgoing``."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator
from pathlib import Path
from typing import overload

from ..models import (
    Attachment,
    ContentDelivery,
    ContentLineItem,
    ContentParty,
    ContentPaymentMeans,
    ContentPaymentTerms,
    ContentSummary,
    ContentTax,
    ImportCreated,
    ImportListItem,
    ImportStatus,
    ImportValidation,
    InvoiceContent,
    Page,
)
from ..protocol import APIRequest, decode_json
from ..transport import UploadSource
from ._base import DEFAULT_PER_PAGE, PathLike, Resource, segment

__all__ = ["Imports"]

_PDF = "application/pdf"
_ANY_FILE = "application/xml, application/pdf;q=0.9"


class Imports(Resource):
    """Imported outgoing invoices and their structured content."""

    async def upload(self, file: UploadSource, *, filename: str | None = None) -> ImportCreated:
        """Import an XRechnung/EN 16931 XML or a ZUGFeRD/Factur-X PDF (a path, bytes or a binary file
        object), streamed as ``multipart/form-data``; returns ``ImportCreated(faktoora_id)``."""
        resp = await self._transport.upload(APIRequest("POST", "/import/outgoing"), file, filename=filename)
        result: ImportCreated = decode_json(
            ImportCreated, resp.body, status=resp.status, content_type=resp.content_type
        )
        return result

    def list(self, *, per_page: int = DEFAULT_PER_PAGE, start_page: int = 1) -> AsyncIterator[ImportListItem]:
        """Every imported invoice, across all pages."""
        return self._items(ImportListItem, "/import/outgoing", (), start_page, per_page)

    def list_pages(
        self, *, per_page: int = DEFAULT_PER_PAGE, start_page: int = 1
    ) -> AsyncIterator[Page[ImportListItem]]:
        return self._pages(ImportListItem, "/import/outgoing", (), start_page, per_page)

    def _base(self, faktoora_id: str) -> str:
        return f"/import/outgoing/{segment(faktoora_id)}"

    async def status(self, faktoora_id: str) -> ImportStatus:
        result: ImportStatus = await self._get(ImportStatus, f"{self._base(faktoora_id)}/status")
        return result

    async def content(self, faktoora_id: str) -> InvoiceContent:
        result: InvoiceContent = await self._get(InvoiceContent, f"{self._base(faktoora_id)}/content")
        return result

    async def summary(self, faktoora_id: str) -> ContentSummary:
        result: ContentSummary = await self._get(ContentSummary, f"{self._base(faktoora_id)}/content/summary")
        return result

    async def line_items(self, faktoora_id: str) -> builtins.list[ContentLineItem]:
        result: builtins.list[ContentLineItem] | None = await self._get(
            builtins.list[ContentLineItem] | None, f"{self._base(faktoora_id)}/content/lineitems"
        )
        return result or []

    async def taxes(self, faktoora_id: str) -> builtins.list[ContentTax]:
        result: builtins.list[ContentTax] | None = await self._get(
            builtins.list[ContentTax] | None, f"{self._base(faktoora_id)}/content/taxes"
        )
        return result or []

    async def payment_terms(self, faktoora_id: str) -> ContentPaymentTerms | None:
        result: ContentPaymentTerms | None = await self._get(
            ContentPaymentTerms | None, f"{self._base(faktoora_id)}/content/paymentterms"
        )
        return result

    async def payment_means(self, faktoora_id: str) -> builtins.list[ContentPaymentMeans]:
        result: builtins.list[ContentPaymentMeans] | None = await self._get(
            builtins.list[ContentPaymentMeans] | None, f"{self._base(faktoora_id)}/content/paymentmeans"
        )
        return result or []

    async def seller(self, faktoora_id: str) -> ContentParty | None:
        result: ContentParty | None = await self._get(
            ContentParty | None, f"{self._base(faktoora_id)}/content/seller"
        )
        return result

    async def buyer(self, faktoora_id: str) -> ContentParty | None:
        result: ContentParty | None = await self._get(
            ContentParty | None, f"{self._base(faktoora_id)}/content/buyer"
        )
        return result

    async def delivery(self, faktoora_id: str) -> ContentDelivery | None:
        result: ContentDelivery | None = await self._get(
            ContentDelivery | None, f"{self._base(faktoora_id)}/content/delivery"
        )
        return result

    @overload
    async def pdf(self, faktoora_id: str, to: None = None) -> bytes: ...
    @overload
    async def pdf(self, faktoora_id: str, to: PathLike) -> Path: ...
    async def pdf(self, faktoora_id: str, to: PathLike | None = None) -> bytes | Path:
        """The PDF view of the invoice (NotReadyError while it is being rendered)."""
        result = await self._file(
            f"{self._base(faktoora_id)}/content/pdf",
            accept=_PDF,
            to=to,
            default_name=self._namer(faktoora_id, "pdf"),
        )
        return self._as_path(result)

    @overload
    async def source(self, faktoora_id: str, to: None = None) -> bytes: ...
    @overload
    async def source(self, faktoora_id: str, to: PathLike) -> Path: ...
    async def source(self, faktoora_id: str, to: PathLike | None = None) -> bytes | Path:
        """The original file (XML preferred over PDF)."""

        def name(headers: dict[str, str] | object) -> str:
            ctype = str(getattr(headers, "get", lambda *_: "")("Content-Type") or "")
            ext = "pdf" if "pdf" in ctype else "xml"
            return self._namer(faktoora_id, ext)(headers)  # type: ignore[arg-type]

        result = await self._file(
            f"{self._base(faktoora_id)}/source", accept=_ANY_FILE, to=to, default_name=name
        )
        return self._as_path(result)

    async def validation(self, faktoora_id: str) -> ImportValidation:
        """``{"status": "accepted"|"rejected"}`` (NotReadyError while it runs)."""
        result: ImportValidation = await self._get(ImportValidation, f"{self._base(faktoora_id)}/validation")
        return result

    @overload
    async def validation_pdf(self, faktoora_id: str, to: None = None) -> bytes: ...
    @overload
    async def validation_pdf(self, faktoora_id: str, to: PathLike) -> Path: ...
    async def validation_pdf(self, faktoora_id: str, to: PathLike | None = None) -> bytes | Path:
        result = await self._file(
            f"{self._base(faktoora_id)}/validation/pdf",
            accept=_PDF,
            to=to,
            default_name=self._namer(f"{faktoora_id}-validation", "pdf", prefer_header=False),
        )
        return self._as_path(result)

    def attachments(self, faktoora_id: str, *, per_page: int = DEFAULT_PER_PAGE) -> AsyncIterator[Attachment]:
        """Every embedded attachment (BG-24), across pages."""
        return self._items(Attachment, f"{self._base(faktoora_id)}/attachments", (), 1, per_page)

    async def attachment(self, faktoora_id: str, attachment_id: str) -> Attachment:
        result: Attachment = await self._get(
            Attachment, f"{self._base(faktoora_id)}/attachment/{segment(attachment_id)}"
        )
        return result

    @overload
    async def attachment_file(self, faktoora_id: str, attachment_id: str, to: None = None) -> bytes: ...
    @overload
    async def attachment_file(self, faktoora_id: str, attachment_id: str, to: PathLike) -> Path: ...
    async def attachment_file(
        self, faktoora_id: str, attachment_id: str, to: PathLike | None = None
    ) -> bytes | Path:
        """The attachment's bytes; with ``to`` a folder, named after the attachment's file name."""
        result = await self._file(
            f"{self._base(faktoora_id)}/attachment/{segment(attachment_id)}/file",
            accept="application/octet-stream, */*;q=0.1",  # an attachment keeps its own media type
            to=to,
            default_name=self._namer(f"{faktoora_id}-{attachment_id}", "bin"),
        )
        return self._as_path(result)
