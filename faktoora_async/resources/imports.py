"""``client.imports``: XRechnung/ZUGFeRD files imported through ``/import/outgoing``, and their content.

:class:`ImportedDocuments` serves every route shape that imported documents share (upload, list, content
parts, source, validation, status, attachments) under a path prefix, so the outgoing and the incoming
areas are the same code.  The content of an invoice created with ``POST /invoices`` is served here too,
under its own faktooraId.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Generic, TypeVar, overload

from .._raw import raw_method
from ..files import DownloadResult
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
)
from ..pagination import AsyncPaginator
from ..protocol import imports as proto
from ..protocol import paged, segment
from ..transport import UploadSource
from ._base import DEFAULT_PER_PAGE, PathLike, Requester, Resource, namer

__all__ = ["ImportedDocuments", "Imports", "ImportsWithRawResponse"]

C = TypeVar("C")  # what an upload answers
L = TypeVar("L")  # a list item


class ImportedDocuments(Resource, Generic[C, L]):
    """The routes imported documents share, under ``prefix`` (see the module docstring)."""

    prefix = "/import/outgoing"

    def __init__(self, requester: Requester, *, created_type: type[C], item_type: type[L]) -> None:
        super().__init__(requester)
        self._created_type = created_type
        self._item_type = item_type

    async def upload(self, file: UploadSource, *, filename: str | None = None) -> C:
        """Import an XRechnung/EN 16931 XML or a ZUGFeRD/Factur-X PDF (a path, bytes or a binary file
        object), streamed as ``multipart/form-data`` (UNSUPPORTED_FILE 400 for anything else)."""
        return await self._r.upload(
            proto.upload(self.prefix), file, filename=filename, cast_to=self._created_type
        )

    def _list(self, params: tuple[tuple[str, str], ...], page: int, per_page: int) -> AsyncPaginator[L]:
        prefix = self.prefix
        return self._paginate(lambda n, size: paged(prefix, params, n, size), self._item_type, page, per_page)

    async def status(self, import_id: str) -> ImportStatus:
        return await self._r.request(proto.get(self.prefix, import_id, "/status"), ImportStatus)

    async def content(self, import_id: str) -> InvoiceContent:
        """Everything the document says, merged (NotReadyError until it has been read)."""
        return await self._r.request(proto.get(self.prefix, import_id, "/content"), InvoiceContent)

    async def summary(self, import_id: str) -> ContentSummary:
        return await self._r.request(proto.get(self.prefix, import_id, "/content/summary"), ContentSummary)

    async def line_items(self, import_id: str) -> builtins.list[ContentLineItem]:
        found = await self._r.request_optional(
            proto.get(self.prefix, import_id, "/content/lineitems"), builtins.list[ContentLineItem]
        )
        return found or []

    async def taxes(self, import_id: str) -> builtins.list[ContentTax]:
        found = await self._r.request_optional(
            proto.get(self.prefix, import_id, "/content/taxes"), builtins.list[ContentTax]
        )
        return found or []

    async def payment_terms(self, import_id: str) -> ContentPaymentTerms | None:
        return await self._r.request_optional(
            proto.get(self.prefix, import_id, "/content/paymentterms"), ContentPaymentTerms
        )

    async def payment_means(self, import_id: str) -> builtins.list[ContentPaymentMeans]:
        found = await self._r.request_optional(
            proto.get(self.prefix, import_id, "/content/paymentmeans"), builtins.list[ContentPaymentMeans]
        )
        return found or []

    async def seller(self, import_id: str) -> ContentParty | None:
        return await self._r.request_optional(
            proto.get(self.prefix, import_id, "/content/seller"), ContentParty
        )

    async def buyer(self, import_id: str) -> ContentParty | None:
        return await self._r.request_optional(
            proto.get(self.prefix, import_id, "/content/buyer"), ContentParty
        )

    async def delivery(self, import_id: str) -> ContentDelivery | None:
        return await self._r.request_optional(
            proto.get(self.prefix, import_id, "/content/delivery"), ContentDelivery
        )

    async def validation(self, import_id: str) -> ImportValidation:
        """``{"status": "accepted"|"rejected"}`` (NotReadyError while it runs)."""
        return await self._r.request(proto.get(self.prefix, import_id, "/validation"), ImportValidation)

    async def _file(self, req_suffix: str, import_id: str, accept: str, to: PathLike | None,
                    stem: str, ext: str, prefer_header: bool = True) -> bytes | DownloadResult:  # fmt: skip
        return await self._r.download(
            proto.file(self.prefix, import_id, req_suffix, accept),
            to=to,
            default_name=namer(stem, ext, prefer_header=prefer_header),
        )

    @overload
    async def pdf(self, import_id: str, to: None = None) -> bytes: ...
    @overload
    async def pdf(self, import_id: str, to: PathLike) -> DownloadResult: ...
    async def pdf(self, import_id: str, to: PathLike | None = None) -> bytes | DownloadResult:
        """The PDF view of the document (NotReadyError while it is being rendered)."""
        return await self._file("/content/pdf", import_id, proto.PDF, to, import_id, "pdf")

    @overload
    async def source(self, import_id: str, to: None = None) -> bytes: ...
    @overload
    async def source(self, import_id: str, to: PathLike) -> DownloadResult: ...
    async def source(self, import_id: str, to: PathLike | None = None) -> bytes | DownloadResult:
        """The original file (XML preferred over PDF)."""

        def name(headers: Mapping[str, str]) -> str:
            ext = "pdf" if "pdf" in (headers.get("Content-Type") or "") else "xml"
            return namer(import_id, ext)(headers)

        return await self._r.download(proto.file(self.prefix, import_id, "/source", proto.ANY_FILE), to=to,
                                      default_name=name)  # fmt: skip

    @overload
    async def validation_pdf(self, import_id: str, to: None = None) -> bytes: ...
    @overload
    async def validation_pdf(self, import_id: str, to: PathLike) -> DownloadResult: ...
    async def validation_pdf(self, import_id: str, to: PathLike | None = None) -> bytes | DownloadResult:
        """The PDF validation report."""
        return await self._file("/validation/pdf", import_id, proto.PDF, to, f"{import_id}-validation", "pdf",
                                prefer_header=False)  # fmt: skip

    def attachments(
        self, import_id: str, *, page: int = 1, per_page: int = DEFAULT_PER_PAGE
    ) -> AsyncPaginator[Attachment]:
        """The document's embedded attachments (BG-24)."""
        path = f"{self.prefix}/{segment(import_id)}/attachments"
        return self._paginate(lambda n, size: paged(path, (), n, size), Attachment, page, per_page)

    async def attachment(self, import_id: str, attachment_id: str) -> Attachment:
        return await self._r.request(proto.attachment(self.prefix, import_id, attachment_id), Attachment)

    @overload
    async def attachment_file(self, import_id: str, attachment_id: str, to: None = None) -> bytes: ...
    @overload
    async def attachment_file(self, import_id: str, attachment_id: str, to: PathLike) -> DownloadResult: ...
    async def attachment_file(
        self, import_id: str, attachment_id: str, to: PathLike | None = None
    ) -> bytes | DownloadResult:
        """The attachment's bytes; into a folder, named after the attachment's own file name."""
        return await self._r.download(
            proto.attachment_file(self.prefix, import_id, attachment_id),
            to=to,
            default_name=namer(f"{import_id}-{attachment_id}", "bin"),
        )


