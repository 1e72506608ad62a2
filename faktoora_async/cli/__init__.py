"""The ``faktoora-async`` command line: bulk runs, a self-contained demo, single-invoice helpers.

Exit codes: 0 everything done, 1 some invoices (or the request) failed, 2 usage error (and a missing
extra), 130 interrupted.  The API key comes from ``--api-key`` or ``FAKTOORA_API_KEY`` and is never
printed.

One module per command group, each with ``register(commands: Commands) -> None`` (see
:class:`~faktoora_async.cli._base.Commands`), listed in :data:`COMMAND_MODULES`: adding a command is a new
module plus one name there.  A command module imports rich, the client and the bulk engine inside its
handlers only, so that a usage error or ``--help`` costs nothing.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ._base import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, Commands, Passthrough, UsageError

__all__ = ["COMMAND_MODULES", "build_parser", "main"]

# Help order.  Each name is a module of this package with a ``register(commands)`` function.
COMMAND_MODULES: tuple[str, ...] = (
    "run",
    "work",
    "runs",
    "demo",
    "invoices",
    "imports",
    "customers",
    "keys",
    "sandbox",
)


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Passthrough]]:
    """The parser of every registered command, and the passthrough commands (parsed by themselves)."""
    parser = argparse.ArgumentParser(
        prog="faktoora-async", description="faktoora e-Invoicing: bulk runs, demo, sandbox."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    passthroughs: dict[str, Passthrough] = {}
    commands = Commands(sub, passthroughs)
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(commands)
    return parser, passthroughs


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``faktoora-async`` and ``python -m faktoora_async``; returns the exit code."""
    from .._extras import require_extra

    missing = require_extra("cli", "the faktoora-async command")
    if missing is not None:
        return missing
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:  # a Ctrl-C before the signal watcher is on (or after it is off)
        return EXIT_INTERRUPTED


def _main(args_list: list[str]) -> int:
    parser, passthroughs = build_parser()
    if args_list and args_list[0] in passthroughs:
        return passthroughs[args_list[0]](args_list[1:])
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse: 2 on usage errors, 0 for --help
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    if args.verbose:
        import logging

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    import anyio

    from ..errors import ConfigurationError, FaktooraError
    from ._base import console, plain, run_command

    try:
        return anyio.run(run_command, args.handler, args)
    except (UsageError, ConfigurationError) as exc:
        console(stderr=True).print("[red]error:[/]", plain(str(exc)), soft_wrap=True)
        return EXIT_USAGE
    except FaktooraError as exc:
        console(stderr=True).print("[red]failed:[/]", plain(str(exc)), soft_wrap=True)
        return EXIT_FAILED
    except OSError as exc:  # e.g. an unwritable --out folder: the cause in one line, not a traceback
        where = f": {exc.filename}" if exc.filename else ""
        console(stderr=True).print("[red]failed:[/]", plain(f"{exc.strerror or exc}{where}"), soft_wrap=True)
        return EXIT_FAILED
