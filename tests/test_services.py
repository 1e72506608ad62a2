"""The service fixtures themselves: real servers, one fresh database per test, skip vs fail without them."""

from __future__ import annotations

import textwrap
import urllib.parse

import pytest
from _services import RedisServer


def test_postgres_url_is_a_fresh_database_of_its_own(postgres_url: str) -> None:
    import psycopg

    dbname = urllib.parse.urlsplit(postgres_url).path.lstrip("/")
    assert dbname.startswith("faktoora_test_")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (dbname,)
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN"
            " ('pg_catalog', 'information_schema')"
        ).fetchone()
        assert tables == (0,)
        conn.execute("CREATE TABLE t (x int)")  # gone with the database after the test


def test_two_postgres_urls_differ(postgres_url: str, _postgres_admin: str) -> None:
    import psycopg

    with psycopg.connect(_postgres_admin, autocommit=True) as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database").fetchall()]
    assert urllib.parse.urlsplit(postgres_url).path.lstrip("/") in names


def test_redis_url_is_an_empty_database_of_its_own(redis_url: str) -> None:
    import redis

    db = int(urllib.parse.urlsplit(redis_url).path.lstrip("/"))
    assert db >= 1
    with redis.Redis.from_url(redis_url) as client:
        assert client.dbsize() == 0
        client.set("k", "v")
        assert client.get("k") == b"v"


def test_private_redis_can_be_stopped_and_started(private_redis: RedisServer) -> None:
    import redis

    with redis.Redis.from_url(private_redis.url, socket_timeout=5) as client:
        assert client.ping()
        private_redis.stop()
        with pytest.raises(redis.ConnectionError):
            client.ping()
        private_redis.start()
        assert client.ping()


_PROBE = textwrap.dedent(
    """
    def test_pg(postgres_url):
        pass

    def test_redis(redis_url):
        pass
    """
)


@pytest.mark.parametrize("require", ["0", "1"])
def test_without_servers_tests_skip_or_fail(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, require: str
) -> None:
    monkeypatch.delenv("FAKTOORA_TEST_POSTGRES_URL", raising=False)
    monkeypatch.delenv("FAKTOORA_TEST_REDIS_URL", raising=False)
    monkeypatch.setenv("FAKTOORA_REQUIRE_SERVICES", require)
    pytester.makepyfile(_PROBE)
    result = pytester.runpytest_inprocess("-p", "_services", "-rsf")
    if require == "1":
        result.assert_outcomes(failed=0, errors=2)
        result.stdout.fnmatch_lines(["*FAKTOORA_REQUIRE_SERVICES=1 but PostgreSQL*not set*"])
    else:
        result.assert_outcomes(skipped=2)
        result.stdout.fnmatch_lines(["*SKIPPED*Redis: FAKTOORA_TEST_REDIS_URL is not set*"])


def test_an_unreachable_server_is_named_without_its_password(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("FAKTOORA_TEST_POSTGRES_URL", f"postgresql://u:hunter2@127.0.0.1:{port}/postgres")
    monkeypatch.setenv("FAKTOORA_REQUIRE_SERVICES", "0")
    pytester.makepyfile(_PROBE.split("def test_redis")[0])
    result = pytester.runpytest_inprocess("-p", "_services", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        [f"*PostgreSQL at postgresql://u:***@127.0.0.1:{port}/postgres is unreachable*"]
    )
    assert "hunter2" not in result.stdout.str()