class Imports(ImportedDocuments[ImportCreated, ImportListItem]):
    """Imported outgoing invoices (``/import/outgoing``) and the content of created invoices."""

    prefix = "/import/outgoing"

    def __init__(self, requester: Requester) -> None:
        super().__init__(requester, created_type=ImportCreated, item_type=ImportListItem)

    def list(self, *, page: int = 1, per_page: int = DEFAULT_PER_PAGE) -> AsyncPaginator[ImportListItem]:
        """Every imported outgoing invoice: await for a page, ``async for`` for every item."""
        return self._list((), page, per_page)

    @property
    def with_raw_response(self) -> ImportsWithRawResponse:
        return ImportsWithRawResponse(self)


class ImportsWithRawResponse:
    """``client.imports.with_raw_response``."""

    def __init__(self, imports: Imports) -> None:
        self.list = raw_method(imports.list)
        self.upload = raw_method(imports.upload)
        self.status = raw_method(imports.status)
        self.content = raw_method(imports.content)
        self.summary = raw_method(imports.summary)
        self.line_items = raw_method(imports.line_items)
        self.taxes = raw_method(imports.taxes)
        self.payment_terms = raw_method(imports.payment_terms)
        self.payment_means = raw_method(imports.payment_means)
        self.seller = raw_method(imports.seller)
        self.buyer = raw_method(imports.buyer)
        self.delivery = raw_method(imports.delivery)
        self.validation = raw_method(imports.validation)
        self.pdf = raw_method(imports.pdf)
        self.source = raw_method(imports.source)
        self.validation_pdf = raw_method(imports.validation_pdf)
        self.attachments = raw_method(imports.attachments)
        self.attachment = raw_method(imports.attachment)
        self.attachment_file = raw_method(imports.attachment_file)
