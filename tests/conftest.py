"""Shared pytest configuration.

``../shared`` (the API contract, real sample invoices and the official Schematron rules) lives beside the
project checkout.  Tests that need it use the ``shared_dir`` fixture: they skip with a reason when it is
absent, and fail instead when ``FAKTOORA_REQUIRE_SHARED=1`` (``.ci/run`` sets it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("FAKTOORA_SHARED_DIR", PROJECT_ROOT.parent / "shared")).resolve()


def require_shared(*parts: str) -> Path:
    """Return ``SHARED_DIR / parts``; skip (or fail under FAKTOORA_REQUIRE_SHARED=1) when it is missing."""
    path = SHARED_DIR.joinpath(*parts)
    if not path.exists():
        reason = f"{path} is absent (the ../shared folder beside the checkout)"
        if os.environ.get("FAKTOORA_REQUIRE_SHARED") == "1":
            pytest.fail(f"FAKTOORA_REQUIRE_SHARED=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return require_shared()


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return require_shared("samples")


@pytest.fixture(scope="session")
def schematron_validator() -> Iterator[object]:
    """The official EN 16931 + XRechnung 3.0 rules (``../shared/schematron/check.py``), compiled once."""
    import importlib.util
    import sys

    check_py = require_shared("schematron", "check.py")
    pytest.importorskip("saxonche")
    spec = importlib.util.spec_from_file_location("faktoora_shared_check", check_py)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module.Validator()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
