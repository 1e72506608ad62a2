"""Requests of the account settings (``/settings/invoice-number-template``), and the local check of
faktoora's invoice-number template grammar (API.md v2, ``/docs/invoice-numbers/``).

Grammar: segments joined by ONE separator kind (``/``, ``-``, ``_`` or ``.``), each a date token
(``YYYY``, ``MM``, ``DD``, at most once each) or a literal of ASCII letters and digits, the last one ``id``
(the counter, padded to the account's pad length): ``YYYY/MM/id``, ``YYYY-id``, ``RE-YYYY-id``.
"""

from __future__ import annotations

import re

from ._request import APIRequest, json_request
from .wire import encode_body

__all__ = [
    "MAX_PAD_LENGTH",
    "check_pad_length",
    "check_template",
    "invoice_number_template",
    "update_invoice_number_template",
]

PATH = "/settings/invoice-number-template"
MAX_PAD_LENGTH = 10
_MAX_LENGTH = 100
_PIECE = re.compile(r"[A-Za-z0-9]+|[/_.-]|.", re.DOTALL)  # a run of letters/digits, a separator, other
_WRONG_DATE = re.compile(r"(?i:y{2,}|m{2,}|d{2,})")


def check_template(template: str) -> str:
    """``template`` when faktoora's grammar allows it; else ``ValueError`` naming the rule it breaks."""
    if not isinstance(template, str):
        raise ValueError("template must be a string")
    if not template:
        raise ValueError("template must not be empty")
    if len(template) > _MAX_LENGTH:
        raise ValueError(f"template must be at most {_MAX_LENGTH} characters")
    pieces = _PIECE.findall(template)
    bad = next((p for p in pieces if len(p) == 1 and not p.isalnum() and p not in "/_.-"), None)
    if bad is not None or not template.isascii():
        shown = bad if bad is not None else next(c for c in template if not c.isascii())
        hint = " (braces are not template syntax: write RE-YYYY-id)" if shown in "{}" else ""
        raise ValueError(f"template: character {shown!r} is not allowed{hint}")
    separators = {p for p in pieces if p in ("/", "_", ".", "-")}
    if len(separators) > 1:
        raise ValueError(f"template mixes separators {' and '.join(sorted(separators))}: use one kind")
    if not separators or pieces[-1] != "id":
        if "id" in pieces[:-1]:
            raise ValueError("template: id must be the last segment")
        if pieces[-1] in ("ID", "Id", "iD"):
            raise ValueError(f"template: the counter token is lower-case id, not {pieces[-1]}")
        raise ValueError("template must end with a separator and id (e.g. YYYY-id)")
    words = pieces[0::2]
    if len(pieces) % 2 == 0 or any(p in ("/", "_", ".", "-") for p in words):
        raise ValueError("template has an empty segment (a separator at the start, at the end or doubled)")
    for word in words[:-1]:
        if word.lower() == "id":
            raise ValueError("template: id may appear only once, as the last segment")
        if word in ("YYYY", "MM", "DD"):
            if words.count(word) > 1:
                raise ValueError(f"template: date token {word} appears more than once")
        elif _WRONG_DATE.fullmatch(word):
            raise ValueError(f"template: unknown date token {word!r} (the tokens are YYYY, MM and DD)")
    return template


def check_pad_length(pad_length: int) -> int:
    """``pad_length`` when it is an integer from 1 to 10; else ``ValueError``."""
    if (
        isinstance(pad_length, bool)
        or not isinstance(pad_length, int)
        or not 1 <= pad_length <= MAX_PAD_LENGTH
    ):
        raise ValueError(f"pad_length must be an integer from 1 to {MAX_PAD_LENGTH}")
    return pad_length


def invoice_number_template() -> APIRequest:
    return APIRequest("GET", PATH)


def update_invoice_number_template(*, template: str | None, pad_length: int | None) -> APIRequest:
    if template is None and pad_length is None:
        raise ValueError("give template and/or pad_length")
    body: dict[str, object] = {}
    if template is not None:
        body["template"] = check_template(template)
    if pad_length is not None:
        body["padLength"] = check_pad_length(pad_length)
    return json_request("PUT", PATH, encode_body(body))
