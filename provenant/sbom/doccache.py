"""Cache of encoded SBOM documents: (code fingerprint, request, image digest) → the documents.

The layer cache spares a second run the downloads and scans, but not resolving every manifest and
config, merging layers and encoding, nor importing what does that. An SBOM document is a function of
the image digest, the request (reference as given, platforms, format, merge) and provenant's code and
libraries, so the documents themselves are kept too; a hit needs only the tag's current digest.
Stamps that make each document unique are renewed on every hit (:mod:`provenant.sbom.stamps`).

Layout: ``sboms/<fingerprint>/<request key>/<digest hex>.json.gz``; the request directory existing
is what tells a run that asking the registry for the tag's digest can pay off. Writes are atomic.
Besides the standard library, only the limits and platform models are imported here (the CLI has
loaded pydantic to activate the limits before any command runs).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import logging
import os
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from provenant import __version__
from provenant.digest import Digest
from provenant.errors import ProvenantError
from provenant.layers.limitkey import scan_limits_key
from provenant.limits import current as current_limits
from provenant.oci.platform import PlatformSpec
from provenant.sbom.formats import Document
from provenant.sbom.stamps import RESTAMP, Stamps

log = logging.getLogger(__name__)

#: Documents larger than this (all of one request together) are not cached: the entry is built and
#: compressed in memory, which for a database of tens of thousands of packages costs more memory than
#: re-encoding it costs time. Their layers' scans are still cached.
MAX_CACHED_TEXT = 16 << 20

_PACKAGE = Path(__file__).resolve().parent.parent


def code_fingerprint() -> str:
    """Changes with any provenant source file, and with any package installed next to its dependencies.

    Every module can shape a document (catalogers, merging, encoders), and so can the libraries
    (cyclonedx-python-lib, spdx-tools, license-expression), whose ``*.dist-info`` names carry their
    versions.
    """
    h = hashlib.sha256(f"{__version__}\n{sys.version}\n".encode())
    for base, dirs, files in os.walk(_PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(f for f in files if f.endswith(".py")):
            path = Path(base, name)
            h.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0")
            h.update(path.read_bytes())
    for entry in sys.path:
        if entry.endswith(("site-packages", "dist-packages")) and os.path.isdir(entry):
            h.update("\n".join(sorted(n for n in os.listdir(entry) if n.endswith(".dist-info"))).encode())
    return h.hexdigest()[:16]


def _platform_key(text: str) -> str:
    """The normalised platform (``PlatformSpec``); a string that does not parse is kept lowercased
    (the full pipeline then reports it)."""
    try:
        return str(PlatformSpec.parse(text))
    except ProvenantError:
        return text.strip().lower()


@dataclass(frozen=True)
class DocumentRequest:
    """What was asked, besides the image: equal requests of equal images give equal documents."""

    reference: str
    platforms: tuple[str, ...]
    fmt: str
    merge: bool
    #: The scan-affecting limits (:func:`provenant.layers.limitkey.scan_limits_key`) the documents were made under.
    scan_limits: str = ""

    @classmethod
    def of(cls, reference: str, platforms: tuple[str, ...], fmt: str, merge: bool) -> DocumentRequest:
        """Normalised: ``--platform`` values split at commas, normalised as platform matching does
        (``linux/aarch64`` is ``linux/arm64/v8``), deduplicated and sorted; the active scan limits."""
        specs = sorted({_platform_key(p) for v in platforms for p in v.split(",") if p.strip()})
        return cls(reference, tuple(specs), fmt, merge, scan_limits_key(current_limits()))

    def key(self) -> str:
        """A file-name-safe hash of the request."""
        text = json.dumps([self.reference, list(self.platforms), self.fmt, self.merge, self.scan_limits])
        return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class CachedDocuments:
    """The documents of one request, and how many platform images they cover."""

    images: int
    documents: list[Document]


class DocumentCache:
    """The on-disk document cache under ``root``; ``cacheable(fmt)`` says which formats it keeps."""

    def __init__(self, root: Path, fingerprint: str | None = None) -> None:
        self.root = root
        self._fingerprint = fingerprint

    @property
    def fingerprint(self) -> str:
        """The code fingerprint entries are filed under (computed on first use)."""
        if self._fingerprint is None:
            self._fingerprint = code_fingerprint()
        return self._fingerprint

    @staticmethod
    def cacheable(fmt: str) -> bool:
        """True for formats whose stamps can be renewed."""
        return fmt in RESTAMP

    def _dir(self, request: DocumentRequest) -> Path:
        return self.root / "sboms" / self.fingerprint / request.key()

    def _entry(self, request: DocumentRequest, digest: str) -> Path | None:
        """Where the documents of ``digest`` live; None for a format that is not kept or a malformed digest."""
        if request.fmt not in RESTAMP:
            return None
        try:
            return self._dir(request) / f"{Digest.parse(digest).hex}.json.gz"
        except ProvenantError:
            return None

    def knows(self, request: DocumentRequest) -> bool:
        """True when some image was cached for this request (so resolving its tag may find a hit)."""
        return self._dir(request).is_dir()

    def get(
        self, request: DocumentRequest, digest: str, stamp: Callable[[], Stamps] = Stamps.fresh
    ) -> CachedDocuments | None:
        """The documents for ``digest``, each with new ``stamp()`` values; None when absent or unreadable."""
        path = self._entry(request, digest)
        if path is None:
            return None
        restamper = RESTAMP[request.fmt]
        try:
            entry = json.loads(gzip.decompress(path.read_bytes()))
            if entry["digest"] != digest or entry["request"] != request.key():
                return None
            docs = [Document(d["platform"], restamper.restamp(d["text"], stamp())) for d in entry["documents"]]
            images = int(entry["images"])
        except FileNotFoundError:
            return None
        except (OSError, EOFError, zlib.error, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable SBOM cache entry %s: %s", path, exc)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # last use, for prune
        return CachedDocuments(images, docs)

    def put(self, request: DocumentRequest, digest: str, images: int, documents: list[Document]) -> bool:
        """Store the documents of ``digest`` atomically; False when the format or a text cannot be cached."""
        path = self._entry(request, digest)
        if sum(len(d.text) for d in documents) > MAX_CACHED_TEXT:
            return False
        if path is None or not all(RESTAMP[request.fmt].faithful(d.text) for d in documents):
            return False
        entry = {
            "digest": digest,
            "request": request.key(),
            "images": images,
            "documents": [{"platform": d.platform, "text": d.text} for d in documents],
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json.gz")
            with os.fdopen(fd, "wb") as fh:
                fh.write(gzip.compress(json.dumps(entry).encode(), compresslevel=3, mtime=0))
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("could not write SBOM cache entry %s: %s", path, exc)
            return False
        return True

    def prune(self, *, older_than_days: float | None) -> tuple[int, int, int, int]:
        """Remove other fingerprints' entries (and ones unused for N days): removed/kept entries and bytes."""
        base = self.root / "sboms"
        removed = removed_bytes = kept = kept_bytes = 0
        cutoff = time.time() - older_than_days * 86400 if older_than_days is not None else None
        if not base.is_dir():
            return 0, 0, 0, 0
        for version_dir in base.iterdir():
            current = version_dir.name == self.fingerprint
            for entry in sorted(version_dir.rglob("*.json.gz")):
                st = entry.stat()
                stale_tmp = entry.name.startswith(".tmp-") and st.st_mtime < time.time() - 3600
                if not current or stale_tmp or (cutoff is not None and st.st_mtime < cutoff):
                    entry.unlink(missing_ok=True)
                    removed, removed_bytes = removed + 1, removed_bytes + st.st_size
                else:
                    kept, kept_bytes = kept + 1, kept_bytes + st.st_size
            for sub in sorted(version_dir.iterdir(), reverse=True) if version_dir.is_dir() else []:
                with contextlib.suppress(OSError):
                    sub.rmdir()  # only empty request directories go
            if not current:
                with contextlib.suppress(OSError):
                    version_dir.rmdir()
        return removed, removed_bytes, kept, kept_bytes
