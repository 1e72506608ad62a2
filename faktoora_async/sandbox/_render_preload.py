"""Imported by the forkserver of the sandbox's PDF workers (:mod:`._render_pool`), once, before it forks.

Importing this module imports the renderers and renders one small PDF (the fonts are read, the styles
built, the fonts' common subset made), so every worker forked afterwards starts warm.  It is imported
for that effect only, by ``multiprocessing``'s forkserver preload; a failure is logged, never raised (the
workers would then load everything themselves, as without the preload).
"""

from __future__ import annotations

import logging

from ._render_pool import _load, _warm_render

try:
    _load()
    _warm_render()
except Exception as exc:  # the forkserver must start anyway
    logging.getLogger("faktoora_async.sandbox").warning("PDF forkserver could not warm up: %s", exc)
