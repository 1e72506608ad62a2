"""The sandbox with document rendering replaced by tiny fixed documents (benchmarks only).

``python -m benchmarks._light_sandbox <sandbox options>`` runs the unchanged sandbox server, API and
fault injection, except that each invoice's XML and PDF are a few hundred bytes made without the EN 16931
renderer.  Rendering a real XRechnung/ZUGFeRD pair costs the server about 40 ms of CPU per invoice; on a
2-core machine that, not the rate limit or the client, would bound a 2,000-invoice run.  Benchmarks that
use this mode say so in their table heading.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from faktoora_async.sandbox import _domain
from faktoora_async.sandbox.__main__ import main


def _light_xml(invoice: Mapping[str, Any]) -> bytes:
    """A minimal UBL document: no EN 16931 content, but its BT-1 (cbc:ID) is the invoice number, as in
    any real document (the bulk engine checks every file it stores against it)."""
    from xml.sax.saxutils import escape

    number = escape(str(invoice.get("invoiceNumber", "")))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
        'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
        f"<cbc:ID>{number}</cbc:ID></Invoice>"
    ).encode()


def _minimal_pdf() -> bytes:
    """A tiny well-formed one-page PDF (header, objects, xref table, trailer, ``startxref``)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


_PDF = _minimal_pdf()


def _light_pdf(invoice: Mapping[str, Any], xml: bytes = b"") -> bytes:
    return _PDF


def _light_files(invoice: Mapping[str, Any]) -> tuple[bytes, bytes]:
    return _light_xml(invoice), _light_pdf(invoice)


# Patch whichever rendering entry points this version of the sandbox has (its names have changed before).
for _name, _fn in (("render_files", _light_files), ("render_xml", _light_xml), ("render_pdf", _light_pdf)):
    if hasattr(_domain, _name):
        setattr(_domain, _name, _fn)

if __name__ == "__main__":
    # the patched renderers live in this process only: no PDF worker processes (they would render for real)
    sys.exit(main(["--render-processes", "0", *sys.argv[1:]]))
