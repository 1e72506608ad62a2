"""pytest fixtures for suites that test code against the faktoora sandbox.

Load them in your ``conftest.py``::

    pytest_plugins = ["faktoora_async.testing"]

and write anyio tests (the sandbox runs on asyncio, so the ``anyio_backend`` fixture must be
``"asyncio"``; override it in your conftest if your suite defaults to another backend)::

    @pytest.mark.anyio
    async def test_create(faktoora_sandbox):
        async with FaktooraClient(api_key=faktoora_sandbox.api_key, base_url=faktoora_sandbox.base_url) as c:
            ...

    @pytest.mark.anyio
    async def test_faults(faktoora_sandbox_factory):
        sb = await faktoora_sandbox_factory(faults={"error_rate": 0.2}, processing_delay=(0.01, 0.05))

Outside pytest, :func:`sandboxes` gives the same as an async context manager (this module imports pytest
only when pytest is the one loading it).

Fixtures:

- ``faktoora_sandbox``: a running :class:`~faktoora_async.sandbox.Sandbox` (function scope, default
  options, every account feature on, no faults, no processing delay), closed after the test.
- ``faktoora_sandbox_factory``: an async callable ``(**options) -> Sandbox`` taking the keyword
  arguments of :class:`~faktoora_async.sandbox.Sandbox`; every sandbox it starts is closed after the test.

Both accept webhook targets on loopback and private networks (``allow_private_targets=True``; the factory
takes ``allow_private_targets=False`` to get faktoora's refusal), so a test's own receiver can subscribe.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable
from typing import Any, Protocol

from .sandbox import Sandbox

__all__ = ["SandboxFactory", "sandboxes"]


class SandboxFactory(Protocol):
    def __call__(self, api_key: str | None = None, **options: Any) -> Awaitable[Sandbox]: ...


@contextlib.asynccontextmanager
async def sandboxes() -> AsyncIterator[SandboxFactory]:
    """``async with sandboxes() as make: sb = await make(rate=10)``: every sandbox is closed on exit."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(api_key: str | None = None, **options: Any) -> Sandbox:
            options.setdefault("allow_private_targets", True)  # test receivers listen on loopback
            return await stack.enter_async_context(Sandbox(api_key, **options))

        yield make


if "pytest" in sys.modules:  # pytest is loading this module as a plugin: define the fixtures
    import pytest

    @pytest.fixture
    async def faktoora_sandbox_factory() -> AsyncIterator[SandboxFactory]:
        """Start sandboxes with custom options; all are closed at teardown."""
        async with sandboxes() as make:
            yield make

    @pytest.fixture
    async def faktoora_sandbox() -> AsyncIterator[Sandbox]:
        """A running sandbox with default options, closed after the test."""
        async with Sandbox(allow_private_targets=True) as sandbox:
            yield sandbox

    __all__ += ["faktoora_sandbox", "faktoora_sandbox_factory"]
