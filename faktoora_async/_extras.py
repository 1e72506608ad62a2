"""Which optional extras are installed: the guard of the command line and of the sandbox's entry point.

The core install (``pip install faktoora-async``) has only aiohttp, msgspec, anyio and backoff.  The
``faktoora-async`` command and ``python -m faktoora_async.sandbox`` need more; instead of failing half-way
(a ``ModuleNotFoundError`` traceback, or a sandbox that starts and then fails every invoice), they call
:func:`missing_extra` first and exit 2 with one line naming the extra to install.

This module imports nothing but the standard library, so it works on any install.
"""

from __future__ import annotations

import importlib.util
import sys

__all__ = ["EXTRA_MODULES", "missing_extra", "require_extra"]

# The import names each extra provides (``[cli]`` includes ``[sandbox]``: see pyproject.toml).
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "sandbox": ("lxml", "pypdf", "reportlab", "facturx"),
    "cli": ("rich", "lxml", "pypdf", "reportlab", "facturx"),
}

EXIT_USAGE = 2


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or half-removed package counts as missing
        return False


def missing_extra(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported (empty when the extra is installed)."""
    return [module for module in EXTRA_MODULES[extra] if not _installed(module)]


def require_extra(extra: str, what: str) -> int | None:
    """``None`` when ``extra`` is installed; else print one line to stderr and return exit code 2.

    ``what`` names the program in the message, e.g. ``"the faktoora-async command"``.
    """
    missing = missing_extra(extra)
    if not missing:
        return None
    print(
        f"error: {what} needs the [{extra}] extra (missing: {', '.join(missing)}): "
        f"pip install 'faktoora-async[{extra}]'",
        file=sys.stderr,
        flush=True,
    )
    return EXIT_USAGE
