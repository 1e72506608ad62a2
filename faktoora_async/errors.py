"""The one exception tree of faktoora-async.

::

    FaktooraError
    ├── ConfigurationError            missing API key, bad base URL, bad option
    ├── ClientClosedError             the client was used after aclose()
    ├── InvoiceValidationError        pre-flight EN 16931 checks failed; nothing was sent (.violations)
    ├── FieldValidationError          a field of a customer/product/project/key failed a local check (.errors)
    ├── WaitTimeoutError              wait() ran out of time (.last_status); also builtins.TimeoutError
    ├── GenerationFailedError         the server could not generate the invoice file (.status)
    ├── ResponseDecodeError           a 2xx response that is not what the contract says (.body)
    ├── DownloadError                 a streamed download was truncated or could not be stored
    ├── APIStatusError                the server answered with an HTTP error status
    │   ├── BadRequestError           400 (.errors: per-field FieldError(index, field, message))
    │   ├── AuthenticationError       401
    │   ├── PermissionDeniedError     403 (e.g. FEATURE_DISABLED)
    │   ├── NotFoundError             404
    │   ├── NotAcceptableError        406
    │   ├── ConflictError             409
    │   │   ├── DuplicateInvoiceNumberError   DUPLICATE_INVOICE_NUMBER (.indexes)
    │   │   └── NotReadyError                 NOT_READY: the file does not exist yet
    │   ├── PayloadTooLargeError      413
    │   ├── RateLimitError            429 (.retry_after seconds or None)
    │   └── ServerError               5xx
    └── TransportError                no usable HTTP response
        ├── ConnectError              the request never reached the server (refused, DNS, connect timeout)
        ├── RequestTimeoutError       read/total timeout (also builtins.TimeoutError); ``TimeoutError`` alias
        └── AmbiguousRequestError     a non-idempotent request failed after it may have reached the server

No message, repr or attribute of any of these ever contains the API key.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "APIStatusError",
    "AmbiguousRequestError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "DownloadError",
    "DuplicateInvoiceNumberError",
    "FaktooraError",
    "FieldError",
    "FieldValidationError",
    "GenerationFailedError",
    "InvoiceValidationError",
    "NotAcceptableError",
    "NotFoundError",
    "NotReadyError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseDecodeError",
    "ServerError",
    "TimeoutError",
    "TransportError",
    "WaitTimeoutError",
]


class FaktooraError(Exception):
    """Root of every error raised by faktoora-async."""


class ConfigurationError(FaktooraError):
    """The client was configured wrongly (no API key, bad base URL, bad option)."""


class ClientClosedError(FaktooraError):
    """The client (or its session) was used after it was closed."""


@dataclass(frozen=True)
class FieldError:
    """One per-field problem from a 400 response (``index`` names the invoice in a batch)."""

    index: int | None
    field: str | None
    message: str


_INDEX = re.compile(r"^(?:\$\.)?(?:invoices)?\[(\d+)\]")


def _index_of(path: str) -> int | None:
    match = _INDEX.match(path)
    return int(match.group(1)) if match else None


class InvoiceValidationError(FaktooraError):
    """Pre-flight EN 16931 checks found problems; no request was sent.

    ``violations`` lists every problem of every invoice (objects with ``rule_id``, ``path``, ``message``);
    ``errors`` has the same as :class:`FieldError` (``index`` of the invoice, ``field`` path, ``message``).
    """

    def __init__(self, violations: Sequence[Any]) -> None:
        self.violations: list[Any] = list(violations)
        self.errors: list[FieldError] = [
            FieldError(
                index=_index_of(str(getattr(v, "path", ""))),
                field=str(getattr(v, "path", "")) or None,
                message=f"{getattr(v, 'rule_id', '?')}: {getattr(v, 'message', v)}",
            )
            for v in self.violations
        ]
        lines = [
            f"{getattr(v, 'rule_id', '?')} at {getattr(v, 'path', '?')}: {getattr(v, 'message', v)}"
            for v in self.violations[:20]
        ]
        more = len(self.violations) - len(lines)
        text = f"{len(self.violations)} pre-flight violation(s); nothing was sent:\n  " + "\n  ".join(lines)
        if more > 0:
            text += f"\n  ... and {more} more"
        super().__init__(text)


class FieldValidationError(FaktooraError, ValueError):
    """A field failed a local check (customers, products, projects, API keys, incoming updates, CSV rows);
    nothing was sent.  ``errors`` lists every problem as :class:`FieldError` (``field`` is the wire name,
    ``index`` the 0-based CSV row when there is one); ``field`` is the first one's, ``row`` its CSV row."""

    def __init__(self, what: str, errors: Sequence[FieldError], *, row: int | None = None) -> None:
        self.what = what
        self.errors: list[FieldError] = list(errors)
        self.row = row
        self.field = self.errors[0].field if self.errors else None
        where = f"row {row}: " if row is not None else ""
        lines = [e.message for e in self.errors[:20]]
        more = f"; ... and {len(self.errors) - 20} more" if len(self.errors) > 20 else ""
        super().__init__(f"{where}invalid {what}: " + "; ".join(lines) + more)


