"""Security: API-key hygiene (errors, reprs, logs, files), hostile invoice numbers, malformed payloads.

The suite-wide leak guard lives in ``tests/conftest.py``; the first tests here prove it can fail a run.
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
from pathlib import Path

import pytest

from faktoora_async.files import safe_filename

pytestmark = pytest.mark.anyio

CONFTEST = Path(__file__).with_name("conftest.py")

# The key is assembled at run time so that this source file itself never contains one.
_LEAKY_TEST = """
import logging
KEY = "sk_" + "test_" + "LeakyKeyForTheGuard123"

def test_leaks_{kind}(tmp_path):
    kind = "{kind}"
    if kind == "log":
        logging.getLogger("faktoora_async.transport").debug("sending with key %s", KEY)
    elif kind == "log_exc":
        try:
            raise RuntimeError("boom " + KEY)
        except RuntimeError:
            logging.getLogger("somewhere.else").warning("failed", exc_info=True)
    elif kind == "file":
        (tmp_path / "report.json").write_text('{{"apiKey": "' + KEY + '"}}')
    elif kind == "stdout":
        print("key:", KEY)
    elif kind == "clean":
        logging.getLogger("faktoora_async").info("nothing secret here, only sk_test_ as a word")
"""


@pytest.mark.parametrize("kind", ["log", "log_exc", "file", "stdout", "clean"])
def test_leak_guard_fails_a_run_that_leaks(pytester: pytest.Pytester, kind: str) -> None:
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(test_leaky=_LEAKY_TEST.format(kind=kind))
    # The inner run's tmp dirs live outside this run's tmp dirs, so a planted key cannot trip the outer scan.
    with tempfile.TemporaryDirectory(prefix="faktoora-guard-") as base:
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--basetemp={base}/t")
    output = result.stdout.str() + result.stderr.str()
    assert "LeakyKeyForTheGuard123" not in output  # the guard reports leaks masked
    if kind == "clean":
        assert result.ret == 0, output
        assert "API key leak guard: no test API key" in output
    else:
        result.assert_outcomes(passed=1)
        assert result.ret == pytest.ExitCode.TESTS_FAILED, output
        assert "API key leak guard: FAILED" in output


# ------------------------------------------------------------------------------------------ file names
HOSTILE_NUMBERS = [
    "../x",
    "../../../../etc/passwd",
    "..\\..\\windows\\system32",
    "/etc/passwd",
    "/tmp/absolute",
    "C:\\Windows\\evil",
    "\\\\server\\share\\x",
    "a\x00b",
    "\x00",
    "x" * 300,
    "ä" * 300,
    "CON",
    "con.pdf",
    "NUL",
    "LPT1",
    "COM¹",
    ".",
    "..",
    "...",
    ". .",
    "",
    " ",
    "RE\u202egpj.exe",  # right-to-left override
    "..\u2215etc\u2215passwd",  # division slash
    "\uff0e\uff0e\uff0fx",  # fullwidth dots and solidus
    "\u2024\u2024/x",  # one-dot leaders
    "e\u0301\u0301\u0301",  # stacked combining marks
    "a/b/c",
    "line\nbreak",
    "tab\there",
    "trailing.",
    "-rf",
    "~/x",
    "$HOME",
    "x:y",
    "😀" * 60,
]


@pytest.mark.parametrize("number", HOSTILE_NUMBERS)
def test_safe_filename_never_leaves_the_folder(tmp_path: Path, number: str) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    name = safe_filename(number, "pdf")
    assert name and name.endswith(".pdf")
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert name not in (".", "..") and not name.startswith("..")
    assert len(name.encode()) <= 255  # a valid name on every common file system
    assert name.split(".", 1)[0].upper() not in {"CON", "NUL", "LPT1", "PRN", "AUX"}
    assert not any(unicodedata.category(c) == "Cc" for c in name)
    target = (folder / name).resolve()
    assert target.parent == folder.resolve()
    target.write_bytes(b"%PDF-1.7\n")
    assert [p.name for p in folder.iterdir()] == [name]
    assert sorted(os.listdir(tmp_path)) == ["out"]  # nothing written beside the folder


def test_safe_filename_keeps_distinct_ordinary_numbers_distinct() -> None:
    names = {safe_filename(f"RE-2026/{i:05d}", "pdf") for i in range(500)}
    assert len(names) == 500
