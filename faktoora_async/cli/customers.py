"""``faktoora-async customers import FILE.csv``: create every customer of a CSV, all or none.

Columns are the customer field names (``isCompany``, ``address``, ``postcode``, ``city``, ``extras`` and
any optional ones); rows are checked locally first (``--no-check`` leaves it to the server), then the
file is uploaded and imported in one call.  A bad row fails the whole import: exit 1, a ``failed:`` line
naming the first bad row, then one line per problem (up to 20); nothing was created.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ._base import (
    EXIT_FAILED,
    EXIT_OK,
    Commands,
    UsageError,
    add_connection,
    api_key,
    console,
    plain,
    with_interrupt,
)

MAX_LISTED = 20


def register(commands: Commands) -> None:
    customers = commands.group("customers", help="customers: import a CSV")
    imp = customers.add("import", cmd_customers_import, help="create the customers of a CSV (all or none)")
    imp.add_argument("file", type=Path, metavar="FILE.csv")
    imp.add_argument("--no-check", action="store_true", help="skip the local row check (the server checks)")
    imp.add_argument("--json", action="store_true", help="print the created customers' ids as JSON")
    add_connection(imp)


async def cmd_customers_import(args: argparse.Namespace) -> int:
    from ..client import FaktooraClient
    from ..errors import BadRequestError, FieldError, FieldValidationError

    key = api_key(args)
    if not args.file.is_file():
        raise UsageError(f"no such file: {args.file}")
    err = console(stderr=True)

    def refused(first: str, problems: list[FieldError]) -> int:
        err.print(
            "[red]failed:[/]", plain(f"{args.file.name}: {first}; nothing was imported"), soft_wrap=True
        )
        for problem in problems[:MAX_LISTED]:
            err.print(plain(f"  {problem.message}"), soft_wrap=True)
        if len(problems) > MAX_LISTED:
            err.print(plain(f"  ... and {len(problems) - MAX_LISTED} more"))
        return EXIT_FAILED

    async def work() -> int:
        async with FaktooraClient(key, base_url=args.base_url) as client:
            try:
                created = await client.customers.import_csv(args.file, check=not args.no_check)
            except FieldValidationError as exc:
                where = f"row {exc.row} is bad" if exc.row is not None else "the file is not a customer CSV"
                return refused(where, exc.errors)
            except BadRequestError as exc:
                rows = [e.index + 1 for e in exc.errors if e.index is not None]
                where = (
                    f"the server refused row {min(rows)}" if rows else f"the server refused it: {exc.message}"
                )
                return refused(where, exc.errors)
        if args.json:
            print(json.dumps({"created": len(created), "ids": [c.id for c in created]}))
        else:
            console().print(
                plain(f"imported {len(created)} customer(s) from {args.file.name}"), soft_wrap=True
            )
        return EXIT_OK

    return await with_interrupt(work)
