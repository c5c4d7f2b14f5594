"""Hygiene evidence from layer scans: files in every layer (deleted copies too), wasted bytes, caches,
build tooling; and that neither the layer cache nor a scan issue ever holds a secret."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import Iterable
from pathlib import Path

from provenant.cache import LayerCache
from provenant.catalog.registry import default_plan
from provenant.digest import Digest
from provenant.hygiene.caches import cache_dirs
from provenant.hygiene.secrets import file_secrets
from provenant.hygiene.tooling import build_tooling, tooling_reason
from provenant.hygiene.waste import wasted_files
from provenant.layers.scan import LayerScan, scan_layer
from provenant.layers.view import ImageView
from provenant.sbom.model import Package

Item = tuple[str, str, bytes]  # (path, kind: file/dir/sym, content or link target)
TOKEN = "npm-secret-token-7f3a9c"
PASSWORD = "dotenv-pass-91b2"


def layer(items: Iterable[Item]) -> LayerScan:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for path, kind, content in items:
            ti = tarfile.TarInfo(path)
            if kind == "file":
                ti.size = len(content)
                t.addfile(ti, io.BytesIO(content))
            else:
                ti.type = tarfile.DIRTYPE if kind == "dir" else tarfile.SYMTYPE
                ti.linkname = content.decode()
                t.addfile(ti)
    tar = buf.getvalue()
    blob = gzip.compress(tar, mtime=0)
    diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
    return scan_layer(iter([blob]), digest=str(Digest.of(blob)), diff_id=diff_id, plan=default_plan())


def wh(path: str) -> Item:
    parent, _, name = path.rpartition("/")
    return (f"{parent}/.wh.{name}" if parent else f".wh.{name}", "file", b"")


def test_secret_files_in_every_layer_deleted_or_not() -> None:
    scans = [
        layer([("app/.env", "file", f"DB_PASSWORD={PASSWORD}\n".encode()), ("root/.npmrc", "file", b"_auth=x1y2\n")]),
        layer([wh("app/.env"), ("root/.npmrc", "file", f"_authToken={TOKEN}\n".encode())]),
        layer([("srv/k/.wh..wh..opq", "file", b""), ("srv/ok.txt", "file", b"x")]),
    ]
    scans.insert(2, layer([("srv/k/id_rsa", "file", b"-----BEGIN RSA PRIVATE KEY-----\nAA\n")]))
    found = [(f.rule, f.path, f.layer_index, f.deleted) for f in file_secrets(scans, ImageView(scans))]
    assert found == [
        ("dotenv-file", "/app/.env", 0, True),  # whiteout in layer 1
        ("npmrc-token", "/root/.npmrc", 0, True),  # overwritten in layer 1
        ("npmrc-token", "/root/.npmrc", 1, False),
        ("private-key", "/srv/k/id_rsa", 2, True),  # opaque directory in layer 3
    ]


def test_layer_cache_json_never_holds_the_secret(tmp_path: Path) -> None:
    scan = layer([("root/.npmrc", "file", f"//r.example/:_authToken={TOKEN}\n".encode()),
                  ("app/.env", "file", f"DB_PASSWORD={PASSWORD}\n".encode())])  # fmt: skip
    assert {c.path for c in scan.captured if c.parsed.facts} == {"root/.npmrc", "app/.env"}
    raw = scan.to_json()
    assert TOKEN.encode() not in raw and PASSWORD.encode() not in raw
    assert b"_authToken=<redacted>" in raw
    cache = LayerCache(tmp_path)
    cache.put("v", scan)
    stored = b"".join(gzip.decompress(p.read_bytes()) for p in tmp_path.rglob("*.json.gz"))
    assert stored and TOKEN.encode() not in stored and PASSWORD.encode() not in stored
    again = cache.get("v", scan.digest)
    assert again is not None and [c.parsed.facts for c in again.captured] == [c.parsed.facts for c in scan.captured]


def test_oversized_candidates_are_skipped_silently_but_other_caps_still_report() -> None:
    bundle = b"-----BEGIN CERTIFICATE-----\n" + b"A" * 300_000 + b"\n-----END CERTIFICATE-----\n"
    scan = layer([("usr/lib/python3/dist-packages/certifi/cacert.pem", "file", bundle)])
    assert scan.issues == [] and scan.captured == []
    status = b"Package: x\n" + b"D" * (33 * 1024 * 1024)
    scan = layer([("var/lib/dpkg/status", "file", status)])
    assert [i.cataloger for i in scan.issues] == ["dpkg"]


def test_wasted_files() -> None:
    scans = [
        layer(
            [
                ("a/big", "file", b"1" * 1000),
                ("a/gone", "file", b"2" * 300),
                ("d/x", "file", b"3" * 50),
                ("e/f", "file", b"4" * 70),
                ("empty", "file", b""),
                ("keep", "file", b"k"),
            ]
        ),
        layer([("a/big", "file", b"5" * 10), wh("a/gone"), ("d/.wh..wh..opq", "file", b""), ("e", "sym", b"d")]),
        layer([("a/big", "file", b"6" * 20)]),
    ]
    got = [(w.path, w.layer_index, w.size, w.reason) for w in wasted_files(scans, ImageView(scans))]
    assert got == [
        ("/a/big", 0, 1000, "overwritten"),
        ("/a/gone", 0, 300, "deleted"),
        ("/e/f", 0, 70, "deleted"),  # directory replaced by a symlink
        ("/d/x", 0, 50, "deleted"),  # opaque directory
        ("/a/big", 1, 10, "overwritten"),
    ]
    assert wasted_files(scans[:1], ImageView(scans[:1])) == []


def test_caches_in_the_final_view() -> None:
    lists = "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm"
    scans = [
        layer([
            (f"{lists}_InRelease", "file", b"R" * 100),
            (f"{lists}_main_binary-amd64_Packages.lz4", "file", b"P" * 900),
            ("var/lib/apt/lists/lock", "file", b""),
            ("var/lib/apt/lists/partial/x.part", "file", b"p" * 5),
            ("var/cache/apt/archives/curl_8.0_amd64.deb", "file", b"d" * 40),
            ("var/cache/apt/archives/lock", "file", b""),
            ("var/cache/apk/APKINDEX.abc.tar.gz", "file", b"a" * 7),
            ("root/.cache/pip/http-v2/a/b/c", "file", b"h" * 11),
            ("home/app/.npm/_cacache/index-v5/aa/bb", "file", b"n" * 13),
            ("usr/local/share/.cache/yarn/v6/pkg/index.js", "file", b"y" * 17),
            ("srv/app/.npm/_cacache/content-v2/x", "file", b"m" * 19),
        ]),
        layer([("home/app/.npm/_cacache/.wh..wh..opq", "file", b"")]),  # cleaned in a later layer
    ]  # fmt: skip
    got = [(c.kind, c.path, c.files, c.bytes) for c in cache_dirs(ImageView(scans))]
    assert got == [
        ("pip-cache", "/root/.cache/pip", 1, 11),
        ("npm-cache", "/srv/app/.npm/_cacache", 1, 19),
        ("yarn-cache", "/usr/local/share/.cache/yarn", 1, 17),
        ("apk-cache", "/var/cache/apk", 1, 7),
        ("apt-archives", "/var/cache/apt/archives", 1, 40),
        ("apt-lists", "/var/lib/apt/lists", 2, 1000),
    ]
    clean = [layer([("var/lib/apt/lists/lock", "file", b""), ("var/lib/apt/lists/partial", "dir", b"")])]
    assert cache_dirs(ImageView(clean)) == []


def test_build_tooling() -> None:
    tools = {
        "gcc": "compiler", "gcc-12": "compiler", "g++-12": "compiler", "cpp-12": "compiler", "clang-16": "compiler",
        "gcc-12-x86-64-linux-gnu": "compiler", "gcc-c++": "compiler", "build-essential": "build-essential",
        "build-base": "build-essential", "make": "build tool", "cmake": "build tool", "pkgconf": "build tool",
        "binutils-x86-64-linux-gnu": "build tool", "zlib1g-dev": "development headers (-dev)",
        "openssl-devel": "development headers (-dev)", "linux-headers": "development headers (-dev)",
    }  # fmt: skip
    for name, reason in tools.items():
        assert tooling_reason(name) == reason, name
    for name in ("gcc-12-base", "libgcc-s1", "libstdc++6", "cpp-doc", "makedev", "udev", "libdevmapper1.02.1",
                 "dev-tools-doc", "gomp", "libclang1-16", "clang-format"):  # fmt: skip
        assert tooling_reason(name) is None, name
    pkgs = [
        Package(name="zlib1g-dev", version="1", type="deb", found_by="dpkg"),
        Package(name="gcc", version="13.2", type="apk", found_by="apk"),
        Package(name="gcc-12-base", version="12", type="deb", found_by="dpkg"),
        Package(name="cmake", version="3.28", type="pypi", found_by="python"),  # a wheel, not an OS toolchain
    ]
    assert [(f.package, f.type, f.reason) for f in build_tooling(pkgs)] == [
        ("gcc", "apk", "compiler"),
        ("zlib1g-dev", "deb", "development headers (-dev)"),
    ]
