"""pytest fixtures for the real servers the tests talk to: PostgreSQL and Redis.

The servers are started outside pytest by ``.ci/services`` (``bash .ci/services start``, or ``.ci/run``)
on loopback ports; it exports their URLs:

* ``FAKTOORA_TEST_POSTGRES_URL``: a superuser URL; :func:`postgres_url` creates a fresh database for each
  test (``CREATE DATABASE``) and drops it afterwards.
* ``FAKTOORA_TEST_REDIS_URL``: :func:`redis_url` hands each test a fresh, empty numbered database
  (``redis://host:port/N``; ``.ci/services`` configures 1024 of them), flushed before and after.

Without the variable (or without the driver installed) a test that needs the server is skipped with the
reason; with ``FAKTOORA_REQUIRE_SERVICES=1`` (``.ci/run`` sets it) it fails instead.

:func:`journal_spec` is parametrized over the journal backends: a SQLite file path, then a PostgreSQL URL
(a fresh database, skipped or failed like :func:`postgres_url`), so one test body covers both.

:func:`private_redis` starts a Redis server of the test's own (the ``redis-server`` binary on PATH) that the
test may stop and start again, e.g. to show a run surviving a Redis outage.

Registered for every test by ``tests/conftest.py`` (``pytest_plugins``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

__all__ = [
    "RedisServer", "journal_spec", "postgres_url", "private_redis", "redis_url", "service_unavailable",
]  # fmt: skip

POSTGRES_ENV = "FAKTOORA_TEST_POSTGRES_URL"
REDIS_ENV = "FAKTOORA_TEST_REDIS_URL"
REQUIRE_ENV = "FAKTOORA_REQUIRE_SERVICES"
_HINT = 'start the test servers with `bash .ci/services start` and `eval "$(bash .ci/services env)"`'


def service_unavailable(reason: str) -> NoReturn:
    """Skip the test with ``reason``, or fail it when ``FAKTOORA_REQUIRE_SERVICES=1``."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _with_path(url: str, path: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + path, parts.query, parts.fragment))


def _redacted(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


# -- PostgreSQL ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _postgres_admin() -> str:
    url = os.environ.get(POSTGRES_ENV, "")
    if not url:
        service_unavailable(f"PostgreSQL: {POSTGRES_ENV} is not set ({_HINT})")
    try:
        import psycopg
    except ImportError:
        service_unavailable("PostgreSQL: psycopg is not installed (pip install -e '.[postgres]')")
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        service_unavailable(f"PostgreSQL at {_redacted(url)} is unreachable: {exc}")
    return url


@pytest.fixture
def postgres_url(_postgres_admin: str) -> Iterator[str]:
    """A ``postgresql://`` URL of a fresh, empty database of its own for this test (dropped after it)."""
    import psycopg
    from psycopg import sql

    name = f"faktoora_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(_postgres_admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    try:
        yield _with_path(_postgres_admin, name)
    finally:
        with psycopg.connect(_postgres_admin, autocommit=True, connect_timeout=10) as conn:
            # FORCE: a connection the test leaked (or a killed child's) must not keep the database alive.
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(params=["sqlite", "postgres"])
def journal_spec(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A journal spec for each backend: ``tmp_path/journal.sqlite``, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "journal.sqlite")
    url: str = request.getfixturevalue("postgres_url")
    return url


# -- Redis ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _redis_base() -> tuple[str, int]:
    url = os.environ.get(REDIS_ENV, "")
    if not url:
        service_unavailable(f"Redis: {REDIS_ENV} is not set ({_HINT})")
    try:
        import redis
    except ImportError:
        service_unavailable("Redis: redis-py is not installed (pip install -e '.[redis]')")
    try:
        client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=10)
        with contextlib.closing(client):
            client.ping()
            try:
                databases = int(client.config_get("databases").get("databases", 16))
            except redis.ResponseError:  # CONFIG disabled (managed Redis): assume the default
                databases = 16
    except redis.RedisError as exc:
        service_unavailable(f"Redis at {_redacted(url)} is unreachable: {exc}")
    if databases < 2:
        service_unavailable(f"Redis at {_redacted(url)} has a single database; the tests need several")
    return url, databases


@pytest.fixture
def redis_url(_redis_base: tuple[str, int]) -> Iterator[str]:
    """A ``redis://`` URL whose numbered database is this test's alone, empty at the start (flushed after).

    Databases 1..N-1 are handed out round robin through a counter in database 0, so pytest sessions
    sharing one server get different ones.
    """
    import redis

    base, databases = _redis_base
    with contextlib.closing(redis.Redis.from_url(base, socket_timeout=10)) as admin:
        n = int(admin.incr("faktoora:test:next-db"))
    index = 1 + (n - 1) % (databases - 1)
    url = _with_path(base, str(index))
    with contextlib.closing(redis.Redis.from_url(url, socket_timeout=10)) as client:
        client.flushdb()
        try:
            yield url
        finally:
            with contextlib.suppress(redis.RedisError):
                client.flushdb()


class RedisServer:
    """A ``redis-server`` process of one test, on a loopback port kept across :meth:`stop` / :meth:`start`."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 30.0) -> None:
        """Start the server (no persistence) and wait until it answers PING."""
        if self.running:
            return
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.workdir)]  # fmt: skip
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self._proc.returncode} on port {self.port}")
            if _redis_ping(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {timeout} s")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s); the port stays reserved for :meth:`start`."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A running Redis server of this test alone, which it may stop and start (stopped at the end)."""
    binary = shutil.which("redis-server")
    if binary is None:
        service_unavailable(f"Redis: no redis-server binary on PATH (bash .ci/services install; {_HINT})")
    server = RedisServer(binary, tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            data: Any = s.recv(16)
            return bool(data.startswith(b"+PONG"))
    except OSError:
        return False
