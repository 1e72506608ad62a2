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

# Test webhook receivers listen on loopback, a target faktoora (and by default the sandbox) refuses: every
# Sandbox / SandboxProcess of the suite accepts private targets unless a test passes
# allow_private_targets=False (the tests of the refusal do).
os.environ["FAKTOORA_SANDBOX_ALLOW_PRIVATE_TARGETS"] = "1"

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


# ------------------------------------------------------------------------------------------------------------
# Suite-wide API-key leak guard (role W).  Every test API key either starts with ``sk_test_`` (the sandbox's
# generated keys and the keys tests invent) or is registered with ``register_test_api_key``.  The run fails
# when any such key shows up in a log record (any logger, any level of ``faktoora_async``), in a test
# report (exception text, captured stdout/stderr/log), or in a file written under pytest's tmp dirs.
# ------------------------------------------------------------------------------------------------------------
import logging  # noqa: E402
import re  # noqa: E402

# pytester: tests/test_security.py proves the guard fails a run that leaks a key.  _services: the PostgreSQL
# and Redis fixtures (postgres_url, redis_url, private_redis; see tests/_services.py), when beside this file.
pytest_plugins = ["pytester", *(["_services"] if (Path(__file__).parent / "_services.py").exists() else [])]

TEST_KEY_PREFIX = "sk_test_"
_TEST_KEY_RE = re.compile(re.escape(TEST_KEY_PREFIX) + r"[A-Za-z0-9_\-]{6,}")
_KNOWN_KEYS: set[str] = set()
_KEY_LEAKS: list[str] = []


def register_test_api_key(key: str) -> str:
    """Add a key without the ``sk_test_`` prefix to the leak scan; returns it for convenience."""
    if key:
        _KNOWN_KEYS.add(key)
    return key


def find_api_keys(text: str) -> list[str]:
    """Known or prefix-shaped test API keys found in ``text``."""
    found = _TEST_KEY_RE.findall(text)
    found += [key for key in _KNOWN_KEYS if key in text]
    return found


def _note_leak(where: str, text: str) -> None:
    keys = find_api_keys(text)
    if keys:
        masked = text
        for key in sorted(set(keys), key=len, reverse=True):
            masked = masked.replace(key, "<KEY>")
        masked = _TEST_KEY_RE.sub("<KEY>", masked)
        position = masked.find("<KEY>")
        _KEY_LEAKS.append(f"{where}: a test API key in ...{masked[max(0, position - 120) : position + 60]!r}")


class _KeyLeakHandler(logging.Handler):
    """Sees every record that reaches the root logger and checks message, args and traceback."""

    def __init__(self) -> None:
        super().__init__(level=1)
        self.records = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1
        try:
            parts = [record.getMessage(), repr(record.args)]
            if record.exc_info:
                parts.append(logging.Formatter().formatException(record.exc_info))
            if record.exc_text:
                parts.append(record.exc_text)
            if record.stack_info:
                parts.append(record.stack_info)
            parts.extend(repr(value) for key, value in vars(record).items() if key not in _STD_RECORD_KEYS)
        except Exception as exc:  # a broken __repr__ must not hide a leak, nor break logging
            parts = [f"<unformattable record: {type(exc).__name__}>", str(record.msg)]
        _note_leak(f"log record {record.name}:{record.levelname}", "\n".join(parts))


_STD_RECORD_KEYS = set(vars(logging.LogRecord("n", 0, "p", 0, "m", None, None))) | {"message", "asctime"}
_LEAK_HANDLER = _KeyLeakHandler()


def pytest_sessionstart(session: pytest.Session) -> None:
    logging.getLogger().addHandler(_LEAK_HANDLER)
    # Make every faktoora_async record exist (DEBUG included), so leaks at any level are seen.
    logging.getLogger("faktoora_async").setLevel(logging.DEBUG)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Keys of fixtures (a ``Sandbox``, a ``FaktooraClient``...) join the scan even without the prefix."""
    for value in getattr(item, "funcargs", {}).values():
        key = getattr(value, "api_key", None)
        if isinstance(key, str) and len(key) >= 8:
            register_test_api_key(key)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    texts = [
        getattr(report, "longreprtext", ""),
        getattr(report, "capstdout", ""),
        getattr(report, "capstderr", ""),
        getattr(report, "caplog", ""),
    ]
    for text in texts:
        if text:
            _note_leak(f"test report of {item.nodeid} ({call.when})", text)
    return report


def _scan_tmp_files(session: pytest.Session) -> None:
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    try:
        base = factory.getbasetemp()
    except Exception:
        return
    patterns = [_TEST_KEY_RE.pattern.encode()]
    patterns += [re.escape(key.encode()) for key in _KNOWN_KEYS]
    regex = re.compile(b"|".join(patterns))
    for path in base.rglob("*"):
        try:
            if not path.is_file() or path.is_symlink() or path.stat().st_size > 64 * 1024 * 1024:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        if regex.search(data):
            _KEY_LEAKS.append(f"file {path}: contains a test API key")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    logging.getLogger().removeHandler(_LEAK_HANDLER)
    _scan_tmp_files(session)
    if _KEY_LEAKS and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _KEY_LEAKS:
        terminalreporter.section("API key leak guard: FAILED", red=True)
        for line in _KEY_LEAKS[:50]:
            terminalreporter.line(line, red=True)
        terminalreporter.line(f"{len(_KEY_LEAKS)} leak(s); the run fails", red=True)
    else:
        terminalreporter.line(
            f"API key leak guard: no test API key in {_LEAK_HANDLER.records} log records, test reports, "
            "or files under pytest's tmp dirs"
        )
