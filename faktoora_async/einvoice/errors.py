"""Errors raised by the EN 16931 document code."""

from __future__ import annotations


class DocumentError(ValueError):
    """A file is not a readable EN 16931 invoice; ``reason`` says why in one sentence."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
