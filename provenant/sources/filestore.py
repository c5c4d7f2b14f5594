"""Read-only access to the files of a directory or a tarball, by relative path.

Sources that sit on disk (OCI layouts, docker-save and OCI archives) read through this, so the same
layout code serves a directory and a tarball. Paths come from documents inside the source; they are
only ever looked up, never used to write anything.
"""

from __future__ import annotations

import os
import posixpath
import tarfile
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Protocol

from provenant import limits
from provenant.errors import SourceError

CHUNK = 1024 * 1024


class FileStore(Protocol):
    """Files addressed by POSIX relative paths."""

    def describe(self) -> str:
        """Where the files are."""
        ...

    def exists(self, path: str) -> bool:
        """Whether ``path`` names a regular file."""
        ...

    def size(self, path: str) -> int:
        """The size of the file at ``path``."""
        ...

    def read(self, path: str, limit: int) -> bytes:
        """The whole file, refusing files larger than ``limit``."""
        ...

    def open_chunks(self, path: str) -> AbstractContextManager[Iterator[bytes]]:
        """Chunks of the file."""
        ...

    def close(self) -> None:
        """Release handles."""
        ...


def _clean(path: str) -> str:
    norm = posixpath.normpath(path.lstrip("/"))
    if norm.startswith("../") or norm == "..":
        raise SourceError(f"refusing path {path!r} that leaves the image source")
    return norm.removeprefix("./")


class DirStore:
    """Files below a directory; symlinks that leave it are refused."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def describe(self) -> str:
        return str(self.root)

    def _path(self, path: str) -> Path:
        full = (self.root / _clean(path)).resolve()
        if not full.is_relative_to(self.root):
            raise SourceError(f"refusing path {path!r}: it resolves outside {self.root}")
        return full

    def exists(self, path: str) -> bool:
        return self._path(path).is_file()

    def size(self, path: str) -> int:
        return self._path(path).stat().st_size

    def read(self, path: str, limit: int) -> bytes:
        full = self._path(path)
        if full.stat().st_size > limit:
            raise SourceError(f"{full} is larger than {limit} bytes; refusing to read it whole")
        return full.read_bytes()

    @contextmanager
    def open_chunks(self, path: str) -> Iterator[Iterator[bytes]]:
        with self._path(path).open("rb") as fh:
            yield iter(lambda: fh.read(CHUNK), b"")

    def close(self) -> None:
        pass


#: Meta entries that tarfile reads whole into memory before the entry they describe.
_META_TYPES = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE, tarfile.XGLTYPE, b"X")
#: A PAX header may carry a path, a link path and a few short records: room for several names.
_PAX_NAMES = 4


class _BoundedTarInfo(tarfile.TarInfo):
    """A member whose GNU long-name and PAX headers are refused past ``name-bytes`` before tarfile reads them."""

    def _proc_member(self, archive: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in _META_TYPES:
            cap = limits.current().name_bytes * _PAX_NAMES
            if self.size > cap:
                raise limits.LimitExceededError(
                    f"{os.fsdecode(archive.name or 'tarball')}: a long-name or PAX header at offset {self.offset}",
                    "name_bytes",
                    got=f"{self.size} bytes",
                )
        member: tarfile.TarInfo = super()._proc_member(archive)  # type: ignore[misc]
        return member


class TarStore:
    """Files inside a tarball. Uncompressed tars are read by offset, so concurrent readers are safe.

    A compressed tarball (``docker save | gzip``) cannot be read by offset: opening it indexes the
    members once (one decompressing pass), and an entry is then streamed chunk by chunk through the
    decompressor, one reader at a time, never held whole (a layer can be gigabytes).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._tar = tarfile.open(path, "r:*", tarinfo=_BoundedTarInfo)  # noqa: SIM115 - kept open for the life of the store
            members = self._index()
        except (OSError, tarfile.TarError, EOFError) as exc:
            raise SourceError(
                f"cannot read tarball {path}: {exc}", hint="is it a complete docker save / OCI archive?"
            ) from exc
        self._members: dict[str, tarfile.TarInfo] = {}
        for m in members:
            try:
                self._members[_clean(m.name)] = m
            except SourceError:
                continue  # an entry escaping the archive is simply not addressable
        # Reentrant: each entry reader seeks the shared decompressor to its own position before every
        # read, so a reader opened while another is open in the same thread still reads its own bytes.
        self._lock = threading.RLock()
        with path.open("rb") as probe:
            self._plain = probe.read(2) != b"\x1f\x8b" and not str(path).endswith((".zst", ".xz", ".bz2"))

    def _index(self) -> list[tarfile.TarInfo]:
        # tarfile keeps every member it has read; an archive of millions of empty entries would fill memory.
        cap = limits.current().archive_entries
        members: list[tarfile.TarInfo] = []
        for m in self._tar:
            if len(members) == cap:
                self._tar.close()
                raise limits.LimitExceededError(f"{self.path}: entries in the tarball", "archive_entries")
            members.append(m)
        return members

    def describe(self) -> str:
        return str(self.path)

    def _member(self, path: str, depth: int = 0) -> tarfile.TarInfo:
        name = _clean(path)
        m = self._members.get(name)
        if m is None:
            raise SourceError(
                f"{self.path}: no entry {name!r} in the archive",
                hint="the archive is incomplete or not an image",
            )
        if (m.issym() or m.islnk()) and depth < 8:
            target = m.linkname if m.islnk() else posixpath.join(posixpath.dirname(name), m.linkname)
            return self._member(target, depth + 1)
        if not m.isfile():
            raise SourceError(f"{self.path}: entry {name!r} is not a regular file")
        return m

    def exists(self, path: str) -> bool:
        try:
            self._member(path)
        except SourceError:
            return False
        return True

    def size(self, path: str) -> int:
        return self._member(path).size

    def read(self, path: str, limit: int) -> bytes:
        m = self._member(path)
        if m.size > limit:
            raise SourceError(f"{self.path}: {path} is larger than {limit} bytes; refusing to read it whole")
        with self.open_chunks(path) as chunks:
            return b"".join(chunks)

    @contextmanager
    def open_chunks(self, path: str) -> Iterator[Iterator[bytes]]:
        m = self._member(path)
        if self._plain and not m.sparse:
            with self.path.open("rb") as fh:
                fh.seek(m.offset_data)
                yield _bounded(fh, m.size)
            return
        # Compressed tarballs cannot be read by offset: one reader at a time, streamed (a seek back
        # costs decompressing from the start again; docs/sources.md says to decompress big ones first).
        with self._lock:
            fh2 = self._tar.extractfile(m)
            if fh2 is None:
                raise SourceError(f"{self.path}: cannot read entry {path!r}")
            with fh2:
                yield _bounded(fh2, m.size)

    def close(self) -> None:
        self._tar.close()


def _bounded(fh: IO[bytes], size: int) -> Iterator[bytes]:
    left = size
    while left > 0:
        chunk = fh.read(min(CHUNK, left))
        if not chunk:
            raise SourceError("tarball ended in the middle of an entry; the archive is truncated")
        left -= len(chunk)
        yield chunk
