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
