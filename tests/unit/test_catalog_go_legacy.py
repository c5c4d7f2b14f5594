"""Go binaries built before Go 1.18 (real ones from trivy's corpus), the stdlib package, ldflags versions.

Expected packages are trivy's own expectations for these files (its parse_test.go), in purl form.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenant.catalog.gobinary import OLD_LAYOUT_ISSUE, GoBinaryCataloger, ldflags_version
from provenant.catalog.registry import default_plan
from provenant.digest import Digest
from provenant.layers.scan import scan_layer

DATA = Path(__file__).resolve().parent.parent / "data" / "catalog" / "go"
CAT = GoBinaryCataloger()

GO115 = {
    "pkg:golang/github.com/aquasecurity/test@%28devel%29",
    "pkg:golang/github.com/aquasecurity/go-pep440-version@v0.0.0-20210121094942-22b2f8951d46",
    "pkg:golang/github.com/aquasecurity/go-version@v0.0.0-20210121072130-637058cfe492",
    "pkg:golang/golang.org/x/xerrors@v0.0.0-20200804184101-5ec99f83aff1",
    "pkg:golang/stdlib@1.15.2",
}


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    return (data[i : i + size] for i in range(0, len(data), size))


@pytest.mark.parametrize("name", ["test.elf", "test.exe", "test.macho"])
@pytest.mark.parametrize("size", [1, 4093, 65536, 1 << 30])
def test_pre_118_binaries_in_every_format_and_chunking(name: str, size: int) -> None:
    data = (DATA / name).read_bytes()
    chunks = pieces(data, size) if size > 1 else pieces(data, 7)  # 1 byte would take minutes; 7 is odd enough
    parsed = CAT.sniff(name, chunks)
    assert parsed is not None
    assert parsed.issues == []
    assert {p.purl for p in parsed.packages} == GO115
    stdlib = next(p for p in parsed.packages if p.name == "stdlib")
    assert (stdlib.version, stdlib.license_expression) == ("go1.15.2", "BSD-3-Clause")
    assert stdlib.cpes == ["cpe:2.3:a:golang:go:1.15.2:-:*:*:*:*:*:*"]  # syft's shape
    assert all(p.metadata["go_version"] == "go1.15.2" for p in parsed.packages)


def test_truncated_before_the_string_headers_is_an_issue() -> None:
    data = (DATA / "test.elf").read_bytes()
    header = data.index(b"\xff Go buildinf:")
    parsed = CAT.sniff("cut", pieces(data[: header + 32], 4096))
    assert parsed is not None and parsed.packages == [] and parsed.issues == [OLD_LAYOUT_ISSUE]


def test_main_version_from_ldflags() -> None:
    parsed = CAT.parse("app", (DATA / "main-version-via-ldflags.elf").read_bytes())
    main = next(p for p in parsed.packages if p.name == "github.com/aquasecurity/test")
    assert (main.version, main.purl) == ("v1.0.0", "pkg:golang/github.com/aquasecurity/test@v1.0.0")
    assert main.metadata["version_from"] == "ldflags"
    assert {p.purl for p in parsed.packages} == {main.purl, "pkg:golang/stdlib@1.22.1"}


@pytest.mark.parametrize(
    ("ldflags", "expected"),
    [
        ("-w -X main.version=v1.0.0", "v1.0.0"),
        ("-s -X main.Version=2.3.4", "v2.3.4"),
        ("-X github.com/x/app/internal/build.GitTag=1.2.3-rc1", "v1.2.3-rc1"),
        ("-X github.com/other/lib.version=9.9.9", None),  # a dependency's variable is not ours
        ("-X main.commit=abc", None),
        ("", None),
    ],
)
def test_ldflags_version(ldflags: str, expected: str | None) -> None:
    assert ldflags_version(ldflags, "github.com/x/app") == expected


def _layer(files: dict[str, bytes]) -> tuple[bytes, str]:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for path, content in files.items():
            ti = tarfile.TarInfo(path)
            ti.size, ti.mode = len(content), 0o755
            t.addfile(ti, io.BytesIO(content))
    tar = buf.getvalue()
    return gzip.compress(tar, mtime=0), "sha256:" + hashlib.sha256(tar).hexdigest()


def test_layer_scan_reports_old_binaries_and_keeps_sniffer_issues() -> None:
    """Through the real scan plan: packages of the real binary; the issue of an unreadable one is kept."""
    data = (DATA / "test.elf").read_bytes()
    cut = data[: data.index(b"\xff Go buildinf:") + 32]
    blob, diff_id = _layer({"usr/local/bin/app": data, "usr/local/bin/cut": cut})
    scan = scan_layer(pieces(blob, 65536), digest=str(Digest.of(blob)), diff_id=diff_id, plan=default_plan())
    purls = {p.purl for c in scan.captured if c.path == "usr/local/bin/app" for p in c.parsed.packages}
    assert purls == GO115
    assert [(i.path, i.reason) for i in scan.issues] == [("usr/local/bin/cut", OLD_LAYOUT_ISSUE)]


def test_one_stream_feeds_the_sniffer_and_the_classifiers() -> None:
    """A Go binary at a path the binary classifiers want (the toolchain's ``go``): one pass, both catalogers."""
    data = (DATA / "main-version-via-ldflags.elf").read_bytes()
    blob, diff_id = _layer({"usr/local/go/bin/go": data})
    scan = scan_layer(pieces(blob, 65536), digest=str(Digest.of(blob)), diff_id=diff_id, plan=default_plan())
    found = {(c.cataloger, p.purl) for c in scan.captured for p in c.parsed.packages}
    assert found == {
        ("go-binary", "pkg:golang/github.com/aquasecurity/test@v1.0.0"),
        ("go-binary", "pkg:golang/stdlib@1.22.1"),
        ("binary", "pkg:generic/go@1.22.1"),
    }
    assert scan.issues == []


def test_remembered_strings_are_bounded() -> None:
    """A forged old-layout binary full of version strings and module-info sentinels keeps a bounded table."""
    from provenant.catalog.golegacy import _MAX_CANDIDATES, _MODINFO_START, LegacyResolver

    resolver = LegacyResolver()
    chunk = (b"go1.2.3\x00" * 8192) + (_MODINFO_START + b"x" * 100) * 8
    for i in range(20):
        resolver.feed(i * len(chunk), chunk)
    assert len(resolver.versions) == _MAX_CANDIDATES
    assert len(resolver.modinfos) <= 4
    assert sum(len(v) for v in resolver.modinfos.values()) <= 4 * (4 << 20)
