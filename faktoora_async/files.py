"""Safe, atomic files: one file-name sanitiser and one atomic writer for everything the SDK stores.

Names: :func:`safe_filename` turns data (an invoice number, a server-proposed name) into a file name that
cannot leave its folder, and that two different inputs never share (whenever the text had to change, a
short hash of the original is appended: ``A/1`` -> ``A_1-<hash>.pdf``, ``A_1`` -> ``A_1.pdf``).

Writes: :class:`AtomicWriter` writes to a hidden temp file in the target folder, fsyncs it and renames it
into place with ``os.replace``: a failed, truncated, cancelled or killed write never leaves a half-written
file under the final name.  Files are created with mode ``0o666`` minus the process umask (``0644`` under
umask 022), like any file a program opens.  :class:`AtomicDownload` streams a download through it with
every chunk written off the event loop.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import anyio
from anyio.lowlevel import RunVar

from .errors import DownloadError

__all__ = [
    "AtomicDownload",
    "AtomicWriter",
    "DownloadResult",
    "TruncatedDownloadError",
    "resolve_target",
    "safe_filename",
    "write_atomic",
]

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
_HASH_LEN = 8
_WRITE_THREADS = 4  # worker threads for all file writes of one event loop
_WRITE_BATCH = 256 * 1024  # bytes gathered before one write in a worker thread (bounded memory per download)


class TruncatedDownloadError(DownloadError):
    """The body ended before the announced ``Content-Length`` (the transport retries these GETs)."""


def _clean(text: str, default: str) -> str:
    text = unicodedata.normalize("NFC", str(text))
    text = _UNSAFE.sub("_", text)
    text = text.replace("..", "_")
    text = text.strip(" .")
    if not text or set(text) <= {".", "_", " "}:
        text = default
    if text.split(".", 1)[0].strip().upper() in _WINDOWS_RESERVED:
        text = "_" + text
    return text


def safe_filename(name: str, ext: str = "", *, default: str = "invoice") -> str:
    """A file name made from data that cannot leave its folder and that no other ``name`` maps to.

    Path separators, ``..``, NUL and control characters and characters Windows forbids become ``_``;
    leading/trailing dots and spaces are stripped; Windows reserved names (``CON``, ``LPT1``...) get a
    ``_`` prefix; a name of only dots or nothing becomes ``default``.  When any of that changed the text
    (or it had to be shortened to stay within 150 characters), ``-`` and 8 hex digits of the original's
    sha256 are appended, so two different inputs never share a file.  ``ext`` (``"pdf"`` or ``".pdf"``)
    is appended after sanitising.
    """
    original = str(name)
    text = _clean(original, default)
    suffix = ""
    if ext:
        clean_ext = _UNSAFE.sub("", ext.lstrip(".")).replace("..", "")[:16]
        suffix = f".{clean_ext}" if clean_ext else ""
    budget = _MAX_NAME - len(suffix) - _HASH_LEN - 1
    encoded = text.encode("utf-8")
    if len(encoded) > budget:
        text = encoded[:budget].decode("utf-8", "ignore").rstrip(" .") or default
    if text != original:
        text += "-" + hashlib.sha256(original.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_LEN]
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
    """A stored download: final ``path``, ``size`` in bytes, hex ``sha256``, server ``content_type``.

    It is path-like (``open(result)``, ``Path(result)`` work).
    """

    path: Path
    size: int
    sha256: str
    content_type: str | None = None

    def __fspath__(self) -> str:
        return os.fspath(self.path)


class AtomicWriter:
    """A temp file beside ``path`` (same folder, so the rename is atomic); :meth:`commit` puts it in place.

    Synchronous: use it from a worker thread (``AtomicDownload`` does that for downloads) or in code that
    may block.  Leaving the ``with`` block without :meth:`commit` deletes the temp file.  An unwritable
    folder or a full disk raises :class:`~faktoora_async.errors.DownloadError` naming the path and the cause.
    """

    def __init__(self, path: str | os.PathLike[str], *, text: bool = False) -> None:
        self.path = Path(path)
        self._text = text
        self._tmp = self.path.with_name(f".{self.path.name[:60]}.{secrets.token_hex(6)}.part")
        self.file: IO[Any] | None = None
        self._done = False

    def __enter__(self) -> AtomicWriter:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # O_EXCL: never follow or reuse someone else's file; 0o666: the kernel applies the umask
            fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except OSError as exc:
            raise _write_error(self.path, exc) from exc
        if self._text:
            self.file = os.fdopen(fd, "w", encoding="utf-8", newline="", buffering=1 << 16)
        else:
            self.file = os.fdopen(fd, "wb", buffering=0)
        return self

    @property
    def committed(self) -> bool:
        """Whether :meth:`commit` put the file in place (leaving the ``with`` block then does nothing)."""
        return self._done

    def write(self, data: Any) -> None:
        assert self.file is not None
        try:
            if self._text:
                self.file.write(data)
                return
            view = memoryview(data)
            while view:  # an unbuffered write may be short (a filling disk): write the rest
                written = self.file.write(view)
                if not written:
                    raise OSError(28, "No space left on device")
                view = view[written:]
        except OSError as exc:
            raise _write_error(self.path, exc) from exc

    def commit(self) -> Path:
        assert self.file is not None
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            os.replace(self._tmp, self.path)
        except OSError as exc:
            raise _write_error(self.path, exc) from exc
        self._done = True
        return self.path

    def discard(self) -> None:
        if self.file is not None and not self.file.closed:
            with contextlib.suppress(OSError):  # flushing what is thrown away can fail on a full disk
                self.file.close()
        if not self._done:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._tmp)

    def __exit__(self, *exc_info: object) -> None:
        self.discard()


def _write_error(path: Path, exc: OSError) -> DownloadError:
    reason = exc.strerror or type(exc).__name__
    return DownloadError(f"cannot write {path}: {reason}")


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (blocking; call from a thread in async code)."""
    with AtomicWriter(path) as writer:
        writer.write(data)
        return writer.commit()


