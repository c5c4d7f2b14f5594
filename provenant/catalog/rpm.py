"""RPM package databases: sqlite (rpm >= 4.16), Berkeley DB hash (RHEL <= 8) and ndb (SUSE)."""

from __future__ import annotations

import sqlite3
import struct
from typing import ClassVar

from packageurl import PackageURL

from provenant.catalog import rpmdb_bdb, rpmdb_ndb, rpmheader
from provenant.catalog.base import Cataloger, CatalogError, Distro, MiB, ParsedFile
from provenant.catalog.licenses import expression
from provenant.catalog.rpmheader import HeaderError, RpmHeader, parse_header
from provenant.sbom.model import Package

_SQLITE_MAGIC = b"SQLite format 3\0"


class RpmCataloger(Cataloger):
    """Installed RPM packages from the rpm database, whichever backend wrote it."""

    name: ClassVar[str] = "rpm"
    patterns: ClassVar[tuple[str, ...]] = tuple(
        f"{root}/{db}"
        for root in ("var/lib/rpm", "usr/lib/sysimage/rpm")
        for db in ("rpmdb.sqlite", "Packages", "Packages.db")
    )
    max_size: ClassVar[int] = 512 * MiB
    package_types: ClassVar[tuple[str, ...]] = ("rpm",)

    def parse(self, path: str, data: bytes) -> ParsedFile:
        blobs, issues = read_header_blobs(data)
        packages: list[Package] = []
        for number, blob in enumerate(blobs, 1):
            try:
                header = parse_header(blob)
                pkg = self._package(header)
            except HeaderError as exc:
                issues.append(f"package header {number}: {exc}; skipped")
                continue
            if pkg is not None:
                packages.append(pkg)
        return ParsedFile(packages=packages, issues=issues)

    def _package(self, h: RpmHeader) -> Package | None:
        name, version, release = h.string(rpmheader.NAME), h.string(rpmheader.VERSION), h.string(rpmheader.RELEASE)
        if not name or version is None:
            raise HeaderError("header has no NAME or VERSION")
        if name == "gpg-pubkey":  # imported signing keys pose as packages
            return None
        epoch = h.integer(rpmheader.EPOCH)
        evr = f"{version}-{release}" if release else version
        metadata = {"release": release} if release else {}
        if epoch is not None:
            metadata["epoch"] = str(epoch)
            evr = f"{epoch}:{evr}"
        source_rpm = h.string(rpmheader.SOURCERPM)
        if source_rpm:
            metadata["sourcerpm"] = source_rpm
        license_ = h.string(rpmheader.LICENSE)
        licenses = [license_] if license_ else []
        return Package(
            name=name,
            version=evr,
            type="rpm",
            arch=h.string(rpmheader.ARCH),
            licenses=licenses,
            license_expression=expression(licenses),
            source_package=_source_name(source_rpm),
            supplier=h.string(rpmheader.VENDOR),
            description=h.string(rpmheader.SUMMARY),
            homepage=h.string(rpmheader.URL),
            metadata=metadata,
            files=h.files(),
            found_by=self.name,
        )

    def complete(self, pkg: Package, distro: Distro | None) -> Package:
        """purl per the purl spec: version-release as version, epoch and arch as qualifiers."""
        version = pkg.version.split(":", 1)[1] if "epoch" in pkg.metadata else pkg.version
        qualifiers = {
            "arch": pkg.arch,
            "epoch": pkg.metadata.get("epoch"),
            "distro": distro.purl_distro if distro else None,
        }
        purl = PackageURL(
            type="rpm",
            namespace=distro.id if distro else None,
            name=pkg.name,
            version=version,
            qualifiers={k: v for k, v in qualifiers.items() if v},
        )
        return pkg.model_copy(update={"purl": purl.to_string()})


def _source_name(source_rpm: str | None) -> str | None:
    """``bash-5.1.8-6.el9.src.rpm`` -> ``bash`` (name-version-release, where only name may hold dashes)."""
    if not source_rpm:
        return None
    stem = source_rpm.removesuffix(".rpm").rsplit(".", 1)[0]  # drop .src / .nosrc
    parts = stem.rsplit("-", 2)
    return parts[0] if len(parts) == 3 else None


def read_header_blobs(data: bytes) -> tuple[list[bytes], list[str]]:
    """Every stored header blob, by the file's magic (never by its name), plus per-entry problems."""
    if data.startswith(_SQLITE_MAGIC):
        return _sqlite_blobs(data), []
    if data.startswith(rpmdb_ndb.MAGIC):
        return rpmdb_ndb.read_blobs(data)
    if rpmdb_bdb.is_bdb_hash(data):
        return rpmdb_bdb.read_values(data)
    raise CatalogError("not an rpm database: neither sqlite, Berkeley DB hash nor ndb")


def _sqlite_blobs(data: bytes) -> list[bytes]:
    """Read ``Packages.blob`` from an in-memory copy: no temporary file, nothing written to disk."""
    if len(data) < 100:
        raise CatalogError("sqlite rpm database is shorter than its 100-byte header")
    (page_size,) = struct.unpack_from(">H", data, 16)
    page_size = 65536 if page_size == 1 else page_size
    change_counter, pages, valid_for = (struct.unpack_from(">I", data, o)[0] for o in (24, 28, 92))
    if change_counter == valid_for and pages * page_size > len(data):
        raise CatalogError(f"sqlite rpm database truncated: header says {pages} pages, file holds {len(data)} bytes")
    image = bytearray(data)
    # rpm keeps its database in WAL mode, which an in-memory database cannot open. rpm checkpoints
    # the WAL when it closes the database and only the main file reaches us, so marking the copy as
    # a rollback-journal database reads exactly what the file holds.
    image[18:20] = b"\x01\x01"
    con = sqlite3.connect(":memory:")
    try:
        con.deserialize(image)
        rows = con.execute("SELECT blob FROM Packages ORDER BY hnum").fetchall()
    except sqlite3.Error as exc:
        raise CatalogError(f"sqlite rpm database unreadable: {exc}") from exc
    finally:
        con.close()
    return [bytes(r[0]) for r in rows if isinstance(r[0], bytes)]
