"""The Go binary cataloger against binaries built by the real Go toolchain, streamed in pieces."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenant.catalog.base import ParsedFile
from provenant.catalog.gobinary import MAGIC, OLD_LAYOUT_ISSUE, GoBinaryCataloger, parse_modinfo
from tests.catalogdata import gobins
from tests.catalogdata._run import ToolMissing
from tests.purls import assert_same_purl

CAT = GoBinaryCataloger()


@pytest.fixture(scope="session")
def go_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        return gobins.build_app(tmp_path_factory.mktemp("go"))
    except ToolMissing as exc:
        pytest.skip(f"Go test binaries need the Go toolchain (golang-go) and git: {exc}")


@pytest.fixture(scope="session")
def go_binary(go_build: Path) -> bytes:
    return go_build.read_bytes()


@pytest.fixture(scope="session")
def expected(go_build: Path) -> gobins.GoVersionM:
    return gobins.go_version_m(go_build)


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    return (data[i : i + size] for i in range(0, len(data), size))


def random_pieces(data: bytes, seed: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    pos = 0
    while pos < len(data):
        n = rng.choice((1, 2, 3, 13, 14, 15, 31, 33, 4096, 70000))
        yield data[pos : pos + n]
        pos += n


def summary(parsed: ParsedFile | None) -> list[tuple[str, str, str | None, dict[str, str]]]:
    assert parsed is not None
    return [(p.name, p.version, p.purl, p.metadata) for p in parsed.packages]


def test_packages_match_go_version_m(go_binary: bytes, expected: gobins.GoVersionM) -> None:
    parsed = CAT.parse("usr/local/bin/app", go_binary)
    assert parsed.issues == []
    assert expected.main is not None
    by_name = {p.name: p for p in parsed.packages}
    assert list(by_name) == [expected.main.path] + [d.path for d in expected.deps] + ["stdlib"]
    stdlib = by_name["stdlib"]
    release = expected.go_version.split(" ")[0]
    assert (stdlib.version, stdlib.purl) == (release, f"pkg:golang/stdlib@{release.removeprefix('go')}")
    main = by_name[expected.main.path]
    assert main.version == expected.main.version == "(devel)"
    assert_same_purl(main.purl, "pkg:golang/example.com/provtest/app@%28devel%29")
    assert main.metadata == {
        "go_version": expected.go_version,
        "goos": expected.settings["GOOS"],
        "goarch": expected.settings["GOARCH"],
        "vcs_revision": expected.settings["vcs.revision"],
        "vcs_time": expected.settings["vcs.time"],
        "vcs_modified": "false",
        "main_package": expected.path,
    }
    for dep in expected.deps:
        pkg = by_name[dep.path]
        assert pkg.type == "golang"
        assert pkg.found_by == "go-binary"
        assert pkg.version == dep.version
        assert_same_purl(pkg.purl, f"pkg:golang/{dep.path}@{dep.version}")
        assert pkg.metadata.get("h1_digest", "") == dep.sum
        assert pkg.metadata["main_module"] == expected.main.path
        assert pkg.metadata["go_version"] == expected.go_version
        if dep.replace is None:
            assert "replaced_by" not in pkg.metadata
        else:
            assert pkg.metadata["replaced_by"] == f"{dep.replace.path} {dep.replace.version}"
            assert pkg.metadata.get("replaced_by_h1_digest", "") == dep.replace.sum
    # The fixture really exercises each kind of dependency line.
    assert {(d.sum != "", d.replace is not None) for d in expected.deps} == {(True, False), (False, True)}
    assert any(d.replace and d.replace.sum for d in expected.deps)


def test_quoted_build_setting(go_binary: bytes) -> None:
    raw = go_binary[go_binary.index(b"path\texample.com") : go_binary.index(b"vcs.modified")]
    assert b'-ldflags="-s -w"' in raw  # Go quotes the value because it holds a space
    assert parse_modinfo(raw.decode()).settings["-ldflags"] == "-s -w"


@pytest.mark.parametrize("size", [1, 7, 64 * 1024])
def test_streamed_in_fixed_pieces(go_binary: bytes, size: int) -> None:
    assert summary(CAT.sniff("app", pieces(go_binary, size))) == summary(CAT.parse("app", go_binary))


@pytest.mark.parametrize("seed", range(5))
def test_streamed_in_random_pieces(go_binary: bytes, seed: int) -> None:
    assert summary(CAT.sniff("app", random_pieces(go_binary, seed))) == summary(CAT.parse("app", go_binary))


def test_boundary_at_every_offset_of_the_header(go_binary: bytes) -> None:
    start = go_binary.index(MAGIC)
    whole = summary(CAT.parse("app", go_binary))
    for cut in range(start - 1, start + 80):
        assert summary(CAT.sniff("app", [go_binary[:cut], go_binary[cut:]])) == whole, cut


def test_stray_magic_before_the_real_header_is_skipped(go_binary: bytes) -> None:
    start = go_binary.index(MAGIC)
    at = 4096  # 16-aligned; inserting 64 bytes keeps the real header aligned too
    fake = (MAGIC + b"\x07\x02" + bytes(16)) + (MAGIC + b"\x08\x00" + bytes(16))  # bad pointer size; old layout
    assert at < start
    data = go_binary[:at] + fake + bytes(64 - len(fake)) + go_binary[at:]
    parsed = CAT.sniff("app", pieces(data, 1000))
    assert summary(parsed) == summary(CAT.parse("app", go_binary))
    assert parsed is not None
    assert parsed.issues == []


def test_unaligned_magic_is_not_build_info(go_binary: bytes) -> None:
    start = go_binary.index(MAGIC)
    shifted = go_binary[:start] + b"\0" + go_binary[start:]
    assert CAT.sniff("app", [shifted]) is None


def test_old_layout_is_an_issue() -> None:
    data = b"\x7fELF" + bytes(4092) + MAGIC + b"\x08\x00" + (1 << 20).to_bytes(8, "little") * 2 + bytes(4096)
    assert CAT.sniff("old", pieces(data, 100)) == ParsedFile(issues=[OLD_LAYOUT_ISSUE])


def test_truncated_build_info_is_not_a_package(go_binary: bytes) -> None:
    start = go_binary.index(MAGIC)
    assert CAT.sniff("app", [go_binary[: start + 40]]) is None


def consumed(data: bytes) -> tuple[ParsedFile | None, int]:
    """Sniff ``data`` in pieces and count how many pieces were pulled from the stream."""
    pulled = 0

    def gen() -> Iterator[bytes]:
        nonlocal pulled
        for p in pieces(data, 4096):
            pulled += 1
            yield p

    return CAT.sniff("x", gen()), pulled


def test_not_go_binaries_are_none_and_fully_read(go_binary: bytes) -> None:
    ls = Path("/bin/ls").read_bytes()
    assert consumed(ls) == (None, -(-len(ls) // 4096))
    script = b"#!/bin/sh\n" + b"echo hi\n" * 2000
    assert consumed(script) == (None, -(-len(script) // 4096))
    parsed, pulled = consumed(go_binary)
    assert parsed is not None
    assert pulled == -(-len(go_binary) // 4096)  # the walker reads the next entry after this one


def test_modinfo_without_sentinels_and_odd_lines() -> None:
    info = parse_modinfo(
        "path\tx.io/cmd/tool\nmod\tx.io\tv1.0.0\th1:abc=\n\ndep\ty.io/z\tv0.1.0\n=>\t/src/z\t\n"
        'build\t"-tags with space"=netgo\nbuild\tDefaultGODEBUG="a=1,b=2"\ngarbage\n'
    )
    assert info.path == "x.io/cmd/tool"
    assert info.main is not None
    assert (info.main.path, info.main.version, info.main.sum) == ("x.io", "v1.0.0", "h1:abc=")
    assert [(d.path, d.version, d.replace.path if d.replace else None) for d in info.deps] == [
        ("y.io/z", "v0.1.0", "/src/z")
    ]
    assert info.settings == {"-tags with space": "netgo", "DefaultGODEBUG": "a=1,b=2"}


def test_purl_of_a_module_without_slash() -> None:
    modinfo = "path\trsc.io\nmod\trsc.io\tv1.0.0\t\n"
    data = (
        b"\x7fELF"
        + bytes(12)
        + MAGIC
        + b"\x08\x02"
        + bytes(16)
        + b"\x08go1.21.0"
        + bytes([len(modinfo)])
        + modinfo.encode()
    )
    parsed = CAT.parse("x", data)
    assert [p.purl for p in parsed.packages] == ["pkg:golang/rsc.io@v1.0.0", "pkg:golang/stdlib@1.21.0"]


def test_forged_headers_claiming_huge_strings_are_rejected_at_once(go_binary: bytes) -> None:
    import time

    from tests.hostile.test_layers import forged_go_binary

    # ~170k aligned headers each claiming a 4 MiB version string, then the real binary: every forged
    # one used to be buffered to 4 MiB and decoded before its "go" prefix was checked (minutes).
    forged = forged_go_binary(8 << 20)
    start = time.monotonic()
    parsed = CAT.sniff("app", pieces(forged + bytes(-len(forged) % 16) + go_binary, 65536))
    assert time.monotonic() - start < 10
    assert summary(parsed) == summary(CAT.parse("app", go_binary))


def test_version_string_must_look_like_one(go_binary: bytes) -> None:
    start = go_binary.index(MAGIC)
    # A plausible-length version that is not "go..."/"devel...": rejected, the scan goes on.
    fake = MAGIC + b"\x08\x02" + bytes(16) + b"\x05hello\x00" + bytes(64 - 32 - 7)
    assert len(fake) == 64
    data = go_binary[:4096] + fake + go_binary[4096:]
    assert start > 4096
    assert summary(CAT.sniff("app", pieces(data, 999))) == summary(CAT.parse("app", go_binary))
