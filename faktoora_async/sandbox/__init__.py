"""The faktoora API sandbox: a local aiohttp.web server speaking ``API.md`` with real documents and faults.

>>> async with Sandbox(processing_delay=(0.05, 0.2)) as sb:   # doctest: +SKIP
...     print(sb.base_url, sb.api_key)

Run it from a shell with ``python -m faktoora_async.sandbox --port 8040 --api-key KEY``.
It never imports the SDK's client, transport, protocol or models: requests are checked by its own rules.

The public names are imported from their modules on first use (PEP 562), so importing a submodule alone
(the PDF workers unpickle :mod:`._domain`'s renderers; their forkserver preloads :mod:`._render_preload`)
does not import the web server, its state and aiohttp (~0.7 s of CPU).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .errors import ApiError
    from .faults import FaultConfig
    from .process import SandboxProcess
    from .server import Sandbox
    from .state import SandboxConfig
    from .store import FEATURES

__all__ = ["FEATURES", "ApiError", "FaultConfig", "Sandbox", "SandboxConfig", "SandboxProcess", "create_app"]

# public name -> the module that defines it (imported on first access)
_LAZY = {
    "FEATURES": ".store",
    "ApiError": ".errors",
    "FaultConfig": ".faults",
    "Sandbox": ".server",
    "SandboxConfig": ".state",
    "SandboxProcess": ".process",
    "create_app": ".app",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # the next access is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
