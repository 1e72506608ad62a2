"""The outcome of a validation: :class:`Verdict`, made of :class:`Message` findings.

Shared by the pure-Python validator (:mod:`.validate`) and the official Schematron runner
(:mod:`.schematron`), so both answer in the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Message", "Out", "Verdict"]


@dataclass(frozen=True)
class Message:
    """One finding: the rule id, its level (``fatal``, ``error`` or ``warning``), a text and a location."""

    rule_id: str
    level: str
    text: str
    location: str

    @property
    def is_error(self) -> bool:
        return self.level in ("fatal", "error")


@dataclass(frozen=True)
class Verdict:
    """The outcome of a validation: accepted unless a fatal/error message exists."""

    accepted: bool
    messages: list[Message] = field(default_factory=list)
    syntax: str = ""

    @property
    def errors(self) -> list[Message]:
        return [m for m in self.messages if m.is_error]

    @property
    def warnings(self) -> list[Message]:
        return [m for m in self.messages if not m.is_error]

    def error_ids(self) -> set[str]:
        """The distinct rule ids of the fatal/error messages."""
        return {m.rule_id for m in self.errors}

    def to_dict(self) -> dict[str, object]:
        return {
            "accepted": self.accepted,
            "syntax": self.syntax,
            "messages": [
                {"ruleId": m.rule_id, "level": m.level, "text": m.text, "location": m.location}
                for m in self.messages
            ],
        }


class Out:
    """Collects messages; one message per (rule id, location)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._seen: set[tuple[str, str]] = set()

    def error(self, rule_id: str, text: str, location: str = "/") -> None:
        self.add(rule_id, "fatal", text, location)

    def warning(self, rule_id: str, text: str, location: str = "/") -> None:
        self.add(rule_id, "warning", text, location)

    def add(self, rule_id: str, level: str, text: str, location: str) -> None:
        key = (rule_id, location)
        if key in self._seen:
            return
        self._seen.add(key)
        self.messages.append(
            Message(rule_id=rule_id, level=level, text=f"[{rule_id}] {text}", location=location)
        )
