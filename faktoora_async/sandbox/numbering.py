"""Invoice-number templates (API.md v2, faktoora's ``/docs/invoice-numbers/``), pure and I/O free.

Grammar: segments joined by one separator kind (``/ - _ .``); a segment is a date token (``YYYY``, ``MM``,
``DD``, each at most once) or a literal of letters and digits; the template ends with a separator and
``id``, the counter padded to the account's pad length: ``YYYY/MM/id`` -> ``2026/03/00043``,
``RE-YYYY-id`` -> ``RE-2026-00043``.  :func:`parse_template` raises :class:`TemplateError` naming the rule
a template breaks.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "DEFAULT_PAD_LENGTH",
    "DEFAULT_TEMPLATE",
    "MAX_PAD_LENGTH",
    "SEPARATORS",
    "Template",
    "TemplateError",
    "parse_template",
]

DEFAULT_TEMPLATE = "YYYY/MM/id"
DEFAULT_PAD_LENGTH = 5
MAX_PAD_LENGTH = 10
MAX_TEMPLATE_LENGTH = 100
SEPARATORS = "/-_."
DATE_TOKENS = ("YYYY", "MM", "DD")
_LITERAL = re.compile(r"[A-Za-z0-9]+")
_DATE_LIKE = re.compile(r"[Yy]{2,}|[Mm]{2,}|[Dd]{2,}")  # YY, yyyy, mm, Dd...: a mistyped date token
_TOKEN_PATTERNS = {"YYYY": r"\d{4}", "MM": r"(?:0[1-9]|1[0-2])", "DD": r"(?:0[1-9]|[12]\d|3[01])"}


class TemplateError(ValueError):
    """A template that breaks the grammar; the message names the rule."""


@dataclass(frozen=True)
class Template:
    """A parsed template: its segments (tokens or literals, ``id`` last) and its one separator."""

    text: str
    segments: tuple[str, ...]
    separator: str

    def render(self, counter: int, pad_length: int, today: _dt.date) -> str:
        """The number of ``counter`` on ``today`` (the counter is never cut when longer than the pad)."""
        values = {"YYYY": f"{today.year:04d}", "MM": f"{today.month:02d}", "DD": f"{today.day:02d}"}
        parts = [values.get(segment, segment) for segment in self.segments[:-1]]
        parts.append(f"{counter:0{pad_length}d}")
        return self.separator.join(parts)

    def counter_of(self, number: str) -> int | None:
        """The counter a number made by this template embeds (any date, any pad), else None."""
        pattern = self._pattern()
        match = pattern.fullmatch(number)
        return int(match.group("id")) if match else None

    def _pattern(self) -> re.Pattern[str]:
        parts = [_TOKEN_PATTERNS.get(s, re.escape(s)) for s in self.segments[:-1]]
        parts.append(r"(?P<id>\d{1,18})")
        return re.compile(re.escape(self.separator).join(parts))

    def first_free(
        self, counter: int, pad_length: int, today: _dt.date, taken: Callable[[str], bool]
    ) -> tuple[str, int]:
        """``(number, counter)`` of the first free number after ``counter`` (faktoora's uniqueness bump)."""
        value = counter + 1
        number = self.render(value, pad_length, today)
        while taken(number):
            value += 1
            number = self.render(value, pad_length, today)
        return number, value


def parse_template(text: object) -> Template:
    """Parse and check ``text``; raises :class:`TemplateError` with the rule that is broken."""
    if not isinstance(text, str):
        raise TemplateError("template must be a string")
    if not text:
        raise TemplateError("template must not be empty")
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise TemplateError(f"template must be at most {MAX_TEMPLATE_LENGTH} characters")
    if "{" in text or "}" in text:
        raise TemplateError(
            "braces are not template syntax: write the tokens bare, e.g. RE-YYYY-id for RE-2026-00043"
        )
    for char in text:
        if not (char.isascii() and (char.isalnum() or char in SEPARATORS)):
            raise TemplateError(
                f"character {char!r} is not allowed: use letters, digits, YYYY, MM, DD, id and one "
                f"separator of {' '.join(SEPARATORS)}"
            )
    used = sorted({c for c in text if c in SEPARATORS})
    if not used:
        raise TemplateError("template must end with a separator and id (e.g. YYYY-id)")
    if len(used) > 1:
        raise TemplateError(f"template mixes separators {' and '.join(used)}: use one kind")
    separator = used[0]
    segments = tuple(text.split(separator))
    if any(not segment for segment in segments):
        raise TemplateError(
            f"template has an empty segment (a separator {separator!r} at the start, at the end or doubled)"
        )
    _check_segments(segments)
    return Template(text, segments, separator)


def _check_segments(segments: tuple[str, ...]) -> None:
    if segments[-1] != "id":
        if "id" in segments:
            raise TemplateError("id must be the last segment")
        if segments[-1].lower() == "id":
            raise TemplateError(f"the counter token is lower-case id, not {segments[-1]}")
        raise TemplateError("template must end with a separator and id (e.g. YYYY-id)")
    if len(segments) < 2:
        raise TemplateError("template must end with a separator and id (e.g. YYYY-id)")
    seen: set[str] = set()
    for segment in segments[:-1]:
        if segment.lower() == "id":
            raise TemplateError("id may appear only once, as the last segment")
        if segment in DATE_TOKENS:
            if segment in seen:
                raise TemplateError(f"date token {segment} appears more than once")
            seen.add(segment)
            continue
        if _DATE_LIKE.fullmatch(segment):
            raise TemplateError(f"unknown date token {segment!r}: the date tokens are YYYY, MM and DD")
        if not _LITERAL.fullmatch(segment):  # pragma: no cover - excluded by the character check
            raise TemplateError(f"segment {segment!r} must be letters and digits")
