"""The rpm cataloger against databases written by the real rpm (sqlite) and libdb (Berkeley DB)."""

from __future__ import annotations

import shutil
import sqlite3
import struct
from pathlib import Path

import pytest

from provenant.catalog.base import CatalogError, Distro, ParsedFile
from provenant.catalog.rpm import RpmCataloger
from provenant.sbom.model import Package
from tests.catalogdata import rpms
from tests.catalogdata._run import ToolMissing, need, run
from tests.purls import assert_same_purl

CAT = RpmCataloger()


@pytest.fixture(scope="session")
def rpm_root(tmp_path_factory: pytest.TempPathFactory) -> rpms.RpmRoot:
    try:
        return rpms.build_root(tmp_path_factory.mktemp("rpm"))
    except ToolMissing as exc:
        pytest.skip(f"rpm test databases need rpm, rpmbuild and gpg: {exc}")


@pytest.fixture(scope="session")
def blobs(rpm_root: rpms.RpmRoot) -> list[tuple[int, bytes]]:
    return rpms.header_blobs(rpm_root.sqlite)


def expected(root: rpms.RpmRoot) -> list[rpms.Installed]:
    return [p for p in root.installed if p.name != "gpg-pubkey"]


def as_installed(pkg: Package) -> rpms.Installed:
    """Our package in the shape of rpm's own query output."""
    version, release = pkg.version.split(":", 1)[-1].rsplit("-", 1)
    return rpms.Installed(
        pkg.name,
        pkg.metadata.get("epoch"),
        version,
        release,
        pkg.arch or "",
        pkg.licenses[0],
        pkg.supplier,
        pkg.metadata.get("sourcerpm"),
        tuple(pkg.files),
    )


def assert_matches_rpm(parsed: ParsedFile, root: rpms.RpmRoot) -> None:
    assert parsed.issues == []
    assert sorted((as_installed(p) for p in parsed.packages), key=lambda i: i.name) == expected(root)


def test_sqlite_database_matches_rpm_query(rpm_root: rpms.RpmRoot) -> None:
    assert any(p.name == "gpg-pubkey" for p in rpm_root.installed), "the fixture imports a signing key"
    assert_matches_rpm(CAT.parse("var/lib/rpm/rpmdb.sqlite", rpm_root.sqlite.read_bytes()), rpm_root)


def test_package_fields_and_purl(rpm_root: rpms.RpmRoot) -> None:
    parsed = CAT.parse("var/lib/rpm/rpmdb.sqlite", rpm_root.sqlite.read_bytes())
    by_name = {p.name: p for p in parsed.packages}
    hello = {i.name: i for i in rpm_root.installed}["hello-prov"]
    pkg = CAT.complete(by_name["hello-prov"], Distro(id="fedora", version_id="39"))
    assert pkg.version == "2:1.2.3-4.fc39"
    assert_same_purl(pkg.purl, f"pkg:rpm/fedora/hello-prov@1.2.3-4.fc39?arch={hello.arch}&distro=fedora-39&epoch=2")
    assert pkg.source_package == "hello-prov"
    assert pkg.homepage == "https://example.org/hello"
    assert pkg.description == "Greets the provenant tests"
    assert pkg.found_by == "rpm"
    assert by_name["hello-prov"].license_expression == "GPL-2.0-or-later"
    assert by_name["foo-data"].license_expression == "MIT"
    assert by_name["bar-tools"].license_expression is None  # "MIT and BSD with advertising" has no SPDX form
    no_distro = CAT.complete(by_name["foo-data"], None)
    assert_same_purl(no_distro.purl, "pkg:rpm/foo-data@0.9-1?arch=noarch")


def test_empty_database(tmp_path: Path) -> None:
    try:
        need("rpm")
    except ToolMissing as exc:
        pytest.skip(str(exc))
    run(["rpm", "--root", tmp_path, "--dbpath", rpms.DBPATH, "--define", "_db_backend sqlite", "--initdb"])
    data = (tmp_path / "var/lib/rpm/rpmdb.sqlite").read_bytes()
    assert CAT.parse("var/lib/rpm/rpmdb.sqlite", data) == ParsedFile()


@pytest.mark.parametrize("page_size", [512, 4096, 65536])
@pytest.mark.parametrize("big_endian", [False, True])
def test_berkeley_db_read_by_rpm_and_by_us(
    rpm_root: rpms.RpmRoot, blobs: list[tuple[int, bytes]], tmp_path: Path, page_size: int, big_endian: bool
) -> None:
    packages = rpms.bdb_database(blobs, tmp_path / "var/lib/rpm/Packages", page_size=page_size, big_endian=big_endian)
    # rpm's own read-only Berkeley DB backend sees the same packages as in the sqlite database.
    assert rpms.query(tmp_path, "bdb_ro") == rpm_root.installed
    assert_matches_rpm(CAT.parse("var/lib/rpm/Packages", packages.read_bytes()), rpm_root)


