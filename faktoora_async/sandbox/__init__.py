"""The faktoora API sandbox: a local aiohttp.web server speaking ``API.md`` with real documents and faults.

>>> async with Sandbox(processing_delay=(0.05, 0.2)) as sb:   # doctest: +SKIP
...     print(sb.base_url, sb.api_key)

Run it from a shell with ``python -m faktoora_async.sandbox --port 8040 --api-key KEY``.
It never imports the SDK's client, transport, protocol or models: requests are checked by its own rules.
"""

from __future__ import annotations

from .app import create_app
from .errors import ApiError
from .faults import FaultConfig
from .server import Sandbox, SandboxProcess
from .state import SandboxConfig
from .store import FEATURES

__all__ = ["FEATURES", "ApiError", "FaultConfig", "Sandbox", "SandboxConfig", "SandboxProcess", "create_app"]
