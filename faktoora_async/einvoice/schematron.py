"""Optional official validation: run the compiled EN 16931 / XRechnung Schematron stylesheets with saxonche.

The stylesheets are not shipped with this package.  Point :class:`SchematronValidator` at a folder that
holds the compiled XSLT files under their official names::

    EN16931-CII-validation.xslt   EN16931-UBL-validation.xslt
    XRechnung-CII-validation.xslt XRechnung-UBL-validation.xslt

(the XRechnung pair is only needed with ``xrechnung=True``).  Results come back as the same
:class:`~faktoora_async.einvoice.validate.Verdict` as the pure-Python validator, one
:class:`~faktoora_async.einvoice.validate.Message` per failed assert (``flag`` -> level).
``saxonche`` is an optional dependency; without it the constructor raises :class:`SchematronUnavailable`.
Compiling takes a few seconds once per stylesheet; each document then takes tens of milliseconds.
One validator may be shared between threads: its calls into Saxon are serialised by a lock.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Final

from lxml import etree

from .errors import DocumentError
from .parse import ParsedInvoice, parse_document
from .verdict import Message, Verdict
from .xmlread import detect_syntax, parse_xml

__all__ = ["STYLESHEETS", "SchematronUnavailable", "SchematronValidator"]

logger = logging.getLogger("faktoora_async.einvoice.schematron")

STYLESHEETS: Final = {
    ("cii", "en16931"): "EN16931-CII-validation.xslt",
    ("ubl", "en16931"): "EN16931-UBL-validation.xslt",
    ("cii", "xrechnung"): "XRechnung-CII-validation.xslt",
    ("ubl", "xrechnung"): "XRechnung-UBL-validation.xslt",
}
_SVRL: Final = {"svrl": "http://purl.oclc.org/dsdl/svrl"}


class SchematronUnavailable(RuntimeError):
    """saxonche is not installed, or a stylesheet is missing from the folder."""


class SchematronValidator:
    """Validate invoices with the official compiled Schematron (XSLT 2/3) stylesheets via saxonche."""

    def __init__(self, stylesheet_dir: Path | str, *, xrechnung: bool = True) -> None:
        try:
            from saxonche import PySaxonProcessor
        except ImportError:
            raise SchematronUnavailable(
                "official Schematron validation needs the optional package 'saxonche' (pip install saxonche)."
            ) from None
        self._dir = Path(stylesheet_dir)
        self._levels: tuple[str, ...] = ("en16931", "xrechnung") if xrechnung else ("en16931",)
        for (_syntax, level), name in STYLESHEETS.items():
            if level in self._levels and not (self._dir / name).is_file():
                raise SchematronUnavailable(f"stylesheet {name} is missing from {self._dir}.")
        self._proc: Any = PySaxonProcessor(license=False)
        self._compiled: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def _executable_locked(self, syntax: str, level: str) -> Any:
        """The compiled stylesheet (compiled on first use); the caller holds ``self._lock``."""
        key = (syntax, level)
        if key not in self._compiled:
            xslt = self._proc.new_xslt30_processor()
            path = self._dir / STYLESHEETS[key]
            logger.debug("compiling %s", path)
            self._compiled[key] = xslt.compile_stylesheet(stylesheet_file=str(path))
        return self._compiled[key]

    def validate(self, data: bytes | ParsedInvoice) -> Verdict:
        """Validate invoice bytes (CII, UBL or a PDF embedding one) or a parsed invoice."""
        if not isinstance(data, ParsedInvoice) and b"%PDF-" in data[:1024]:
            data = parse_document(data)
        # parsed with the hardened parser first (no DOCTYPE/entities reach Saxon), any declared encoding
        root = parse_xml(data.xml if isinstance(data, ParsedInvoice) else data)
        syntax = data.syntax if isinstance(data, ParsedInvoice) else detect_syntax(root)
        if (syntax, "en16931") not in STYLESHEETS:
            raise DocumentError(f"no official stylesheet applies to a {syntax} invoice (not EN 16931).")
        text = etree.tostring(root, encoding="unicode")
        messages: list[Message] = []
        reports = []
        with self._lock:  # one Saxon processor: calls are serialised
            node = self._proc.parse_xml(xml_text=text)
            for level in self._levels:
                executable = self._executable_locked(syntax, level)
                reports.append(executable.transform_to_string(xdm_node=node))
        for svrl in reports:
            report = etree.fromstring(svrl.encode("utf-8"))
            for failed in report.iterfind(".//svrl:failed-assert", _SVRL):
                flag = failed.get("flag") or "error"
                messages.append(
                    Message(
                        rule_id=failed.get("id") or "",
                        level=flag if flag in ("fatal", "error", "warning") else "warning",
                        text=" ".join("".join(str(t) for t in failed.itertext()).split()),
                        location=failed.get("location") or "",
                    )
                )
        accepted = not any(m.is_error for m in messages)
        return Verdict(accepted=accepted, messages=messages, syntax=syntax)
