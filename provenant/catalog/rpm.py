"""RPM package databases: sqlite (rpm >= 4.16), Berkeley DB hash (RHEL <= 8) and ndb (SUSE)."""

from __future__ import annotations

import struct
from typing import ClassVar

from provenant import limits as _limits
from provenant.catalog import rpmdb_bdb, rpmdb_ndb, rpmheader
from provenant.catalog.base import Cataloger, CatalogError, Distro, MiB, ParsedFile
from provenant.catalog.licenses import expression
from provenant.catalog.purls import purl_of
from provenant.catalog.rpmheader import HeaderError, RpmHeader, parse_header
from provenant.limits import Limits, flag_name, how_to_raise
from provenant.sbom.model import Package

_SQLITE_MAGIC = b"SQLite format 3\0"
#: SQLite VM instructions between two calls of the step-budget handler (at most).
_PROGRESS_EVERY = 1000


class RpmCataloger(Cataloger):
    """Installed RPM packages from the rpm database, whichever backend wrote it."""

    name: ClassVar[str] = "rpm"
    #: rpm-ostree images (Fedora CoreOS, RHCOS, bootc) keep the database under ``usr/share/rpm``.
    patterns: ClassVar[tuple[str, ...]] = tuple(
        f"{root}/{db}"
        for root in ("var/lib/rpm", "usr/lib/sysimage/rpm", "usr/share/rpm")
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
        purl = purl_of("rpm", rpm_namespace(distro), pkg.name, version, {k: v for k, v in qualifiers.items() if v})
        return pkg.model_copy(update={"purl": purl})


def rpm_namespace(distro: Distro | None) -> str | None:
    """The purl namespace of a distro's rpms: its os-release ID, except where the vendor's name differs.

    RHEL and UBI say ``ID=rhel`` but Red Hat's security data, syft and trivy all use ``redhat``;
    openSUSE's IDs (``opensuse-leap``, ``opensuse-tumbleweed``) share the ``opensuse`` namespace.
    """
    if distro is None:
        return None
    if distro.id in ("rhel", "hummingbird"):
        return "redhat"
    if distro.id.startswith("opensuse"):
        return "opensuse"
    return distro.id


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


def _sqlite_blobs(data: bytes, lim: Limits | None = None) -> list[bytes]:
    """Read ``Packages.blob`` from an in-memory copy: no file is written, not even a temporary one.

    The database is hostile input: opened query-only with an in-memory temp store (a sort or a
    recursive query never spills to /var/tmp), every VM step counted against ``Limits.sqlite_steps``,
    ``Packages`` required to be a plain table (a view can compute rows without end), and the blobs
    read may not add up to more than the file holds (a generated column could invent them).
    """
    lim = lim or _limits.current()
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
    import sqlite3  # only for images with an rpmdb.sqlite: not on every run's start-up

    con = sqlite3.connect(":memory:", isolation_level=None)
    steps = [0]
    every = max(1, min(_PROGRESS_EVERY, lim.sqlite_steps))

    def progress() -> int:
        steps[0] += every
        return 1 if steps[0] > lim.sqlite_steps else 0  # non-zero interrupts the statement

    try:
        con.deserialize(image)
        con.execute("PRAGMA temp_store = MEMORY")
        con.execute("PRAGMA query_only = ON")
        con.execute("PRAGMA trusted_schema = OFF")
        con.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max(len(data), 1 << 20))
        con.set_progress_handler(progress, every)
        kinds = con.execute(
            "SELECT type, coalesce(sql, '') FROM sqlite_master WHERE lower(name) = 'packages'"
        ).fetchall()
        if not kinds:
            raise CatalogError("sqlite rpm database unreadable: no such table: Packages")
        if len(kinds) != 1 or kinds[0][0] != "table" or kinds[0][1].lstrip().upper().startswith("CREATE VIRTUAL"):
            found = ", ".join(str(k[0]) for k in kinds)
            raise CatalogError(f"sqlite rpm database: Packages is not a table (found {found}); not read")
        blobs: list[bytes] = []
        total = 0
        for (blob,) in con.execute("SELECT blob FROM Packages ORDER BY hnum"):
            if isinstance(blob, bytes):
                total += len(blob)
                if total > len(data):
                    raise CatalogError("sqlite rpm database: Packages yields more bytes than the file holds; not read")
                blobs.append(blob)
    except sqlite3.Error as exc:
        if steps[0] > lim.sqlite_steps:
            raise CatalogError(
                f"sqlite rpm database: over the {flag_name('sqlite_steps')} limit of {lim.sqlite_steps} steps "
                f"({how_to_raise('sqlite_steps')})"
            ) from exc
        raise CatalogError(f"sqlite rpm database unreadable: {exc}") from exc
    except UnicodeDecodeError as exc:  # a damaged schema's text (or SQLite's message quoting it) is not UTF-8
        raise CatalogError("sqlite rpm database unreadable: its schema is damaged (not UTF-8 text)") from exc
    finally:
        con.close()
    return blobs
