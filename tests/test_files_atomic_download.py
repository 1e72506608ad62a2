"""``files.AtomicDownload``: one thread hop for a small file, nothing on disk before the first write."""

from __future__ import annotations

import hashlib
from pathlib import Path

import anyio.to_thread
import pytest

from faktoora_async import files
from faktoora_async.errors import DownloadError

pytestmark = pytest.mark.anyio


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _count_hops(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    hops: list[object] = []
    real = anyio.to_thread.run_sync

    async def counting(fn: object, *args: object, **kwargs: object) -> object:
        hops.append(fn)
        return await real(fn, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(files.anyio.to_thread, "run_sync", counting)
    return hops


async def test_a_small_file_is_written_in_one_hop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hops = _count_hops(monkeypatch)
    body = [b"%PDF-1.7 ", b"x" * 5000, b"%%EOF"]
    target = tmp_path / "new" / "a.pdf"
    async with files.AtomicDownload(target, expected_size=sum(map(len, body))) as sink:
        assert not target.parent.exists()  # nothing created before the first write
        for chunk in body:
            await sink.write(chunk)
        result = await sink.commit("application/pdf")
    assert len(hops) == 1
    assert target.read_bytes() == b"".join(body)
    assert result.sha256 == hashlib.sha256(b"".join(body)).hexdigest()
    assert result.size == target.stat().st_size
    assert _names(target.parent) == ["a.pdf"]  # no temp file left


async def test_a_big_file_is_written_in_batches(tmp_path: Path) -> None:
    chunk = b"y" * (files._WRITE_BATCH // 3 + 1)
    target = tmp_path / "b.bin"
    async with files.AtomicDownload(target) as sink:
        for _ in range(7):
            await sink.write(chunk)
        await sink.commit()
    assert target.read_bytes() == chunk * 7
    assert _names(tmp_path) == ["b.bin"]


async def test_failures_leave_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hops = _count_hops(monkeypatch)
    with pytest.raises(files.TruncatedDownloadError):
        async with files.AtomicDownload(tmp_path / "short.pdf", expected_size=100) as sink:
            await sink.write(b"abc")
            await sink.commit()
    assert hops == [] and _names(tmp_path) == []
    with pytest.raises(RuntimeError):
        async with files.AtomicDownload(tmp_path / "big.bin") as sink:
            await sink.write(b"z" * files._WRITE_BATCH)  # written: the temp file exists
            raise RuntimeError("connection lost")
    assert _names(tmp_path) == []  # discarded
    (tmp_path / "a-file").write_bytes(b"")
    with pytest.raises(DownloadError) as unwritable:
        async with files.AtomicDownload(tmp_path / "a-file" / "x.pdf") as sink:
            await sink.write(b"x")
            await sink.commit()
    assert "cannot write" in str(unwritable.value)
