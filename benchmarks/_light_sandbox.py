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


def _light_render(invoice: Mapping[str, Any]) -> tuple[bytes, bytes]:
    number = str(invoice.get("invoiceNumber", ""))
    xml_fn = getattr(_domain, "_placeholder_xml", None)
    pdf_fn = getattr(_domain, "_placeholder_pdf", None)
    if xml_fn is not None and pdf_fn is not None:
        return bytes(xml_fn(invoice)), bytes(pdf_fn(number))
    safe = "".join(c for c in number if c.isalnum() or c in "-_/")
    xml = f'<?xml version="1.0" encoding="UTF-8"?><Invoice><ID>{safe}</ID></Invoice>'.encode()
    return xml, b"%PDF-1.4\n%light sandbox placeholder\n%%EOF\n"


_domain.render_files = _light_render  # type: ignore[assignment]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
