"""Safe, atomic files: sanitised names and write-to-temp-then-rename downloads.

A download is written in bounded chunks to a hidden temp file in the target folder, flushed, fsynced and
then moved into place with ``os.replace``: a failed, truncated or cancelled download leaves no file behind
(and never a half-written file under the final name).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import anyio

from .errors import DownloadError

__all__ = ["AtomicDownload", "DownloadResult", "resolve_target", "safe_filename"]

_WINDOWS_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    "CLOCK$",
    "CONIN$",
    "CONOUT$",
    *(f"COM{i}" for i in range(10)),
    *(f"LPT{i}" for i in range(10)),
    *(f"COM{c}" for c in "¹²³"),
    *(f"LPT{c}" for c in "¹²³"),
}
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_MAX_NAME = 150


def safe_filename(name: str, ext: str = "", *, default: str = "invoice") -> str:
    """A file name made from data (an invoice number) that cannot leave its folder.

    Path separators, ``..``, NUL and control characters and characters Windows forbids become ``_``;
    leading/trailing dots and spaces are stripped; Windows reserved names (``CON``, ``LPT1``...) get a
    ``_`` prefix; a name of only dots or nothing becomes ``default``; the stem is capped so the whole
    name stays within 150 characters.  ``ext`` (``"pdf"`` or ``".pdf"``) is appended after sanitising.
    """
    text = unicodedata.normalize("NFC", str(name))
    text = _UNSAFE.sub("_", text)
    text = text.replace("..", "_")
    text = text.strip(" .")
    if not text or set(text) <= {".", "_", " "}:
        text = default
    if text.split(".", 1)[0].strip().upper() in _WINDOWS_RESERVED:
        text = "_" + text
    suffix = ""
    if ext:
        clean_ext = _UNSAFE.sub("", ext.lstrip(".")).replace("..", "")[:16]
        suffix = f".{clean_ext}" if clean_ext else ""
    budget = _MAX_NAME - len(suffix)
    encoded = text.encode("utf-8")
    if len(encoded) > budget:
        text = encoded[:budget].decode("utf-8", "ignore").rstrip(" .") or default
    return text + suffix


def resolve_target(to: str | os.PathLike[str], default_name: str) -> Path:
    """Where a download goes: ``to`` itself, or ``to/default_name`` when ``to`` is a folder.

    ``to`` counts as a folder when it exists as one or is written with a trailing separator.  The file
    name chosen for a folder is checked to resolve inside it.
    """
    raw = os.fspath(to)
    target = Path(raw)
    if target.is_dir() or raw.endswith(("/", os.sep)):
        folder = target.resolve()
        path = (folder / default_name).resolve()
        if path.parent != folder:
            raise DownloadError(f"refusing file name {default_name!r}: it would leave {folder}")
        return path
    return target


@dataclass(frozen=True)
class DownloadResult:
    """A stored download: final ``path``, ``size`` in bytes, hex ``sha256``, server ``content_type``."""

    path: Path
    size: int
    sha256: str
    content_type: str | None = None


class AtomicDownload:
    """Write chunks to a temp file beside ``path``; :meth:`commit` fsyncs and renames it into place.

    Use as an async context manager: leaving it without :meth:`commit` (error, cancellation) deletes the
    temp file.
    """

    def __init__(self, path: Path, *, expected_size: int | None = None) -> None:
        self.path = path
        self.expected_size = expected_size
        self.size = 0
        self._hash = hashlib.sha256()
        self._file: IO[bytes] | None = None
        self._tmp: Path | None = None
        self._done = False

    async def __aenter__(self) -> AtomicDownload:
        folder = self.path.parent
        await anyio.to_thread.run_sync(lambda: folder.mkdir(parents=True, exist_ok=True))
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name[:40]}.", suffix=".part", dir=folder)
        self._file = os.fdopen(fd, "wb")
        self._tmp = Path(tmp)
        return self

    def write(self, chunk: bytes) -> None:
        assert self._file is not None
        self._file.write(chunk)
        self._hash.update(chunk)
        self.size += len(chunk)

    async def commit(self, content_type: str | None = None) -> DownloadResult:
        assert self._file is not None and self._tmp is not None
        if self.expected_size is not None and self.size != self.expected_size:
            raise DownloadError(
                f"download of {self.path.name} truncated: got {self.size} of {self.expected_size} bytes"
            )
        file, tmp, path = self._file, self._tmp, self.path

        def _finish() -> None:
            file.flush()
            os.fsync(file.fileno())
            file.close()
            os.replace(tmp, path)

        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_finish)
        self._done = True
        return DownloadResult(
            path=path, size=self.size, sha256=self._hash.hexdigest(), content_type=content_type
        )

    def _discard(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()
        if self._tmp is not None and not self._done:
            with contextlib.suppress(FileNotFoundError):
                self._tmp.unlink()

    async def __aexit__(self, *exc_info: object) -> None:
        self._discard()
