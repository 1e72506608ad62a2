"""``parse.read_content``: the content model of ``parse_document`` without the rules' whole-document facts."""

from __future__ import annotations

import pytest

pytest.importorskip("lxml")

from faktoora_async.einvoice.errors import DocumentError
from faktoora_async.einvoice.generate import generate_invoices
from faktoora_async.einvoice.parse import parse_document, read_content
from faktoora_async.einvoice.render import render_xml


def test_read_content_is_parse_documents_content() -> None:
    syntaxes = set()
    for invoice in generate_invoices(60, seed=7):
        xml, syntax = render_xml(invoice)
        syntaxes.add(syntax)
        assert read_content(xml) == parse_document(xml).content
    assert syntaxes == {"cii", "ubl"}


@pytest.mark.parametrize("data", [b"", b"   ", b"<a>", b"<!DOCTYPE x><x/>", b"<x/>"])
def test_read_content_refuses_what_parse_document_refuses(data: bytes) -> None:
    with pytest.raises(DocumentError) as expected:
        parse_document(data)
    with pytest.raises(DocumentError) as got:
        read_content(data)
    assert got.value.reason == expected.value.reason


def test_plain_paths_find_what_lxml_finds() -> None:
    """``xmlread``'s child-step lookups give what ``find()`` gives, for every lookup the readers make."""
    from faktoora_async.einvoice import xmlread
    from faktoora_async.einvoice.validate import validate_document

    real = xmlread._node
    seen: list[tuple[object, str]] = []

    def checked(el: object, path: str | None) -> object:
        found = real(el, path)  # type: ignore[arg-type]
        if el is not None and path:
            seen.append((found, path))
            assert found is el.find(path, xmlread.NS), path  # type: ignore[attr-defined]
        return found

    xmlread._node = checked  # type: ignore[assignment]
    try:
        for invoice in generate_invoices(30, seed=11):
            xml, _ = render_xml(invoice)
            validate_document(xml)
    finally:
        xmlread._node = real  # type: ignore[assignment]
    assert len({path for _, path in seen}) > 50
    assert xmlread._steps("ram:A/ram:B") and not xmlread._steps("ram:A[@x='1']")
    assert not xmlread._steps(".//ram:A") and not xmlread._steps("ram:*") and not xmlread._steps("foo:A")
