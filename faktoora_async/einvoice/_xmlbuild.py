"""Element building shared by the CII and UBL renderers (needs lxml, so not in ``_util``)."""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree


class ElementMaker:
    """``SubElement`` with prefixed tags (``"ram:ID"``), each resolved to its Clark name once."""

    def __init__(self, namespaces: Mapping[str, str]) -> None:
        self._namespaces = dict(namespaces)
        self._qnames: dict[str, str] = {}

    def el(self, parent: etree._Element, tag: str, value: str | None = None, **attrib: str) -> etree._Element:
        """Append a ``tag`` element (text ``value`` if given) to ``parent``."""
        qname = self._qnames.get(tag)
        if qname is None:
            prefix, _, local = tag.partition(":")
            qname = self._qnames[tag] = f"{{{self._namespaces[prefix]}}}{local}"
        element = etree.SubElement(parent, qname, attrib)
        if value is not None:
            element.text = value
        return element

    def opt(self, parent: etree._Element, tag: str, value: str | None, **attrib: str) -> None:
        """Append the element only when ``value`` is not ``None``."""
        if value is not None:
            self.el(parent, tag, value, **attrib)
