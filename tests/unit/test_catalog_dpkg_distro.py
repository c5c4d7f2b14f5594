"""dpkg and distro catalogers on edge cases (the real-data checks are in tests/integration/test_sbom.py)."""

from __future__ import annotations

import pytest

from provenant.catalog.base import CatalogError, ViewFile
from provenant.catalog.distro import DistroCataloger, detect_distro, parse_os_release
from provenant.catalog.dpkg import DpkgCataloger
from tests.purls import assert_same_purl

STATUS = b"""Package: libfoo1
Status: install ok installed
Architecture: arm64
Source: foo (1.2-3)
Version: 1:1.2-3
Maintainer: Foo Team <foo@example.org>
Description: the foo library
 long text

Package: gone
Status: deinstall ok config-files
Version: 1.0
Architecture: all

Package: bar
Status: install ok installed
Version: 2.0
Architecture: all
"""

COPYRIGHT = b"""Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: 2020 Foo
License: GPL-2+

Files: lib/*
License: LGPL-2.1+
 text
"""


def test_status_installed_only_and_fields() -> None:
    parsed = DpkgCataloger().parse("var/lib/dpkg/status", STATUS)
    assert [(p.name, p.version, p.arch, p.source_package) for p in parsed.packages] == [
        ("libfoo1", "1:1.2-3", "arm64", "foo"),
        ("bar", "2.0", "all", "bar"),
    ]
    assert parsed.packages[0].description == "the foo library"


def test_assemble_joins_files_and_licenses() -> None:
    cat = DpkgCataloger()
    files = [
        ViewFile("var/lib/dpkg/status", 0, cat.parse("var/lib/dpkg/status", STATUS)),
        ViewFile(
            "var/lib/dpkg/info/libfoo1:arm64.list",
            0,
            cat.parse("var/lib/dpkg/info/libfoo1:arm64.list", b"/.\n/usr/lib/libfoo.so.1\n"),
        ),
        ViewFile("usr/share/doc/libfoo1/copyright", 1, cat.parse("usr/share/doc/libfoo1/copyright", COPYRIGHT)),
    ]
    distro = DistroCataloger().parse("etc/os-release", b'ID=debian\nVERSION_ID="12"\n').facts["distro"]
    from provenant.catalog.base import Distro

    pkgs = {p.name: p for p in cat.assemble(files, Distro.model_validate(distro))}
    foo = pkgs["libfoo1"]
    assert foo.files == [".", "usr/lib/libfoo.so.1"]
    assert foo.licenses == ["GPL-2+", "LGPL-2.1+"]
    assert foo.license_expression == "GPL-2.0-or-later AND LGPL-2.1-or-later"
    assert_same_purl(foo.purl, "pkg:deb/debian/libfoo1@1:1.2-3?arch=arm64&distro=debian-12&upstream=foo")
    assert pkgs["bar"].licenses == []


@pytest.mark.parametrize("data", [b"\xff\xfe\x00garbage", b"Package: x\nDescription: no version\n"])
def test_corrupt_status_raises(data: bytes) -> None:
    with pytest.raises(CatalogError):
        DpkgCataloger().parse("var/lib/dpkg/status", data)


def test_free_form_copyright_gives_no_licenses() -> None:
    parsed = DpkgCataloger().parse("usr/share/doc/x/copyright", b"This is free software, GPL.\n")
    assert parsed.facts["licenses"] == []


def test_os_release_quoting_and_preference() -> None:
    assert parse_os_release('# c\nNAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\nX=\'a b\'\n') == {
        "NAME": "Debian GNU/Linux",
        "ID": "debian",
        "VERSION_ID": "12",
        "X": "a b",
    }
    cat = DistroCataloger()
    files = [
        ViewFile("etc/debian_version", 0, cat.parse("etc/debian_version", b"12.5\n")),
        ViewFile("usr/lib/os-release", 0, cat.parse("usr/lib/os-release", b"ID=ubuntu\nVERSION_ID=24.04\n")),
    ]
    d = detect_distro(files)
    assert d is not None and (d.id, d.version_id) == ("ubuntu", "24.04")
    fallback = detect_distro(files[:1])
    assert fallback is not None and (fallback.id, fallback.version_id) == ("debian", "12")
    with pytest.raises(CatalogError):
        cat.parse("etc/os-release", b"NAME=x\n")


def test_distroless_status_d() -> None:
    cat = DpkgCataloger()
    para = b"Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\nMaintainer: GNU Libc Maintainers\n"
    parsed = cat.parse("var/lib/dpkg/status.d/tzdata", para)
    assert [(p.name, p.version) for p in parsed.packages] == [("tzdata", "2024a-0+deb12u1")]
    assert cat.parse("var/lib/dpkg/status.d/tzdata.md5sums", b"abc  usr/share/zoneinfo/UTC\n").packages == []
    assert cat.matches("var/lib/dpkg/status.d/tzdata")


def test_a_list_file_goes_to_one_package_only() -> None:
    # Paragraphs sharing one name (a forged or corrupt status) used to get a copy of foo.list each.
    status = b"".join(
        b"Package: foo\nStatus: install ok installed\nArchitecture: a%d\nVersion: %d\n\n" % (i, i) for i in range(5)
    )
    cat = DpkgCataloger()
    files = [
        ViewFile("var/lib/dpkg/status", 0, cat.parse("var/lib/dpkg/status", status)),
        ViewFile("var/lib/dpkg/info/foo.list", 0, cat.parse("var/lib/dpkg/info/foo.list", b"/usr/bin/foo\n")),
        ViewFile("var/lib/dpkg/info/foo:a3.list", 0, cat.parse("var/lib/dpkg/info/foo:a3.list", b"/usr/lib/a3\n")),
    ]
    by_arch = {p.arch: p.files for p in cat.assemble(files, None)}
    assert by_arch["a3"] == ["usr/lib/a3"]
    assert sorted(map(tuple, by_arch.values())) == [(), (), (), ("usr/bin/foo",), ("usr/lib/a3",)]


def test_status_parse_is_streamed_line_by_line() -> None:
    # Field names are case-insensitive, continuation lines and comments are not fields, CRLF is fine.
    status = b"package: a\r\nVERSION: 1\r\nDescription: first line\r\n Package: not-a-field\r\n#Package: no\r\n\r\n"
    parsed = DpkgCataloger().parse("var/lib/dpkg/status", status + b"Package: b\nVersion: 2\n")
    assert [(p.name, p.version, p.description) for p in parsed.packages] == [("a", "1", "first line"), ("b", "2", None)]
    bad = b"Package: a\nVersion: \xff\n"
    at = bad.index(b"\xff")
    with pytest.raises(CatalogError, match=f"at byte {at}:"):
        DpkgCataloger().parse("var/lib/dpkg/status", bad)
