"""``faktoora-async status ID`` and ``faktoora-async download ID``: one invoice at a time."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._base import EXIT_OK, Commands, add_connection, api_key, console, with_interrupt


def register(commands: Commands) -> None:
    status = commands.add("status", cmd_status, help="show an invoice's status")
    status.add_argument("id", help="faktooraId")
    add_connection(status)

    download = commands.add("download", cmd_download, help="download an invoice's PDF or XML")
    download.add_argument("id", help="faktooraId")
    download.add_argument("--format", choices=("pdf", "xml"), default="pdf")
    download.add_argument("--out", type=Path, required=True, help="file or folder")
    add_connection(download)


async def cmd_status(args: argparse.Namespace) -> int:
    import msgspec

    from ..client import FaktooraClient

    key = api_key(args)
    con = console()

    async def work() -> int:
        async with FaktooraClient(key, base_url=args.base_url) as client:
            status = await client.invoices.status(args.id)
        con.print_json(msgspec.json.encode(status).decode())
        return EXIT_OK

    return await with_interrupt(work)


async def cmd_download(args: argparse.Namespace) -> int:
    from ..client import FaktooraClient

    key = api_key(args)
    con = console()

    async def work() -> int:
        async with FaktooraClient(key, base_url=args.base_url) as client:
            result = await client.invoices.download(args.id, format=args.format, to=args.out)
        path = getattr(result, "path", args.out)
        digest = getattr(result, "sha256", None)
        con.print(f"saved {path}" + (f" (sha256 {digest})" if digest else ""))
        return EXIT_OK

    return await with_interrupt(work)