class WaitTimeoutError(FaktooraError, builtins.TimeoutError):
    """``invoices.wait()`` did not see the resting state in time."""

    def __init__(self, message: str, *, faktoora_id: str, last_status: Any = None) -> None:
        super().__init__(message)
        self.faktoora_id = faktoora_id
        self.last_status = last_status


class GenerationFailedError(FaktooraError):
    """The server reported ``jobStatus: failed`` for an invoice."""

    def __init__(self, message: str, *, faktoora_id: str, status: Any = None) -> None:
        super().__init__(message)
        self.faktoora_id = faktoora_id
        self.status = status


class ResponseDecodeError(FaktooraError):
    """A successful response did not match the contract (wrong type, truncated JSON, wrong content type)."""

    def __init__(self, message: str, *, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class DownloadError(FaktooraError):
    """A streamed download was incomplete (Content-Length mismatch) or could not be written."""


class APIStatusError(FaktooraError):
    """The server answered with an HTTP error status.

    Attributes: ``status`` (HTTP status), ``code`` (e.g. ``BAD_REQUEST``), ``message``, ``errors``
    (list of :class:`FieldError`), ``request_id`` (from ``x-request-id`` if sent), ``body`` (raw text,
    capped), ``method`` and ``url`` of the request.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        errors: Sequence[FieldError] = (),
        request_id: str | None = None,
        body: str = "",
        method: str = "",
        url: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.errors: list[FieldError] = list(errors)
        self.request_id = request_id
        self.body = body
        self.method = method
        self.url = url
        self.retry_after = retry_after
        parts = [f"{status}"]
        if code:
            parts.append(code)
        text = " ".join(parts) + f": {message}"
        if method or url:
            text += f" ({method} {url})"
        if self.errors:
            text += "".join(
                f"\n  [{e.index if e.index is not None else '-'}] {e.field or '-'}: {e.message}"
                for e in self.errors[:20]
            )
        if request_id:
            text += f" [request id {request_id}]"
        super().__init__(text)


class BadRequestError(APIStatusError):
    """400: the request was invalid; ``errors`` has one entry per problem."""


class AuthenticationError(APIStatusError):
    """401: missing, unknown, expired or revoked API key."""


class PermissionDeniedError(APIStatusError):
    """403: the account may not do this (e.g. ``FEATURE_DISABLED``)."""


class NotFoundError(APIStatusError):
    """404: no such resource."""


class NotAcceptableError(APIStatusError):
    """406: the requested representation (Accept header) is not available."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the current state."""


class DuplicateInvoiceNumberError(ConflictError):
    """409 ``DUPLICATE_INVOICE_NUMBER``: ``indexes`` lists the clashing invoices of the batch."""

    @property
    def indexes(self) -> list[int]:
        return sorted({e.index for e in self.errors if e.index is not None})


class NotReadyError(ConflictError):
    """409 ``NOT_READY``: the file does not exist yet; wait for the invoice first."""


class PayloadTooLargeError(APIStatusError):
    """413: too many invoices in one request, or the upload is too large."""


class RateLimitError(APIStatusError):
    """429: throttled; ``retry_after`` is the server's hint in seconds (or None)."""


class ServerError(APIStatusError):
    """5xx: the server failed."""


class TransportError(FaktooraError):
    """No usable HTTP response was received."""

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        super().__init__(message)
        self.method = method
        self.url = url


class ConnectError(TransportError):
    """The request never reached the server (refused, DNS failure, connect timeout)."""


class RequestTimeoutError(TransportError, builtins.TimeoutError):
    """The request timed out after it was sent (read or total timeout)."""


TimeoutError = RequestTimeoutError  # httpx-style name; also a builtins.TimeoutError


class AmbiguousRequestError(TransportError):
    """A non-idempotent request (POST/PATCH) failed after it may have reached the server.

    It was not retried: the server may or may not have acted on it. For invoices, look the invoice
    number up (``invoices.list(invoice_number=...)``) before sending again.
    """
