"""``python -m faktoora_async``: the ``faktoora-async`` command line."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
