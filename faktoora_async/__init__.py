"""faktoora-async: the asyncio SDK for faktoora's e-Invoicing API (XRechnung, ZUGFeRD)."""

from __future__ import annotations

__version__ = "0.1.0"
