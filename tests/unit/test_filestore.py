"""TarStore on a compressed tarball: entries stream in bounded chunks, interleaved readers stay correct."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from provenant.sources.filestore import CHUNK, TarStore


def _tgz(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as t:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return path


def test_compressed_entries_stream_in_chunks(tmp_path: Path) -> None:
    big = bytes(range(256)) * (5 * CHUNK // 256 + 7)  # 5 MiB and a bit: never read whole
    store = TarStore(_tgz(tmp_path / "a.tar.gz", {"small": b"hello", "big": big}))
    with store.open_chunks("big") as chunks:
        sizes = []
        out = bytearray()
        for chunk in chunks:
            sizes.append(len(chunk))
            out += chunk
    assert bytes(out) == big
    assert max(sizes) <= CHUNK and len(sizes) > 1
    assert store.read("small", 100) == b"hello"


def test_interleaved_readers_of_a_compressed_tarball(tmp_path: Path) -> None:
    a, b = b"a" * (3 * CHUNK), b"b" * (2 * CHUNK + 5)
    store = TarStore(_tgz(tmp_path / "b.tar.gz", {"a": a, "b": b}))
    with store.open_chunks("a") as ia, store.open_chunks("b") as ib:  # same thread: the lock is reentrant
        got_a, got_b = bytearray(), bytearray()
        while (x := next(ia, None)) is not None:  # one chunk of each in turn: the readers alternate
            got_a += x
            got_b += next(ib, b"")
        got_b += b"".join(ib)
    assert bytes(got_a) == a and bytes(got_b) == b