def test_berkeley_db_with_page_checksums(
    rpm_root: rpms.RpmRoot, blobs: list[tuple[int, bytes]], tmp_path: Path
) -> None:
    packages = rpms.bdb_database(blobs, tmp_path / "Packages", page_size=1024, checksum=True)
    assert_matches_rpm(CAT.parse("var/lib/rpm/Packages", packages.read_bytes()), rpm_root)


def test_berkeley_db_broken_overflow_chain_is_an_issue(
    rpm_root: rpms.RpmRoot, blobs: list[tuple[int, bytes]], tmp_path: Path
) -> None:
    page_size = 512
    data = bytearray(rpms.bdb_database(blobs, tmp_path / "Packages", page_size=page_size).read_bytes())
    # Point the first overflow page that continues a chain back at itself.
    for pgno in range(1, len(data) // page_size):
        base = pgno * page_size
        if data[base + 25] == 7 and struct.unpack_from("<I", data, base + 16)[0]:
            struct.pack_into("<I", data, base + 16, pgno)
            break
    parsed = CAT.parse("var/lib/rpm/Packages", bytes(data))
    assert len(parsed.issues) == 1
    assert "overflow chain" in parsed.issues[0]
    assert len(parsed.packages) == len(expected(rpm_root)) - 1


def test_berkeley_db_truncated(blobs: list[tuple[int, bytes]], tmp_path: Path) -> None:
    data = rpms.bdb_database(blobs, tmp_path / "Packages", page_size=512).read_bytes()
    with pytest.raises(CatalogError, match="truncated"):
        CAT.parse("var/lib/rpm/Packages", data[: len(data) // 2])


def test_ndb_database(rpm_root: rpms.RpmRoot, blobs: list[tuple[int, bytes]]) -> None:
    data = rpms.ndb_database(blobs)
    assert_matches_rpm(CAT.parse("usr/lib/sysimage/rpm/Packages.db", data), rpm_root)


def test_ndb_bad_checksum_skips_one_package(rpm_root: rpms.RpmRoot, blobs: list[tuple[int, bytes]]) -> None:
    data = bytearray(rpms.ndb_database(blobs))
    first_blob = 4096 + 16  # the first blob follows the single slot page and its 16-byte head
    data[first_blob + 100] ^= 0xFF
    parsed = CAT.parse("usr/lib/sysimage/rpm/Packages.db", bytes(data))
    assert len(parsed.issues) == 1
    assert "Adler-32" in parsed.issues[0]
    damaged = next(p.name for p in rpm_root.installed if f"\0{p.name}\0".encode() in blobs[0][1])
    assert sorted(p.name for p in parsed.packages) == [p.name for p in expected(rpm_root) if p.name != damaged]


def test_ndb_bad_slot_magic() -> None:
    data = bytearray(rpms.ndb_database([(1, b"x" * 40)]))
    data[48:52] = b"Junk"
    with pytest.raises(CatalogError, match="slot"):
        CAT.parse("usr/lib/sysimage/rpm/Packages.db", bytes(data))


def _replace_blob(sqlite_db: Path, hnum: int, blob: bytes) -> bytes:
    con = sqlite3.connect(sqlite_db)
    try:
        con.execute("UPDATE Packages SET blob = ? WHERE hnum = ?", (blob, hnum))
        con.commit()
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    return sqlite_db.read_bytes()


def test_header_with_offset_out_of_range_is_an_issue(
    rpm_root: rpms.RpmRoot, blobs: list[tuple[int, bytes]], tmp_path: Path
) -> None:
    copy = tmp_path / "rpmdb.sqlite"
    shutil.copy(rpm_root.sqlite, copy)
    hnum, blob = next((n, b) for n, b in blobs if b"\0hello-prov\0" in b)
    broken = bytearray(blob)
    il = struct.unpack_from(">I", broken, 0)[0]
    for i in range(il):
        if struct.unpack_from(">I", broken, 8 + 16 * i)[0] == 1000:  # NAME
            struct.pack_into(">i", broken, 8 + 16 * i + 8, 0x7FFFFFF0)
    parsed = CAT.parse("var/lib/rpm/rpmdb.sqlite", _replace_blob(copy, hnum, bytes(broken)))
    assert len(parsed.issues) == 1
    assert "tag 1000" in parsed.issues[0]
    assert "outside" in parsed.issues[0]
    assert sorted(p.name for p in parsed.packages) == ["bar-tools", "foo-data"]


def test_truncated_header_blob_is_an_issue(
    rpm_root: rpms.RpmRoot, blobs: list[tuple[int, bytes]], tmp_path: Path
) -> None:
    copy = tmp_path / "rpmdb.sqlite"
    shutil.copy(rpm_root.sqlite, copy)
    hnum, blob = next((n, b) for n, b in blobs if b"\0foo-data\0" in b)
    parsed = CAT.parse("var/lib/rpm/rpmdb.sqlite", _replace_blob(copy, hnum, blob[:500]))
    assert [p.name for p in parsed.packages if p.name == "foo-data"] == []
    assert len(parsed.issues) == 1
    assert "declares" in parsed.issues[0]


def test_truncated_sqlite_is_a_catalog_error(rpm_root: rpms.RpmRoot) -> None:
    data = rpm_root.sqlite.read_bytes()
    with pytest.raises(CatalogError, match="truncated"):
        CAT.parse("var/lib/rpm/rpmdb.sqlite", data[: len(data) // 3])


def test_sqlite_without_packages_table(tmp_path: Path) -> None:
    db = tmp_path / "other.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(CatalogError, match="no such table"):
        CAT.parse("var/lib/rpm/rpmdb.sqlite", db.read_bytes())


@pytest.mark.parametrize("data", [b"", b"\0" * 4096, b"SQLite format 3\0" + b"\xff" * 200, b"not a database at all"])
def test_not_an_rpm_database(data: bytes) -> None:
    with pytest.raises(CatalogError):
        CAT.parse("var/lib/rpm/Packages", data)


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("var/lib/rpm/rpmdb.sqlite", True),
        ("var/lib/rpm/Packages", True),
        ("usr/lib/sysimage/rpm/Packages.db", True),
        ("usr/lib/sysimage/rpm/rpmdb.sqlite", True),
        ("var/lib/rpm/rpmdb.sqlite-wal", False),
        ("var/lib/rpm/Name", False),
        ("opt/var/lib/rpm/Packages", False),
    ],
)
def test_patterns(path: str, wanted: bool) -> None:
    assert CAT.matches(path) is wanted


def _sqlite_bytes(path: Path, script: str) -> bytes:
    con = sqlite3.connect(path)
    con.executescript(script)
    con.close()
    return path.read_bytes()


def test_sqlite_packages_view_is_an_issue_not_a_query(tmp_path: Path) -> None:
    # A recursive view never ends: its rows used to be sorted into an unbounded temp file in /var/tmp.
    data = _sqlite_bytes(
        tmp_path / "view.sqlite",
        "CREATE VIEW Packages AS WITH RECURSIVE r(hnum, blob) AS "
        "(SELECT 1, zeroblob(4096) UNION ALL SELECT hnum + 1, blob FROM r) SELECT hnum, blob FROM r;",
    )
    with pytest.raises(CatalogError, match="Packages is not a table"):
        CAT.parse("var/lib/rpm/rpmdb.sqlite", data)


def test_sqlite_step_budget(rpm_root: rpms.RpmRoot) -> None:
    from provenant import limits

    data = rpm_root.sqlite.read_bytes()
    try:
        limits.activate(limits.Limits(sqlite_steps=50), start_deadline=False)
        with pytest.raises(CatalogError, match="sqlite-steps"):
            CAT.parse("var/lib/rpm/rpmdb.sqlite", data)
    finally:
        limits.reset()
    assert CAT.parse("var/lib/rpm/rpmdb.sqlite", data).packages


def test_sqlite_generated_blobs_cannot_outgrow_the_file(tmp_path: Path) -> None:
    rows = ",".join(f"({i})" for i in range(200))
    data = _sqlite_bytes(
        tmp_path / "gen.sqlite",
        "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB GENERATED ALWAYS AS (zeroblob(60000)) VIRTUAL);"
        f"INSERT INTO Packages (hnum) VALUES {rows};",
    )
    assert len(data) < 200 * 60000
    with pytest.raises(CatalogError, match="more bytes than the file"):
        CAT.parse("var/lib/rpm/rpmdb.sqlite", data)


def test_berkeley_db_entries_sharing_one_overflow_chain() -> None:
    from tests.hostile.test_layers import bdb_shared_overflow

    data = bdb_shared_overflow(page_size=4096, chain=20)
    parsed = CAT.parse("var/lib/rpm/Packages", data)
    # The first entry reads the chain (its value is no header: one issue); every other is refused.
    assert len(parsed.issues) == 2, parsed.issues
    assert "1000 entries name overflow pages another entry already used" in parsed.issues[0]


def test_ndb_slots_naming_one_blob_are_read_once(rpm_root: rpms.RpmRoot, blobs: list[tuple[int, bytes]]) -> None:
    data = bytearray(rpms.ndb_database(blobs[:1]))
    first = bytes(data[32:48])
    for i in range(1, 200):  # 199 more slots naming the same blocks
        data[32 + 16 * i : 48 + 16 * i] = first
    parsed = CAT.parse("usr/lib/sysimage/rpm/Packages.db", bytes(data))
    assert len(parsed.packages) == 1
    assert len(parsed.issues) == 1 and "199 slots" in parsed.issues[0]
