"""Requests of the imported-invoice endpoints (``/import/outgoing``, ``/import/incoming``), as data.

Both areas share one route shape under their own prefix; ``prefix`` is ``/import/outgoing`` or
``/import/incoming``.
"""

from __future__ import annotations

from ._request import FILE_HEADERS, APIRequest, segment

__all__ = ["ANY_FILE", "PDF", "attachment", "attachment_file", "file", "get", "upload"]

PDF = "application/pdf"
ANY_FILE = "application/xml, application/pdf;q=0.9"
ATTACHMENT_ACCEPT = "application/octet-stream, */*;q=0.1"  # an attachment keeps its own media type


def upload(prefix: str) -> APIRequest:
    """``POST {prefix}`` (the multipart body is streamed by the transport)."""
    return APIRequest("POST", prefix)


def get(prefix: str, import_id: str, suffix: str = "") -> APIRequest:
    """``GET {prefix}/{id}{suffix}`` returning JSON."""
    return APIRequest("GET", f"{prefix}/{segment(import_id)}{suffix}")


def file(prefix: str, import_id: str, suffix: str, accept: str = PDF) -> APIRequest:
    """A file route under ``{prefix}/{id}`` (``/content/pdf``, ``/source``, ``/validation/pdf``)."""
    return APIRequest("GET", f"{prefix}/{segment(import_id)}{suffix}", accept=accept, headers=FILE_HEADERS)


def attachment(prefix: str, import_id: str, attachment_id: str) -> APIRequest:
    return APIRequest("GET", f"{prefix}/{segment(import_id)}/attachment/{segment(attachment_id)}")


def attachment_file(prefix: str, import_id: str, attachment_id: str) -> APIRequest:
    return file(prefix, import_id, f"/attachment/{segment(attachment_id)}/file", ATTACHMENT_ACCEPT)
