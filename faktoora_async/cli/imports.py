"""``faktoora-async import FILE``: import an outgoing XRechnung / ZUGFeRD file."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._base import EXIT_OK, Commands, UsageError, add_connection, api_key, console, with_interrupt


def register(commands: Commands) -> None:
    imp = commands.add("import", cmd_import, help="import an outgoing XRechnung/ZUGFeRD file")
    imp.add_argument("file", type=Path)
    add_connection(imp)


async def cmd_import(args: argparse.Namespace) -> int:
    from ..client import FaktooraClient

    key = api_key(args)
    if not args.file.is_file():
        raise UsageError(f"no such file: {args.file}")
    con = console()

    async def work() -> int:
        async with FaktooraClient(key, base_url=args.base_url) as client:
            result = await client.imports.upload(args.file)
        con.print(f"imported {args.file.name}: faktooraId {result.faktoora_id}", soft_wrap=True)
        return EXIT_OK

    return await with_interrupt(work)
