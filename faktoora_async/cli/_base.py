"""What every command module shares: exit codes, argument types, the registry, Ctrl-C handling, output.

Command modules import from here and never from each other.  Nothing here imports rich, the client or
the bulk engine at module level, so ``faktoora-async --help`` stays cheap.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    from rich.console import Console

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEFAULT_BASE_URL = "https://api.faktoora.com/api/v1"

Handler = Callable[[argparse.Namespace], Awaitable[int]]
Passthrough = Callable[[list[str]], int]


class UsageError(Exception):
    """Bad input from the user: exit code 2, one line on stderr."""


# -- the registry ------------------------------------------------------------------------------------
class Commands:
    """Where a command module adds its commands (see ``faktoora_async/cli/__init__.py``).

    ``add(name, handler, help=...)`` returns the command's ``ArgumentParser`` for its options; the
    handler is ``async def handler(args) -> int`` (an exit code).  ``group(name, help=...)`` returns a
    nested ``Commands`` for ``faktoora-async NAME SUBCOMMAND`` (e.g. ``keys list``).  ``passthrough(name,
    fn, help=...)`` hands every argument after ``name`` to a plain ``fn(argv) -> int`` that parses them
    itself (the sandbox).
    """

    def __init__(
        self,
        sub: argparse._SubParsersAction[argparse.ArgumentParser],
        passthroughs: dict[str, Passthrough],
        prefix: tuple[str, ...] = (),
    ) -> None:
        self._sub = sub
        self._passthroughs = passthroughs
        self._prefix = prefix

    def add(self, name: str, handler: Handler, *, help: str) -> argparse.ArgumentParser:
        parser = self._sub.add_parser(name, help=help, description=help)
        parser.set_defaults(handler=handler)
        return parser

    def group(self, name: str, *, help: str) -> Commands:
        parser = self._sub.add_parser(name, help=help, description=help)
        nested = parser.add_subparsers(dest=f"{name}_command", required=True, metavar="SUBCOMMAND")
        return Commands(nested, self._passthroughs, (*self._prefix, name))

    def passthrough(self, name: str, fn: Passthrough, *, help: str) -> None:
        if self._prefix:
            raise ValueError("a passthrough command must be a top-level command")
        self._sub.add_parser(name, help=help, add_help=False)
        self._passthroughs[name] = fn


# -- argument types ----------------------------------------------------------------------------------
def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def formats(text: str) -> tuple[str, ...]:
    parts = tuple(p.strip().lower() for p in text.split(",") if p.strip())
    if not parts or any(p not in ("pdf", "xml") for p in parts):
        raise argparse.ArgumentTypeError("formats: a comma-separated subset of pdf,xml")
    return parts


def add_connection(parser: argparse.ArgumentParser) -> None:
    """``--base-url`` and ``--api-key`` (read with :func:`api_key`)."""
    parser.add_argument("--base-url", default=os.environ.get("FAKTOORA_BASE_URL", DEFAULT_BASE_URL))
    parser.add_argument("--api-key", default=None, help="default: $FAKTOORA_API_KEY (never printed)")


def api_key(args: argparse.Namespace) -> str:
    key = args.api_key or os.environ.get("FAKTOORA_API_KEY")
    if not key:
        raise UsageError("no API key: pass --api-key or set FAKTOORA_API_KEY")
    return str(key)


# -- output ------------------------------------------------------------------------------------------
def console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def plain(text: str) -> Any:
    """``text`` as a rich ``Text``: printed as is, never read as markup."""
    from rich.text import Text

    return Text(text)


# -- Ctrl-C / SIGTERM ------------------------------------------------------------------------------------
class Interrupts:
    """Signal handling for one command: the first signal stops the work, the second exits at once.

    The first SIGINT/SIGTERM cancels the innermost scope opened by :func:`with_interrupt` (or the whole
    command outside one), so the work stops cleanly: the bulk runner writes its report and closes its
    journal.  A second signal while that shutdown runs prints one line and ends the process with exit code
    130 at once, without unwinding: that is as safe for the journal as SIGKILL (every step is committed
    before the network step it announces; report files are renamed into place whole), and the next run
    resumes.
    """

    def __init__(self) -> None:
        self.count = 0
        self.scopes: list[anyio.CancelScope] = []
        self.resumable = False  # say "run the same command again to resume" (a journalled bulk run)

    def received(self) -> None:
        self.count += 1
        if self.count > 1:
            exit_now(resumable=self.resumable)
        if self.scopes:
            self.scopes[-1].cancel()

    async def watch(self) -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                self.received()


_current: Interrupts | None = None


def exit_now(*, resumable: bool = False) -> None:
    """The second Ctrl-C: one line on stderr, exit code 130, no cleanup (see :class:`Interrupts`)."""
    if sys.stdout.isatty():
        sys.stdout.write("\x1b[?25h")  # a live progress display hid the cursor
    with contextlib.suppress(OSError, ValueError):  # stdout closed or a broken pipe
        sys.stdout.flush()
    hint = "; run the same command again to resume" if resumable else ""
    os.write(2, f"interrupted again: stopped at once{hint}\n".encode())
    os._exit(EXIT_INTERRUPTED)


async def run_command(handler: Handler, args: argparse.Namespace) -> int:
    """Run ``handler(args)`` with the signal watcher on for its whole life (used by ``main``)."""
    global _current
    interrupts = _current = Interrupts()
    root = anyio.CancelScope()
    interrupts.scopes.append(root)
    result = EXIT_INTERRUPTED
    error: Exception | None = None
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(interrupts.watch)
            try:
                with root:
                    result = await handler(args)
            except Exception as exc:  # re-raised below, not wrapped in the task group's ExceptionGroup
                error = exc
            finally:
                tg.cancel_scope.cancel()
    finally:
        _current = None
    if error is not None:
        raise error
    return EXIT_INTERRUPTED if root.cancel_called else result


async def with_interrupt(fn: Callable[[], Awaitable[int]], *, resumable: bool = False) -> int:
    """Run ``fn``; a first SIGINT/SIGTERM cancels it cleanly and gives exit code 130.

    The caller goes on after an interrupt (to print what was done); a second signal from then on exits
    at once.  ``resumable``: the work is journalled, so the line of a second Ctrl-C says to run the same
    command again.
    """
    scope = anyio.CancelScope()
    interrupts = _current
    if interrupts is not None:
        interrupts.scopes.append(scope)
        interrupts.resumable = interrupts.resumable or resumable
    result = EXIT_INTERRUPTED
    try:
        with scope:
            result = await fn()
    finally:
        if interrupts is not None:
            interrupts.scopes.remove(scope)
    return EXIT_INTERRUPTED if scope.cancel_called else result
