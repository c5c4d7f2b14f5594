"""Real rpm databases: packages built by ``rpmbuild``, installed by ``rpm`` into a private root.

Debian's rpm 4.18 writes only sqlite databases. The Berkeley DB ``Packages`` variants are written by
libdb's own ``db5.3_load`` (the same library RHEL's rpm used) from the real header blobs, and rpm's
read-only BDB backend (``bdb_ro``) can read them back. Nothing on Debian writes ndb, so
:func:`ndb_database` writes that format itself, following rpm's lib/backend/ndb/rpmpkg.c.
"""

from __future__ import annotations

import sqlite3
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from tests.catalogdata._run import need, run

DBPATH = "/var/lib/rpm"

_SPECS = {
    # Epoch, Fedora-style license, vendor, an arch package (built for the host's arch).
    "hello-prov": """
Name: hello-prov
Version: 1.2.3
Release: 4.fc39
Epoch: 2
Summary: Greets the provenant tests
License: GPLv2+
Vendor: Provenant Test Vendor
URL: https://example.org/hello
%description
Test package.
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/usr/share/doc/hello-prov
printf '#!/bin/sh\\necho hi\\n' > %{buildroot}/usr/bin/hello-prov
chmod 755 %{buildroot}/usr/bin/hello-prov
echo readme > %{buildroot}/usr/share/doc/hello-prov/README
%files
/usr/bin/hello-prov
/usr/share/doc/hello-prov/README
""",
    # Hundreds of files make the header blob span several Berkeley DB overflow pages.
    "foo-data": """
Name: foo-data
Version: 0.9
Release: 1
Summary: Data files for the provenant tests
License: MIT
Vendor: Provenant Test Vendor
BuildArch: noarch
%description
Test package with many files.
%install
mkdir -p %{buildroot}/usr/share/foo-data
for i in $(seq 1 300); do echo $i > %{buildroot}/usr/share/foo-data/entry-with-a-long-name-$i.txt; done
%files
/usr/share/foo-data
""",
    # A license string that has no SPDX mapping, no vendor.
    "bar-tools": """
Name: bar-tools
Version: 3.0~rc1
Release: 7.el9
Summary: Tools for the provenant tests
License: MIT and BSD with advertising
%description
Test package.
%install
mkdir -p %{buildroot}/usr/libexec/bar
echo tool > %{buildroot}/usr/libexec/bar/tool
%files
/usr/libexec/bar/tool
""",
}

_QF = r"%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{LICENSE}\t%{VENDOR}\t%{SOURCERPM}\t[%{FILENAMES}|]\n"


@dataclass(frozen=True)
class Installed:
    """One package as ``rpm -qa`` reports it (``(none)`` becomes None)."""

    name: str
    epoch: str | None
    version: str
    release: str
    arch: str
    license: str
    vendor: str | None
    sourcerpm: str | None
    files: tuple[str, ...]


@dataclass(frozen=True)
class RpmRoot:
    """A root filesystem with a real sqlite rpm database and what rpm itself says is installed."""

    root: Path
    sqlite: Path
    installed: tuple[Installed, ...]  # including the imported gpg-pubkey


def build_root(work: Path) -> RpmRoot:
    """rpmbuild the test packages, install them with rpm (sqlite backend), import a signing key."""
    need("rpm", "rpmbuild", "gpg")
    top = work / "rpmbuild"
    (top / "SPECS").mkdir(parents=True)
    for name, spec in _SPECS.items():
        path = top / "SPECS" / f"{name}.spec"
        path.write_text(spec.lstrip())
        run(["rpmbuild", "--define", f"_topdir {top}", "--define", "_build_id_links none", "-bb", path])
    rpms = sorted((top / "RPMS").glob("*/*.rpm"))
    root = work / "root"
    root.mkdir()
    rpm: list[str | Path] = ["rpm", "--root", root, "--dbpath", DBPATH, "--define", "_db_backend sqlite"]
    run([*rpm, "--initdb"])
    run([*rpm, "-i", "--nodeps", "--noscripts", "--ignorearch", *rpms])
    run([*rpm, "--import", _signing_key(work / "gnupg")])
    return RpmRoot(root, root / DBPATH.lstrip("/") / "rpmdb.sqlite", query(root, "sqlite"))


