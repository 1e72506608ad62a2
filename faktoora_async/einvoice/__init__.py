"""EN 16931 domain code: totals, pre-flight rules, CII/UBL/Factur-X rendering, parsing, validation.

Pure code, no HTTP.  Input invoices are plain mappings in faktoora's JSON shape (``docs/PAYLOAD.md``).

The pure-Python parts (``compute_totals``, ``check_invoice``, ``generate_invoice``) need nothing beyond the
standard library, so the SDK's pre-flight checks work with the core install.  Rendering, parsing, validation
and PDFs need the ``[sandbox]`` extra (lxml, pypdf, reportlab, factur-x); those names are imported on first
use, so ``import faktoora_async.einvoice`` never fails for lack of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import DocumentError
from .generate import generate_invoice, generate_invoices
from .rules import Violation, check_invoice, check_invoices
from .totals import Totals, compute_totals

if TYPE_CHECKING:
    from .cii import render_cii
    from .parse import Attachment, ParsedInvoice, parse_document
    from .pdf import render_content_pdf, render_facturx_pdf, render_validation_report_pdf
    from .render import RenderedFiles, render_files, render_xml
    from .schematron import SchematronValidator
    from .ubl import render_ubl
    from .validate import Message, Verdict, validate_document

_LAZY = {
    "render_cii": "cii",
    "render_ubl": "ubl",
    "render_xml": "render",
    "render_files": "render",
    "RenderedFiles": "render",
    "parse_document": "parse",
    "ParsedInvoice": "parse",
    "Attachment": "parse",
    "validate_document": "validate",
    "Verdict": "validate",
    "Message": "validate",
    "render_content_pdf": "pdf",
    "render_facturx_pdf": "pdf",
    "render_validation_report_pdf": "pdf",
    "SchematronValidator": "schematron",
}

__all__ = [
    "Attachment",
    "DocumentError",
    "Message",
    "ParsedInvoice",
    "RenderedFiles",
    "SchematronValidator",
    "Totals",
    "Verdict",
    "Violation",
    "check_invoice",
    "check_invoices",
    "compute_totals",
    "generate_invoice",
    "generate_invoices",
    "parse_document",
    "render_cii",
    "render_content_pdf",
    "render_facturx_pdf",
    "render_files",
    "render_ubl",
    "render_validation_report_pdf",
    "render_xml",
    "validate_document",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ImportError(
            f"faktoora_async.einvoice.{name} needs the [sandbox] extra "
            "(pip install 'faktoora-async[sandbox]') "
            f"({exc})"
        ) from exc
    globals()[name] = value
    return value
