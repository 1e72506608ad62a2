"""The sans-I/O protocol layer: request descriptions in, typed results or typed errors out.

Nothing here performs I/O or imports aiohttp (see gidgethub's ``sansio``): resources describe a call as an
:class:`APIRequest` (the per-area modules build them), the transport sends it, and the functions here turn
``(status, headers, body bytes)`` into msgspec structs or an :mod:`faktoora_async.errors` exception, and
decide whether a failed attempt may be retried (:mod:`.retry`).  All of it is tested with plain bytes.
"""

from __future__ import annotations

from ._request import FILE_HEADERS, JSON, APIRequest, build_url, json_request, paged, query, redact, segment
from .decode import (
    check_file_type,
    decode_json,
    decode_page,
    decoder_for,
    error_from_response,
    header,
    is_json_content_type,
    lenient_convert,
    parse_retry_after,
    transport_error,
)
from .retry import Outcome, RetryBudget, retry_delay, should_retry
from .wire import (
    MAX_INVOICES_PER_REQUEST,
    InvoiceInput,
    WireInvoice,
    encode_body,
    encode_invoices,
    invoice_resting_status,
    invoice_to_builtins,
    prepare_invoice,
    prepare_invoices,
)

__all__ = [
    "FILE_HEADERS",
    "JSON",
    "MAX_INVOICES_PER_REQUEST",
    "APIRequest",
    "InvoiceInput",
    "Outcome",
    "RetryBudget",
    "WireInvoice",
    "build_url",
    "check_file_type",
    "decode_json",
    "decode_page",
    "decoder_for",
    "encode_body",
    "encode_invoices",
    "error_from_response",
    "header",
    "invoice_resting_status",
    "invoice_to_builtins",
    "is_json_content_type",
    "json_request",
    "lenient_convert",
    "paged",
    "parse_retry_after",
    "prepare_invoice",
    "prepare_invoices",
    "query",
    "redact",
    "retry_delay",
    "segment",
    "should_retry",
    "transport_error",
]