def _signing_key(home: Path) -> Path:
    """A fresh OpenPGP public key (importing it adds rpm's ``gpg-pubkey`` pseudo-package)."""
    home.mkdir(mode=0o700)
    gpg: list[str | Path] = ["gpg", "--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
    try:
        run([*gpg, "--quick-gen-key", "Provenant Test <test@example.invalid>", "rsa2048", "sign", "never"])
        key = home / "key.asc"
        key.write_text(run([*gpg, "--armor", "--export"]))
    finally:
        run(["gpgconf", "--homedir", home, "--kill", "all"])
    return key


def query(root: Path, backend: str) -> tuple[Installed, ...]:
    """What ``rpm -qa`` reads from ``root``'s database with ``backend`` (sqlite, bdb_ro), sorted."""
    out = run(["rpm", "--root", root, "--dbpath", DBPATH, "--define", f"_db_backend {backend}", "-qa", "--qf", _QF])
    rows = []
    for line in out.splitlines():
        name, epoch, version, release, arch, license_, vendor, source, files = line.split("\t")
        rows.append(
            Installed(
                name,
                _none(epoch),
                version,
                release,
                arch,
                license_,
                _none(vendor),
                _none(source),
                tuple(f for f in files.split("|") if f),
            )
        )
    return tuple(sorted(rows, key=lambda r: r.name))


def _none(value: str) -> str | None:
    return None if value == "(none)" else value


def header_blobs(sqlite_db: Path) -> list[tuple[int, bytes]]:
    """(header number, header blob) of every package rpm stored, read with the sqlite3 module."""
    con = sqlite3.connect(f"file:{sqlite_db}?mode=ro", uri=True)
    try:
        return [(int(n), bytes(b)) for n, b in con.execute("SELECT hnum, blob FROM Packages ORDER BY hnum")]
    finally:
        con.close()


def bdb_database(
    blobs: list[tuple[int, bytes]],
    dest: Path,
    *,
    page_size: int = 4096,
    big_endian: bool = False,
    checksum: bool = False,
) -> Path:
    """A Berkeley DB hash ``Packages`` file as rpm's bdb backend laid it out, written by libdb's db5.3_load.

    Keys are header numbers as 4-byte integers in the database's byte order, values the header blobs.
    """
    need("db5.3_load")
    order = ">" if big_endian else "<"
    lines = ["VERSION=3", "format=bytevalue", "type=hash", f"db_pagesize={page_size}", "HEADER=END"]
    for number, blob in blobs:
        lines += [" " + struct.pack(order + "I", number).hex(), " " + blob.hex()]
    lines.append("DATA=END")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dump = dest.with_name(dest.name + ".dump")
    dump.write_text("\n".join(lines) + "\n")
    options = ["-c", f"db_lorder={4321 if big_endian else 1234}"]
    if checksum:
        options += ["-c", "chksum=1"]
    run(["db5.3_load", *options, "-f", dump, dest])
    dump.unlink()
    return dest


def ndb_database(blobs: list[tuple[int, bytes]], *, timestamp: int = 1_700_000_000) -> bytes:
    """An ndb ``Packages.db`` with one slot page, blobs appended in order (as a fresh rpm writes it)."""
    page, block = 4096, 16
    header = b"RpmP" + struct.pack("<IIII", 0, len(blobs) + 1, 1, max(n for n, _ in blobs) + 1) + bytes(12)
    slots = bytearray(b"Slot" + bytes(12)) * (page // 16)
    slots[:32] = header
    body = bytearray()
    next_block = page // block
    for i, (number, blob) in enumerate(blobs):
        count = (16 + len(blob) + 12 + block - 1) // block
        head = b"BlbS" + struct.pack("<III", number, timestamp, len(blob))
        padded = head + blob + bytes(count * block - 16 - len(blob) - 12)
        body += padded + struct.pack("<II", zlib.adler32(padded), len(blob)) + b"BlbE"
        struct.pack_into("<4sIII", slots, 32 + 16 * i, b"Slot", number, next_block, count)
        next_block += count
    return bytes(slots) + bytes(body)
