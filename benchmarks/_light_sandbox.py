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
    number = "".join(c for c in str(invoice.get("invoiceNumber", "")) if c.isalnum() or c in "-_/")
    return f'<?xml version="1.0" encoding="UTF-8"?><Invoice><ID>{number}</ID></Invoice>'.encode()


def _light_pdf(invoice: Mapping[str, Any], xml: bytes = b"") -> bytes:
    return b"%PDF-1.4\n%light sandbox placeholder\n%%EOF\n"


def _light_files(invoice: Mapping[str, Any]) -> tuple[bytes, bytes]:
    return _light_xml(invoice), _light_pdf(invoice)


# Patch whichever rendering entry points this version of the sandbox has (its names have changed before).
for _name, _fn in (("render_files", _light_files), ("render_xml", _light_xml), ("render_pdf", _light_pdf)):
    if hasattr(_domain, _name):
        setattr(_domain, _name, _fn)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
