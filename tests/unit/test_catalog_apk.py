"""apk cataloger on a database in Alpine 3.19's format (hand-made: Alpine's mirrors are not reachable here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenant.catalog.apk import ApkCataloger
from provenant.catalog.base import CatalogError, Distro, ViewFile

DB = (Path(__file__).resolve().parents[1] / "data" / "apk" / "installed").read_bytes()
ALPINE = Distro(id="alpine", version_id="3.19.1")


def test_packages_files_and_purls() -> None:
    cat = ApkCataloger()
    parsed = cat.parse("lib/apk/db/installed", DB)
    assert [(p.name, p.version, p.arch) for p in parsed.packages] == [
        ("musl", "1.2.4_git20230717-r4", "x86_64"),
        ("busybox", "1.36.1-r15", "x86_64"),
        ("libcrypto3", "3.1.4-r5", "x86_64"),
        ("zlib", "1.3.1-r0", "x86_64"),
    ]
    pkgs = {p.name: p for p in cat.assemble([ViewFile("lib/apk/db/installed", 0, parsed)], ALPINE)}
    assert (
        pkgs["libcrypto3"].purl
        == "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1&upstream=openssl"
    )
    assert pkgs["musl"].purl == "pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=alpine-3.19.1"
    assert pkgs["zlib"].files == ["lib/libz.so.1", "lib/libz.so.1.3.1"]
    assert pkgs["busybox"].files == ["bin/busybox", "etc/securetty"]
    assert pkgs["busybox"].license_expression == "GPL-2.0-only"
    assert pkgs["musl"].metadata["commit"] == "ca7f2ab5e88794e4e654b40776f8a92256f50639"


def test_edge_cases() -> None:
    cat = ApkCataloger()
    no_newline = cat.parse("lib/apk/db/installed", b"P:a\nV:1-r0\nL:GPL-2.0-only AND MIT\nX:unknown")
    assert no_newline.packages[0].license_expression == "GPL-2.0-only AND MIT"
    partial = cat.parse("lib/apk/db/installed", b"V:1\nA:x86_64\n\nP:b\nV:2-r0\n")
    assert [p.name for p in partial.packages] == ["b"] and len(partial.issues) == 1
    with pytest.raises(CatalogError):
        cat.parse("lib/apk/db/installed", b"\xff\xfe")
    with pytest.raises(CatalogError):
        cat.parse("lib/apk/db/installed", b"V:1\n")
