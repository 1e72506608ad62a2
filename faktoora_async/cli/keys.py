"""``faktoora-async keys list|rotate``: the user's API keys.

``keys list`` shows every key (id, label, status, expiry, last use; never a secret).  ``keys rotate ID
[--grace-hours N]`` replaces a key; the new secret is shown once, so the command insists on being told
where it goes before it rotates anything: ``--show-secret`` prints it alone on stdout (for
``NEW=$(faktoora-async keys rotate ...)``), ``--secret-file FILE`` writes it to a new file readable by its
owner only (prepared before the rotation, so an unusable folder fails first).  Everything else goes to
stderr, and nothing is ever logged with a secret.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from ._base import (
    EXIT_OK,
    Commands,
    UsageError,
    add_connection,
    api_key,
    console,
    plain,
    with_interrupt,
)

if TYPE_CHECKING:
    from ..models import ApiKey


def register(commands: Commands) -> None:
    keys = commands.group("keys", help="API keys: list them, rotate one")
    listing = keys.add("list", cmd_keys_list, help="list the API keys (never their secrets)")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_connection(listing)
    rotate = keys.add("rotate", cmd_keys_rotate, help="replace an API key; the new secret is shown once")
    rotate.add_argument("key_id", metavar="ID", help="the key to replace (ak_…, see `keys list`)")
    rotate.add_argument("--grace-hours", type=_hours, default=None,
                        help="hours the old key keeps working (default 0: it stops at once)")  # fmt: skip
    where = rotate.add_mutually_exclusive_group()
    where.add_argument("--show-secret", action="store_true", help="print the new secret (alone) on stdout")
    where.add_argument("--secret-file", type=Path, default=None,
                       help="write the new secret to this new file (0600; it must not exist)")  # fmt: skip
    add_connection(rotate)


def _hours(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of hours: {text!r}") from None
    if not 0 <= value <= 8760:
        raise argparse.ArgumentTypeError("must be 0 to 8760 (365 days)")
    return value


def _row(key: ApiKey) -> dict[str, Any]:
    def when(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": key.id,
        "label": key.label,
        "status": key.status,
        "expires_at": when(key.expires_at),
        "last_used_at": when(key.last_used_at),
        "rotated_from_id": key.rotated_from_id,
    }


async def cmd_keys_list(args: argparse.Namespace) -> int:
    from ..client import FaktooraClient

    key = api_key(args)

    async def work() -> int:
        async with FaktooraClient(key, base_url=args.base_url) as client:
            rows = [_row(k) async for k in client.api_keys.list()]
        if args.json:
            print(json.dumps({"keys": rows}, indent=1))
            return EXIT_OK
        from rich.table import Table

        table = Table("id", "label", "status", "expires", "last used", "rotated from")
        columns = ("id", "label", "status", "expires_at", "last_used_at", "rotated_from_id")
        for r in rows:
            table.add_row(*(plain(str(r[k] or "-")) for k in columns))
        console().print(table)
        return EXIT_OK

    return await with_interrupt(work)


class SecretFile:
    """The new file a secret goes to, prepared BEFORE the key is rotated (so a folder that cannot take it
    fails before anything changes): a temp file created 0600 beside it, linked into place whole."""

    def __init__(self, path: Path) -> None:
        if path.exists():
            raise UsageError(f"--secret-file {path} exists; give a new file (a secret is never overwritten)")
        if not path.parent.is_dir():
            raise UsageError(f"--secret-file: no such folder: {path.parent}")
        self.path = path
        self._fd, self._tmp = tempfile.mkstemp(prefix=".faktoora-key-", dir=path.parent)  # 0600

    def commit(self, secret: str) -> None:
        fd, self._fd = self._fd, -1
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(secret + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.link(self._tmp, self.path)  # fails if the file appeared meanwhile: never overwrites
        finally:
            os.unlink(self._tmp)

    def discard(self) -> None:
        """Remove the prepared file if :meth:`commit` did not run (or failed); idempotent."""
        fd, self._fd = self._fd, -1
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._tmp)


async def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from ..client import FaktooraClient

    key = api_key(args)
    if not args.show_secret and args.secret_file is None:
        raise UsageError("say where the new secret goes: --show-secret (stdout) or --secret-file FILE")
    target = SecretFile(args.secret_file) if args.secret_file is not None else None
    err = console(stderr=True)

    async def work() -> int:
        async with FaktooraClient(key, base_url=args.base_url) as client:
            new = await client.api_keys.rotate(args.key_id, grace_period_hours=args.grace_hours)
        if new.key is None:
            err.print("[red]failed:[/]", plain(f"the server answered key {new.id} without its secret"))
            return 1
        if target is not None:
            await anyio.to_thread.run_sync(target.commit, new.key.reveal())
            where = f"written to {target.path}"
        else:
            print(new.key.reveal(), flush=True)
            where = "printed on stdout"
        grace = args.grace_hours or 0
        old = f"the old key works {grace} more hour(s)" if grace else "the old key stopped at once"
        err.print(
            plain(f"rotated {args.key_id} -> {new.id}; {old}; the new secret was {where}"), soft_wrap=True
        )
        return EXIT_OK

    try:
        return await with_interrupt(work)
    finally:
        if target is not None:
            target.discard()