_WRITE_LIMITER: RunVar[anyio.CapacityLimiter] = RunVar("faktoora_async_file_writes")


def _writes() -> anyio.CapacityLimiter:
    """The limiter of file-write threads, one per event loop (an anyio RunVar)."""
    try:
        return _WRITE_LIMITER.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(_WRITE_THREADS)
        _WRITE_LIMITER.set(limiter)
        return limiter


class AtomicDownload:
    """Stream chunks to ``path`` atomically, every disk write in a worker thread.

    ``async with AtomicDownload(path, expected_size=n) as sink: await sink.write(chunk) ...;
    result = await sink.commit(content_type)``.  Chunks are gathered up to 256 KiB before each write.  A
    size other than ``expected_size`` raises :class:`TruncatedDownloadError` and nothing is kept.
    The temp file is created by the first write (with it, in its thread hop), so a file under 256 KiB
    costs one hop in all (create, write, fsync, rename), and a download that fails before its first write
    leaves nothing to clean up; an unwritable folder is reported then, by the same ``DownloadError``.
    """

    def __init__(self, path: Path, *, expected_size: int | None = None) -> None:
        self.path = path
        self.expected_size = expected_size
        self.size = 0
        self._hash = hashlib.sha256()
        self._writer = AtomicWriter(path)
        self._pending: list[bytes] = []
        self._pending_size = 0

    async def __aenter__(self) -> AtomicDownload:
        return self  # the temp file is created with the first write (see the class docstring)

    async def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self._pending.append(chunk)
        self._pending_size += len(chunk)
        if self._pending_size >= _WRITE_BATCH:
            await self._flush()

    async def _flush(self) -> None:
        if self._pending:
            chunks, self._pending = self._pending, []
            self._pending_size = 0
            await anyio.to_thread.run_sync(self._write_all, chunks, limiter=_writes())

    def _write_all(self, chunks: list[bytes]) -> None:
        if self._writer.file is None:  # the first write: create the temp file
            self._writer.__enter__()
        for chunk in chunks:  # no joined copy: the chunks as they came
            self._hash.update(chunk)  # in this thread too: hashlib releases the GIL on big buffers
            self._writer.write(chunk)

    async def commit(self, content_type: str | None = None) -> DownloadResult:
        if self.expected_size is not None and self.size != self.expected_size:
            raise TruncatedDownloadError(
                f"download of {self.path.name} truncated: got {self.size} of {self.expected_size} bytes"
            )
        with anyio.CancelScope(shield=True):
            # the last chunks and the commit in one thread hop (a file under 256 KiB: its only write)
            chunks, self._pending = self._pending, []
            self._pending_size = 0
            await anyio.to_thread.run_sync(self._write_and_commit, chunks, limiter=_writes())
        return DownloadResult(
            path=self.path, size=self.size, sha256=self._hash.hexdigest(), content_type=content_type
        )

    def _write_and_commit(self, chunks: list[bytes]) -> None:
        self._write_all(chunks)
        self._writer.commit()

    async def __aexit__(self, *exc_info: object) -> None:
        if self._writer.committed or self._writer.file is None:  # in place, or nothing written: no hop
            return
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(self._writer.discard, limiter=_writes())
