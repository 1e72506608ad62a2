"""What users get from the built distributions: the sdist and wheel contents, and the core install.

The module builds the sdist and the wheel of this checkout (``python -m build``, the ``build`` package of
the ``[dev]`` extra), then installs the wheel *without extras* into a fresh virtualenv, as
``pip install faktoora-async`` would: pip resolves only the four core dependencies (aiohttp, msgspec,
anyio, backoff) from the configured index.  There the command line and the sandbox must say which extra to
install and exit 2 before doing anything.
"""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = {"aiohttp", "msgspec", "anyio", "backoff"}
EXTRA_ONLY = ("rich", "lxml", "pypdf", "reportlab", "facturx")


@dataclass(frozen=True)
class Dist:
    sdist: Path
    wheel: Path


@dataclass(frozen=True)
class CoreVenv:
    python: Path
    bin: Path
    home: Path  # a scratch folder to run commands in (never the checkout, which is importable from cwd)

    def run(self, *cmd: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run(
            list(cmd), cwd=self.home, env=env, capture_output=True, text=True, timeout=timeout
        )


def _check(cmd: list[str], **kw: object) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)  # type: ignore[call-overload]
    assert proc.returncode == 0, f"{cmd}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}"


# Both fixtures remove what they built: the README in the package metadata holds the README's example key
# (sk_test_demo), which the suite's API-key leak guard would rightly flag in pytest's tmp folders.
@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dist]:
    out = tmp_path_factory.mktemp("dist")
    _check([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)])
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    yield Dist(sdist, wheel)
    shutil.rmtree(out, ignore_errors=True)


@pytest.fixture(scope="module")
def core_venv(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CoreVenv]:
    base = tmp_path_factory.mktemp("core-venv")
    venv = base / "venv"
    _check([sys.executable, "-m", "venv", str(venv)])
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    # The new venv's own pip installs the wheel and what it requires: the four core dependencies.
    _check([str(python), "-m", "pip", "install", "-q", str(dist.wheel)])
    home = base / "home"
    home.mkdir()
    yield CoreVenv(python, bindir, home)
    shutil.rmtree(base, ignore_errors=True)


# ------------------------------------------------------------------------------------------ contents
def test_sdist_has_license_docs_and_what_the_readme_links(dist: Dist) -> None:
    with tarfile.open(dist.sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
        license_text = tar.extractfile(next(m for m in tar.getmembers() if m.name.endswith("/LICENSE")))
        assert license_text is not None and b"MIT License" in license_text.read()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    # every project file the README names (docs/..., BENCHMARKS.md, examples/..., .ci/...) ships in the sdist
    named = set(re.findall(r"(?<![\w./])((?:docs|examples|\.ci)/[\w./-]+\w|BENCHMARKS\.md)", readme))
    assert "docs/PAYLOAD.md" in named, sorted(named)
    missing = sorted(n for n in named if n not in names and not any(x.startswith(n + "/") for x in names))
    assert not missing, f"named in README.md but not in the sdist: {missing}"
    assert {
        "LICENSE",
        "README.md",
        "CHANGELOG.md",
        "pyproject.toml",
        "faktoora_async/cli/__init__.py",
    } <= names
    assert not [n for n in names if "__pycache__" in n or n.startswith(".venv")]


def test_wheel_metadata_license_and_entry_point(dist: Dist) -> None:
    with zipfile.ZipFile(dist.wheel) as whl:
        names = set(whl.namelist())
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        meta = email.message_from_bytes(whl.read(f"{info}/METADATA"))
        entry_points = whl.read(f"{info}/entry_points.txt").decode()
        license_text = whl.read(f"{info}/licenses/LICENSE").decode()
    assert meta["License-Expression"] == "MIT" and "MIT License" in license_text
    requires = meta.get_all("Requires-Dist") or []
    core = {re.split(r"[<>=!~ ;\[]", r, maxsplit=1)[0] for r in requires if "extra ==" not in r}
    assert core == CORE, requires
    assert "faktoora-async = faktoora_async.cli:main" in entry_points
    assert {"faktoora_async/cli/__init__.py", "faktoora_async/_extras.py", "faktoora_async/py.typed"} <= names


# ------------------------------------------------------------------------------------------ core install
def test_core_install_has_no_extras(core_venv: CoreVenv) -> None:
    # the premise of the next tests: nothing of [sandbox] or [cli] is importable there
    code = f"import importlib.util as u; print([m for m in {EXTRA_ONLY!r} if u.find_spec(m)])"
    proc = core_venv.run(str(core_venv.python), "-c", code)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr
    # and the client itself works on the core install
    proc = core_venv.run(
        str(core_venv.python), "-c", "from faktoora_async import FaktooraClient; print('ok')"
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("faktoora-async", "demo", "--invoices", "3", "--out", "demo-out"),
        ("faktoora-async", "run", "in.jsonl", "--out", "run-out"),
        ("faktoora-async", "--help"),
        ("faktoora-async", "sandbox", "--port", "0"),
        ("python", "-m", "faktoora_async", "demo", "--out", "demo-out"),
    ],
    ids=["demo", "run", "help", "sandbox", "python-m"],
)
def test_core_install_cli_names_the_cli_extra(core_venv: CoreVenv, args: tuple[str, ...]) -> None:
    cmd = [str(core_venv.bin / args[0]), *args[1:]]
    proc = core_venv.run(*cmd)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert "pip install 'faktoora-async[cli]'" in lines[0] and "missing: rich" in lines[0]
    assert sorted(p.name for p in core_venv.home.iterdir()) == []  # nothing written, no folder created


def test_core_install_sandbox_names_the_sandbox_extra(core_venv: CoreVenv) -> None:
    proc = core_venv.run(str(core_venv.python), "-m", "faktoora_async.sandbox", "--port", "0", timeout=30)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""  # it never started: no "faktoora sandbox: http://..." line
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert "pip install 'faktoora-async[sandbox]'" in lines[0] and "lxml" in lines[0]
