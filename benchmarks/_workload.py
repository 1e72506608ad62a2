"""The shared work every B1/B2/B5 contestant does, and the rules every hand-written contestant follows.

Rules for the hand-written contestants (so the comparison is fair and each one completes):

* invoices are created in batches of up to 100 per ``POST /invoices`` (what the API allows);
* a ``429`` is answered by sleeping ``Retry-After`` seconds and sending the same request again (the least
  a script must do to finish under a rate limit); no other retries;
* each invoice's status is polled right after its batch was accepted and then every ``poll_interval``
  seconds until ``invoiceStatus`` is set (ready) or ``jobStatus`` is ``failed``;
* then its PDF and its XML are downloaded and written to ``out_dir/<invoiceNumber>.pdf|.xml``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

BATCH = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass
class WorkConfig:
    origin: str
    api_key: str
    n: int
    seed: int = 0
    prefix: str = "RE"
    out_dir: str = ""
    poll_interval: float = 0.5
    concurrency: int = 32
    lines: int | None = None
    journal: str = ""
    webhooks: bool = False
    kind: str = ""  # B2: "status" or "create"
    repeats: int = 0  # B2: requests per measurement
    status_id: str = ""  # B2: an existing invoice to poll

    @property
    def base_v1(self) -> str:
        return self.origin + "/api/v1"

    def status_url(self, faktoora_id: str) -> str:
        return f"{self.origin}/api/v2/invoices/{faktoora_id}/status"

    def file_url(self, faktoora_id: str) -> str:
        return f"{self.origin}/api/v1/invoices/{faktoora_id}"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WorkConfig:
        return cls(**json.loads(text))


ACCEPT = {"pdf": "application/pdf", "xml": "application/xml"}


def invoices(cfg: WorkConfig) -> list[dict[str, Any]]:
    from faktoora_async.einvoice.generate import generate_invoices

    return list(generate_invoices(cfg.n, seed=cfg.seed, lines=cfg.lines, number_prefix=cfg.prefix))


def batches(items: list[T], size: int = BATCH) -> Iterator[list[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def file_path(cfg: WorkConfig, number: str, fmt: str) -> str:
    return os.path.join(cfg.out_dir, f"{_UNSAFE.sub('_', number)}.{fmt}")


def retry_after(value: str | None) -> float:
    try:
        return max(0.05, float(value)) if value else 1.0
    except ValueError:
        return 1.0


def is_ready(status: dict[str, Any]) -> bool | None:
    """True when the file exists, None when generation failed, False while it is being generated."""
    if status.get("invoiceStatus") is not None:
        return True
    if status.get("jobStatus") == "failed":
        return None
    return False


def verify_out_dir(out_dir: str) -> dict[str, int]:
    """Count plausible files under ``out_dir`` (any naming): PDFs start ``%PDF``, XMLs with ``<``."""
    counts = {"pdf_ok": 0, "xml_ok": 0, "files_bad": 0}
    for path in Path(out_dir).rglob("*"):
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in ("pdf", "xml") or not path.is_file():
            continue
        with path.open("rb") as f:
            head = f.read(64).lstrip().removeprefix(b"\xef\xbb\xbf")
        if head.startswith(b"%PDF" if fmt == "pdf" else b"<"):
            counts[f"{fmt}_ok"] += 1
        else:
            counts["files_bad"] += 1
    return counts
