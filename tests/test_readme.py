"""Every ```python block of README.md runs as written against a fresh sandbox.

Each block gets its own sandbox; ``FAKTOORA_BASE_URL`` and ``FAKTOORA_API_KEY`` point at it and the working
directory is a temporary folder.  Blocks are scripts (``asyncio.run(main())``); a block with top-level
``await`` and no ``asyncio.run`` is wrapped in a coroutine.  Until the lead merges the client's README
section (``.team/readme-client.md``) into README.md, that file's blocks are run too.
"""

from __future__ import annotations

import os
import re
import textwrap
import traceback
from pathlib import Path

import anyio
import pytest

from faktoora_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CLIENT_SECTION = ROOT / ".team" / "readme-client.md"
_FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks(path: Path) -> list[tuple[str, str]]:
    text = path.read_text(encoding="utf-8")
    out = []
    for match in _FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        out.append((f"{path.name}:{line}", match.group(1)))
    return out


def collect() -> list[tuple[str, str]]:
    blocks = _blocks(README) if README.exists() else []
    merged = any("FaktooraClient" in code for _, code in blocks)
    if not merged and CLIENT_SECTION.exists():
        blocks += _blocks(CLIENT_SECTION)
    return blocks


BLOCKS = collect()


def test_readme_has_runnable_examples() -> None:
    assert README.exists()
    assert any("FaktooraClient" in code for _, code in BLOCKS), "no client example found"


def _run(name: str, code: str) -> None:
    if "asyncio.run(" not in code and re.search(r"^\s*(await|async (for|with)) ", code, re.MULTILINE):
        code = "import asyncio\n\nasync def __readme_block__():\n" + textwrap.indent(code, "    ")
        code += "\n\nasyncio.run(__readme_block__())\n"
    try:
        exec(compile(code, name, "exec"), {"__name__": "__main__"})
    except BaseException:
        # report the block's own traceback as text, with the sandbox key masked (frames that hold
        # os.environ would otherwise print it)
        text = traceback.format_exc()
        key = os.environ.get("FAKTOORA_API_KEY")
        if key:
            text = text.replace(key, "<FAKTOORA_API_KEY>")
        raise AssertionError(f"README block {name} failed:\n{text}") from None


@pytest.mark.parametrize(("name", "code"), BLOCKS, ids=[name for name, _ in BLOCKS])
async def test_readme_block_runs(
    name: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Sandbox(processing_delay=(0.01, 0.05)) as sb:
        monkeypatch.setenv("FAKTOORA_BASE_URL", sb.base_url)
        monkeypatch.setenv("FAKTOORA_API_KEY", sb.api_key)
        monkeypatch.chdir(tmp_path)
        with anyio.fail_after(120):
            await anyio.to_thread.run_sync(_run, name, code)


def test_block_wrapping_supports_top_level_await() -> None:
    seen: list[int] = []
    import builtins

    builtins.__dict__["_readme_probe"] = seen
    try:
        _run("probe", "import asyncio\nawait asyncio.sleep(0)\n_readme_probe.append(1)\n")
    finally:
        del builtins.__dict__["_readme_probe"]
    assert seen == [1]
