"""``faktoora-async sandbox [OPTIONS]``: the local sandbox server (``python -m faktoora_async.sandbox``)."""

from __future__ import annotations

from ._base import Commands


def register(commands: Commands) -> None:
    commands.passthrough("sandbox", run_sandbox, help="run the local sandbox server")


def run_sandbox(argv: list[str]) -> int:
    from ..sandbox import __main__ as sandbox_main

    return int(sandbox_main.main(argv, prog="faktoora-async sandbox") or 0)
