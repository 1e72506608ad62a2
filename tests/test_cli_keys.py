"""``faktoora-async keys list|rotate`` as a user runs them (a subprocess) against a sandbox process:
secrets appear only where the user asked (stdout with --show-secret, a 0600 file with --secret-file),
never in stderr or the -v log."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from faktoora_async import AuthenticationError, FaktooraClient
from faktoora_async.sandbox import SandboxProcess


def cli(*args: str, key: str, sb: SandboxProcess) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faktoora_async", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", "FAKTOORA_API_KEY": key, "FAKTOORA_BASE_URL": sb.base_url},
    )


@pytest.fixture(scope="module")
def sandbox_proc() -> Iterator[SandboxProcess]:
    with SandboxProcess() as sb:
        yield sb


def new_key(sb: SandboxProcess, label: str) -> tuple[str, str]:
    """A fresh key of the sandbox's user (id, secret), so every test rotates its own."""

    async def make() -> tuple[str, str]:
        async with FaktooraClient(sb.api_key, base_url=sb.base_url) as c:
            made = await c.api_keys.create(label)
            assert made.key is not None
            return made.id, made.key.reveal()

    return anyio.run(make)


def key_ids(sb: SandboxProcess, key: str) -> dict[str, str | None]:
    async def listing() -> dict[str, str | None]:
        async with FaktooraClient(key, base_url=sb.base_url) as c:
            return {k.id: k.status async for k in c.api_keys.list()}

    return anyio.run(listing)


def test_keys_list(sandbox_proc: SandboxProcess) -> None:
    sb = sandbox_proc
    kid, secret = new_key(sb, "listed")
    proc = cli("keys", "list", "--json", key=secret, sb=sb)
    assert proc.returncode == 0, proc.stderr
    rows = {r["id"]: r for r in json.loads(proc.stdout)["keys"]}
    assert rows[kid]["label"] == "listed" and rows[kid]["status"] == "active"
    assert "sk_test_" not in proc.stdout + proc.stderr
    table = cli("keys", "list", key=secret, sb=sb)
    assert table.returncode == 0 and kid in table.stdout and "listed" in table.stdout
    assert "sk_test_" not in table.stdout + table.stderr


def test_rotate_prints_the_secret_alone_on_stdout_only_when_asked(sandbox_proc: SandboxProcess) -> None:
    sb = sandbox_proc
    kid, secret = new_key(sb, "rotate-me")
    refused = cli("keys", "rotate", kid, key=secret, sb=sb)  # where should the secret go? nothing rotates
    assert refused.returncode == 2 and "--show-secret" in refused.stderr
    assert key_ids(sb, secret)[kid] == "active"

    proc = cli("-v", "keys", "rotate", kid, "--grace-hours", "1", "--show-secret", key=secret, sb=sb)
    assert proc.returncode == 0, proc.stderr
    new_secret = proc.stdout.strip()
    assert proc.stdout == new_secret + "\n" and new_secret.startswith("sk_test_") and new_secret != secret
    assert new_secret not in proc.stderr and secret not in proc.stderr  # nor in the -v log
    assert f"rotated {kid} -> ak_" in proc.stderr and "1 more hour" in proc.stderr
    keys = key_ids(sb, new_secret)  # the new key works, the old one too (grace period)
    assert keys[kid] == "expiring_soon" and key_ids(sb, secret)[kid] == "expiring_soon"


def test_rotate_into_a_secret_file(sandbox_proc: SandboxProcess, tmp_path: Path) -> None:
    sb = sandbox_proc
    kid, secret = new_key(sb, "to-file")
    target = tmp_path / "new.key"
    try:
        _rotate_into_a_secret_file(sb, kid, secret, target)
    finally:  # the suite's leak guard scans tmp files for keys: a secret file must not outlive the test
        target.unlink(missing_ok=True)


def _rotate_into_a_secret_file(sb: SandboxProcess, kid: str, secret: str, target: Path) -> None:
    tmp_path = target.parent
    proc = cli("keys", "rotate", kid, "--secret-file", str(target), key=secret, sb=sb)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and "sk_test_" not in proc.stderr and "stopped at once" in proc.stderr
    new_secret = target.read_text(encoding="utf-8").strip()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["new.key"]  # no temp file left
    assert kid in key_ids(sb, new_secret)
    with pytest.raises(AuthenticationError):
        key_ids(sb, secret)  # rotated without grace: the old key is refused (401)
    # an existing file is never overwritten, and nothing is rotated
    kid2, secret2 = new_key(sb, "exists")
    again = cli("keys", "rotate", kid2, "--secret-file", str(target), key=secret2, sb=sb)
    assert again.returncode == 2 and "exists" in again.stderr
    assert key_ids(sb, secret2)[kid2] == "active" and target.read_text(encoding="utf-8").strip() == new_secret


def test_rotate_errors(sandbox_proc: SandboxProcess, tmp_path: Path) -> None:
    sb = sandbox_proc
    kid, secret = new_key(sb, "errors")
    unknown = cli("keys", "rotate", "ak_000000000000000000000000", "--show-secret", key=secret, sb=sb)
    assert unknown.returncode == 1 and unknown.stderr.startswith("failed:") and unknown.stdout == ""
    bad = cli("keys", "rotate", kid, "--grace-hours", "-1", "--show-secret", key=secret, sb=sb)
    assert bad.returncode == 2
    nofolder = cli("keys", "rotate", kid, "--secret-file", str(tmp_path / "no" / "k"), key=secret, sb=sb)
    assert nofolder.returncode == 2 and "no such folder" in nofolder.stderr
    wrong = cli("keys", "list", key="sk_test_not_a_key_000", sb=sb)
    assert wrong.returncode == 1 and "401" in wrong.stderr and "sk_test_not_a_key_000" not in wrong.stderr
    assert key_ids(sb, secret)[kid] == "active"
