"""The streaming tar walk, layer scan, whiteouts, symlinks, hardlinks and attribution."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import tarfile
from collections.abc import Iterable, Iterator
from typing import ClassVar

import pytest
import zstandard

from provenant.catalog.base import Cataloger, CatalogError, ParsedFile, StreamParser
from provenant.digest import Digest
from provenant.errors import DigestMismatchError
from provenant.layers.decompress import LayerFormatError
from provenant.layers.scan import MIN_SNIFF_SIZE, LayerScan, ScanPlan, scan_layer
from provenant.layers.tarwalk import TarWalker
from provenant.layers.view import ImageView, first_always_present, package_key
from provenant.limits import Limits
from provenant.sbom.model import Package

Item = tuple[str, str, bytes | str]  # (path, kind, content or link target); kind: file, dir, sym, hard, exe


def make_tar(items: Iterable[Item], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for path, kind, content in items:
            ti = tarfile.TarInfo(path)
            if kind in ("file", "exe"):
                assert isinstance(content, bytes)
                ti.size = len(content)
                ti.mode = 0o755 if kind == "exe" else 0o644
                t.addfile(ti, io.BytesIO(content))
                continue
            if kind == "dir":
                ti.type = tarfile.DIRTYPE
            elif kind == "sym":
                ti.type, ti.linkname = tarfile.SYMTYPE, str(content)
            elif kind == "hard":
                ti.type, ti.linkname = tarfile.LNKTYPE, str(content)
            t.addfile(ti)
    return buf.getvalue()


class ListCataloger(Cataloger):
    """Test cataloger: each line ``name version`` of a ``pkgs.txt`` file is a package."""

    name: ClassVar[str] = "list"
    patterns: ClassVar[tuple[str, ...]] = ("**/pkgs.txt", "etc/link-to-list")
    max_size: ClassVar[int] = 1000

    def parse(self, path: str, data: bytes) -> ParsedFile:
        if data.startswith(b"CORRUPT"):
            raise CatalogError("not a package list")
        pkgs = []
        for line in data.decode().splitlines():
            name, version = line.split()
            pkgs.append(Package(name=name, version=version, type="generic", found_by=self.name))
        return ParsedFile(packages=pkgs)


class MagicSniffer(Cataloger):
    """Test sniffer: executables containing ``MAGIC:<name>`` anywhere (across chunk boundaries)."""

    name: ClassVar[str] = "magic"
    sniffs_executables: ClassVar[bool] = True

    def sniff(self, path: str, chunks: Iterable[bytes]) -> ParsedFile | None:
        data = b"".join(chunks)  # fine for a test: the real sniffer never joins
        i = data.find(b"MAGIC:")
        if i < 0:
            return None
        name = data[i + 6 : i + 12].decode()
        return ParsedFile(packages=[Package(name=name, version="1", type="generic", found_by=self.name)])


PLAN = ScanPlan((ListCataloger(), MagicSniffer()), "test")


def _chunks(data: bytes, size: int = 4096) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def scan(tar: bytes, compress: str = "gzip", chunk: int = 4096) -> LayerScan:
    blob = {"gzip": lambda b: gzip.compress(b, mtime=0), "zstd": zstandard.ZstdCompressor().compress, "none": bytes}[
        compress
    ](tar)
    diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
    return scan_layer(_chunks(blob, chunk), digest=str(Digest.of(blob)), diff_id=diff_id, plan=PLAN)


@pytest.mark.parametrize("compress", ["gzip", "zstd", "none"])
@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
def test_walk_matches_tarfile(compress: str, fmt: int) -> None:
    long = "usr/" + "/".join(["deep" * 10] * 5) + "/pkgs.txt"
    items: list[Item] = [
        ("usr", "dir", b""),
        ("usr/pkgs.txt", "file", b"a 1\nb 2\n"),
        ("./etc/os-release", "file", b"ID=test\n"),
        ("etc/link", "sym", "../usr/pkgs.txt"),
        ("etc/hard", "hard", "usr/pkgs.txt"),
        ("bin/tool", "exe", b"\x7fELF" + b"x" * 3000 + b"MAGIC:gotool" + b"y" * 10),
        ("big", "file", bytes(range(256)) * 400),
    ]
    if fmt != tarfile.USTAR_FORMAT:
        items.append((long, "file", b"c 3\n"))
    tar = make_tar(items, fmt)
    with tarfile.open(fileobj=io.BytesIO(tar)) as reference:
        expected = [(m.name.removeprefix("./").rstrip("/"), m.size if m.isfile() else 0) for m in reference]
    for chunk in (1, 511, 512, 4096, 1 << 20):
        got = [(e.path, e.size) for e in TarWalker(_chunks(tar, chunk))]
        assert got == expected
    result = scan(tar, compress, chunk=777)
    assert result.uncompressed_size == len(tar)
    names = {(c.cataloger, c.path): [p.name for p in c.parsed.packages] for c in result.captured}
    assert names[("list", "usr/pkgs.txt")] == ["a", "b"]
    assert names[("magic", "bin/tool")] == ["gotool"]
    if fmt != tarfile.USTAR_FORMAT:
        assert names[("list", long)] == ["c"]


def test_diff_id_mismatch_is_an_error() -> None:
    tar = make_tar([("a", "file", b"x")])
    blob = gzip.compress(tar)
    wrong = "sha256:" + "0" * 64
    actual = "sha256:" + hashlib.sha256(tar).hexdigest()
    with pytest.raises(DigestMismatchError) as caught:
        scan_layer(iter([blob]), digest=str(Digest.of(blob)), diff_id=wrong, plan=PLAN)
    assert (caught.value.expected, caught.value.got) == (wrong, actual)
    assert caught.value.message == (
        f"layer {Digest.of(blob)} (uncompressed): content does not match its digest: expected {wrong}, got {actual}"
    )


def test_truncated_and_corrupt_streams() -> None:
    tar = make_tar([("a", "file", b"x" * 5000)])
    blob = gzip.compress(tar)
    with pytest.raises(LayerFormatError) as caught:
        scan_layer(iter([blob[: len(blob) // 2]]), digest="sha256:" + "1" * 64, diff_id="sha256:" + "2" * 64, plan=PLAN)
    assert caught.value.message == f"layer sha256:{'1' * 64}: gzip stream ended early (truncated layer)"
    with pytest.raises(LayerFormatError):
        list(TarWalker(iter([b"garbage!" * 64])))
    raw = make_tar([("a", "file", b"x")])
    bad_header = raw[:148] + b"zzzzzzzz" + raw[156:257] + b"xxxxx" + raw[262:]  # no magic: the checksum is read
    with pytest.raises(LayerFormatError) as caught:
        scan_layer(iter([bad_header]), digest="sha256:" + "1" * 64, diff_id="sha256:" + "2" * 64, plan=PLAN)
    assert caught.value.message.startswith(f"layer sha256:{'1' * 64}: invalid tar header: checksum field")
    assert caught.value.hint == "the layer is corrupt or forged"  # the tar walker gives none of its own


def test_corrupt_file_and_size_cap_are_issues_not_crashes() -> None:
    tar = make_tar(
        [("a/pkgs.txt", "file", b"CORRUPT"), ("b/pkgs.txt", "file", b"x 1\n" * 400), ("c/pkgs.txt", "file", b"ok 1\n")]
    )
    result = scan(tar)
    reasons = {(i.path, i.reason) for i in result.issues}
    assert ("a/pkgs.txt", "not a package list") in reasons
    assert any(p == "b/pkgs.txt" and "size cap" in r for p, r in reasons)
    assert [c.path for c in result.captured] == ["c/pkgs.txt"]


def test_unsafe_names_are_not_used() -> None:
    tar = make_tar([("../../etc/pkgs.txt", "file", b"evil 1\n"), ("ok/pkgs.txt", "file", b"good 1\n")])
    result = scan(tar)
    assert [c.path for c in result.captured] == ["ok/pkgs.txt"]
    assert any("leaves the root" in i.reason for i in result.issues)


def test_cache_round_trip() -> None:
    tar = make_tar(
        [
            ("usr/pkgs.txt", "file", b"a 1\n"),
            ("x", "sym", "/usr"),
            ("etc/pkgs.txt", "hard", "usr/pkgs.txt"),
            ("etc/.wh.gone", "file", b""),
            ("opt/.wh..wh..opq", "file", b""),
            ("bad/pkgs.txt", "file", b"CORRUPT"),
        ]
    )
    result = scan(tar)
    assert result.whiteouts and result.opaque_dirs and result.issues  # each part below is really there
    again = LayerScan.from_json(result.to_json())
    assert (again.digest, again.diff_id, again.uncompressed_size) == (
        result.digest,
        result.diff_id,
        result.uncompressed_size,
    )
    assert (again.rows, again.whiteouts, again.opaque_dirs) == (result.rows, result.whiteouts, result.opaque_dirs)
    assert again.issues == result.issues
    assert [(c.path, c.cataloger, c.parsed) for c in again.captured] == [
        (c.path, c.cataloger, c.parsed) for c in result.captured
    ]
    # The hardlink's parse is written once and shared again after loading.
    assert [c.path for c in again.captured] == ["usr/pkgs.txt", "etc/pkgs.txt"]
    assert again.captured[0].parsed is again.captured[1].parsed


@pytest.mark.parametrize(
    ("captured", "says"),
    [
        ([{"path": "a", "cataloger": "list", "same_as": 0}], "captured file refers to entry 0, not an earlier one"),
        ([{"path": "a", "cataloger": "list", "same_as": -1}], "captured file refers to entry -1, not an earlier one"),
        ([{"path": "a", "cataloger": "list"}], "captured file without a parse"),
    ],
)
def test_cache_entry_that_does_not_hold_together_is_refused(captured: list[object], says: str) -> None:
    entry = {
        "digest": "sha256:" + "1" * 64,
        "diff_id": "sha256:" + "2" * 64,
        "uncompressed_size": 0,
        "rows": [],
        "whiteouts": [],
        "opaque_dirs": [],
        "captured": captured,
        "issues": [],
    }
    with pytest.raises(ValueError, match=f"^cache entry: {says}$"):
        LayerScan.from_json(json.dumps(entry).encode())


def _view(*layers: list[Item]) -> ImageView:
    return ImageView([scan(make_tar(items)) for items in layers])


def test_whiteouts_opaque_dirs_and_attribution() -> None:
    view = _view(
        [
            ("var/db/pkgs.txt", "file", b"base 1\nlib 1\ngone 1\n"),
            ("usr/share/doc/gone/README", "file", b"x"),
            ("usr/share/doc/keep/README", "file", b"x"),
            ("opt/app/old.txt", "file", b"x"),
        ],
        [("var/db/pkgs.txt", "file", b"base 1\nlib 2\ngone 1\nextra 1\n")],
        [
            ("var/db/pkgs.txt", "file", b"base 1\nlib 2\nextra 1\n"),
            ("usr/share/doc/.wh.gone", "file", b""),
            ("opt/app/.wh..wh..opq", "file", b""),
            ("opt/app/new.txt", "file", b"y"),
        ],
        [("etc/motd", "file", b"hello")],
    )
    entries = view.entries
    assert "usr/share/doc/gone/README" not in entries and "usr/share/doc/gone" not in entries
    assert "usr/share/doc/keep/README" in entries
    assert "opt/app/old.txt" not in entries and entries["opt/app/new.txt"].layer_index == 2
    files = view.visible_files("list")
    assert [(f.path, f.layer_index) for f in files] == [("var/db/pkgs.txt", 2)]
    per_layer = view.keys_per_layer("list")

    def intro(name: str, version: str) -> int | None:
        return first_always_present(("generic", name, version, ""), per_layer)

    assert intro("base", "1") == 0  # rewritten databases do not move attribution
    assert intro("lib", "2") == 1
    assert intro("extra", "1") == 1
    assert intro("gone", "1") is None  # removed in layer 2


def test_file_replacing_directory_and_symlink_resolution() -> None:
    view = _view(
        [
            ("usr/lib/os/pkgs.txt", "file", b"a 1\n"),
            ("etc/link-to-list", "sym", "../usr/lib/os/pkgs.txt"),
            ("loop1", "sym", "loop2"),
            ("loop2", "sym", "loop1"),
            ("d/sub/f", "file", b"x"),
            ("lib", "sym", "usr/lib"),
        ],
        [("d", "file", b"now a file")],
    )
    assert view.resolve("etc/link-to-list") == "usr/lib/os/pkgs.txt"
    assert view.resolve("lib/os/pkgs.txt") == "usr/lib/os/pkgs.txt"
    assert view.resolve("loop1") is None
    assert "d/sub/f" not in view.entries
    linked = view.symlinked_files("list", ListCataloger().matches)
    assert [(f.path, [p.name for p in f.parsed.packages]) for f in linked] == [("etc/link-to-list", ["a"])]


def test_hardlink_to_wanted_file() -> None:
    result = scan(make_tar([("a/pkgs.txt", "file", b"a 1\n"), ("b/pkgs.txt", "hard", "a/pkgs.txt")]))
    assert sorted(c.path for c in result.captured) == ["a/pkgs.txt", "b/pkgs.txt"]


def test_package_key() -> None:
    p = Package(name="x", version="1", type="deb", arch="amd64", found_by="t")
    assert package_key(p) == ("deb", "x", "1", "amd64")


class EarlyStopSniffer(Cataloger):
    """Reads only the first chunk of every executable: the walker must still skip the rest."""

    name: ClassVar[str] = "early"
    sniffs_executables: ClassVar[bool] = True

    def sniff(self, path: str, chunks: Iterable[bytes]) -> ParsedFile | None:
        next(iter(chunks), None)
        return None


def test_sniffer_that_stops_early_keeps_the_walk_aligned() -> None:
    tar = make_tar([("bin/a", "exe", b"\x7fELF" + b"z" * 100_000), ("x/pkgs.txt", "file", b"after 1\n")])
    plan = ScanPlan((ListCataloger(), EarlyStopSniffer()), "test")
    blob = gzip.compress(tar)
    diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
    result = scan_layer(_chunks(blob, 1000), digest=str(Digest.of(blob)), diff_id=diff_id, plan=plan)
    assert [c.path for c in result.captured] == ["x/pkgs.txt"]


def test_a_directory_entry_over_a_directory_keeps_what_is_below() -> None:
    view = _view([("d", "dir", b""), ("d/f", "file", b"x")], [("d", "dir", b""), ("d/g", "file", b"y")])
    assert sorted(view.entries) == ["d", "d/f", "d/g"]
    assert (view.entries["d"].layer_index, view.entries["d/f"].layer_index) == (1, 0)


def test_an_opaque_directory_hides_what_is_below_but_stays() -> None:
    view = _view(
        [("opt/app", "dir", b""), ("opt/app/old", "file", b"x"), ("opt/keep", "file", b"k")],
        [("opt/app/.wh..wh..opq", "file", b"")],
    )
    assert sorted(view.entries) == ["opt/app", "opt/keep"]
    assert view.entries["opt/app"].layer_index == 0


def test_symlink_resolution_rules() -> None:
    chain = [(f"l{i}", "sym", f"l{i + 1}") for i in range(40)]
    longer = [(f"m{i}", "sym", f"m{i + 1}") for i in range(41)]
    view = _view(
        [
            ("usr/lib/os/pkgs.txt", "file", b"a 1\n"),
            ("a/b/abs", "sym", "/usr/lib/os"),
            ("a/b/rel", "sym", "../../usr/lib"),
            ("dangling", "sym", "nowhere"),
            ("l40", "file", b"end"),
            ("m41", "file", b"end"),
            *chain,
            *longer,
        ]
    )
    assert view.resolve("usr/./lib/os/pkgs.txt") == "usr/lib/os/pkgs.txt"
    assert view.resolve("/usr/lib/os/../os/pkgs.txt") == "usr/lib/os/pkgs.txt"
    assert view.resolve("a/b/abs/pkgs.txt") == "usr/lib/os/pkgs.txt"
    assert view.resolve("a/b/rel/os/pkgs.txt") == "usr/lib/os/pkgs.txt"
    assert view.resolve("dangling") is None
    assert view.resolve("usr/lib/missing") is None
    assert view.resolve("l0") == "l40"  # 40 hops are followed
    assert view.resolve("m0") is None  # the 41st is one too many


def test_visible_files_are_the_top_copies_sorted_by_path() -> None:
    single = _view(
        [
            ("bin/tool", "exe", b"\x7fELF" + b"x" * 3000 + b"MAGIC:gotool" + b"y" * 10),
            ("z/pkgs.txt", "file", b"z 1\n"),
            ("a/pkgs.txt", "file", b"a 1\n"),
        ]
    )
    assert [(f.path, f.layer_index) for f in single.visible_files("list")] == [("a/pkgs.txt", 0), ("z/pkgs.txt", 0)]
    assert [f.path for f in single.visible_files("magic")] == ["bin/tool"]
    assert single.keys_per_layer("list") == [{("generic", "a", "1", ""), ("generic", "z", "1", "")}]
    assert single.keys_per_layer("magic") == [{("generic", "gotool", "1", "")}]
    assert ImageView([]).visible_files("list") == [] and ImageView([]).keys_per_layer("list") == []


def test_symlinked_files_only_when_the_target_was_parsed() -> None:
    view = _view(
        [("usr/lib/os/pkgs.txt", "file", b"a 1\n"), ("usr/lib/os/other", "file", b"x")],
        [("etc/link-to-list", "sym", "../usr/lib/os/other")],
    )
    assert view.symlinked_files("list", ListCataloger().matches) == []
    moved = _view(
        [("usr/lib/os/pkgs.txt", "file", b"a 1\n")],
        [("etc/link-to-list", "sym", "../usr/lib/os/pkgs.txt")],
    )
    [f] = moved.symlinked_files("list", ListCataloger().matches)
    assert (f.path, f.layer_index, [p.name for p in f.parsed.packages]) == ("etc/link-to-list", 0, ["a"])


def test_first_always_present_edges() -> None:
    key = ("generic", "a", "1", "")
    assert first_always_present(key, [{key}]) == 0
    assert first_always_present(key, [set()]) is None
    assert first_always_present(key, []) is None
    assert first_always_present(key, [{key}, set(), {key}, {key}]) == 2
    assert first_always_present(key, [{key}, {key}, set()]) is None


class BuggySniffer(Cataloger):
    """Reads part of an executable, then fails as a cataloger bug would (not with CatalogError)."""

    name: ClassVar[str] = "buggy"
    sniffs_executables: ClassVar[bool] = True

    def sniff(self, path: str, chunks: Iterable[bytes]) -> ParsedFile | None:
        next(iter(chunks), b"")
        raise IndexError("index out of range")


class BuggyCloser(Cataloger):
    """A streaming cataloger whose parser fails when closed, for files named ``*.odd``."""

    name: ClassVar[str] = "closer"
    patterns: ClassVar[tuple[str, ...]] = ("**/*.odd",)
    streams: ClassVar[bool] = True

    def stream(self, path: str, size: int) -> StreamParser | None:
        return _FailingClose()


class _FailingClose:
    def feed(self, chunk: bytes) -> None:
        pass

    def close(self) -> ParsedFile | None:
        raise KeyError("missing")


def _scan_with(plan: ScanPlan, tar: bytes, chunk: int = 1000) -> LayerScan:
    blob = gzip.compress(tar)
    diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
    return scan_layer(_chunks(blob, chunk), digest=str(Digest.of(blob)), diff_id=diff_id, plan=plan)


def test_a_sniffer_bug_is_an_issue_and_the_walk_goes_on() -> None:
    tar = make_tar(
        [
            ("bin/a", "exe", b"\x7fELF" + b"z" * 50_000),
            ("x/pkgs.txt", "file", b"after 1\n"),
            ("bin/b", "exe", b"\x7fELF" + b"y" * 5000),
        ]
    )
    result = _scan_with(ScanPlan((ListCataloger(), BuggySniffer()), "test"), tar)
    assert [c.path for c in result.captured] == ["x/pkgs.txt"]
    assert [(i.path, i.cataloger, i.reason) for i in result.issues] == [
        ("bin/a", "buggy", "buggy could not parse it (IndexError: index out of range)"),
        ("bin/b", "buggy", "buggy could not parse it (IndexError: index out of range)"),
    ]


def test_a_stream_parser_failing_on_close_is_an_issue() -> None:
    tar = make_tar([("data/a.odd", "file", b"q" * 3000), ("x/pkgs.txt", "file", b"after 1\n")])
    result = _scan_with(ScanPlan((ListCataloger(), BuggyCloser()), "test"), tar)
    assert [c.path for c in result.captured] == ["x/pkgs.txt"]
    reasons = [(i.path, i.reason) for i in result.issues]
    assert reasons == [("data/a.odd", "closer could not parse it (KeyError: 'missing')")]


@pytest.mark.parametrize("sniffer", [MagicSniffer(), BuggySniffer(), EarlyStopSniffer()])
def test_a_layer_failing_under_a_sniffer_is_the_layer_error(sniffer: Cataloger) -> None:
    """The layer's own failure while a sniffer reads (here: a truncated stream) is never one file's issue."""
    noise = random.Random(7).randbytes(200_000)  # incompressible: the cut falls inside the executable
    tar = make_tar([("bin/a", "exe", b"\x7fELF" + noise), ("x/pkgs.txt", "file", b"after 1\n")])
    blob = gzip.compress(tar)
    diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
    plan = ScanPlan((ListCataloger(), sniffer), "test")
    with pytest.raises(LayerFormatError, match=r"gzip stream ended early \(truncated layer\)$"):
        scan_layer(_chunks(blob[:100_000], 1000), digest=str(Digest.of(blob)), diff_id=diff_id, plan=plan)


# Every way a cataloger's trouble becomes a scan issue, each field checked (which file, which layer, who said it).


class TroubledList(Cataloger):
    """``*.list`` files: CORRUPT is its own error, BUG a cataloger bug, WARN a parse with a problem."""

    name: ClassVar[str] = "troubled"
    patterns: ClassVar[tuple[str, ...]] = ("**/*.list",)

    def parse(self, path: str, data: bytes) -> ParsedFile:
        if data.startswith(b"CORRUPT"):
            raise CatalogError(f"{path} is corrupt")
        if data.startswith(b"BUG"):
            raise ValueError("bad line 1")
        pkg = Package(name=path.rsplit("/", 1)[-1], version="1", type="generic", found_by=self.name)
        return ParsedFile(packages=[pkg], issues=["odd line 2"] if data.startswith(b"WARN") else [])


class _Recorder:
    """A stream parser keeping what it was fed; fails where the content says so."""

    def __init__(self, owner: str, path: str, size: int) -> None:
        self.owner, self.path, self.size, self.data = owner, path, size, b""

    def feed(self, chunk: bytes) -> None:
        self.data += chunk
        if self.owner == "first" and b"FEEDBUG" in self.data:
            raise RuntimeError("lost track")

    def close(self) -> ParsedFile | None:
        if self.owner == "first" and b"CLOSECE" in self.data:
            raise CatalogError("no end marker")
        if self.owner == "first" and b"CLOSEBUG" in self.data:
            raise KeyError("end")
        pkg = Package(name=self.path, version=f"{self.size}-{len(self.data)}", type="generic", found_by=self.owner)
        notes = ["a note"] if self.owner == "second" and b"NOTE" in self.data else []
        return ParsedFile(packages=[pkg], issues=notes)


class FirstStream(Cataloger):
    name: ClassVar[str] = "first"
    patterns: ClassVar[tuple[str, ...]] = ("**/*.odd",)
    streams: ClassVar[bool] = True

    def stream(self, path: str, size: int) -> StreamParser | None:
        return _Recorder(self.name, path, size)


class SecondStream(FirstStream):
    name: ClassVar[str] = "second"


class TroubledSniffer(Cataloger):
    """Executables: SNIFFCE is its own error, SNIFFBUG a bug naming the file."""

    name: ClassVar[str] = "sniffer"
    sniffs_executables: ClassVar[bool] = True

    def sniff(self, path: str, chunks: Iterable[bytes]) -> ParsedFile | None:
        data = b"".join(chunks)
        if b"SNIFFCE" in data:
            raise CatalogError("truncated build info")
        if b"SNIFFBUG" in data:
            raise KeyError(path)
        return None


def test_every_trouble_is_an_issue_naming_file_layer_and_cataloger() -> None:
    tar = make_tar(
        [
            ("a/x.list", "file", b"CORRUPT"),
            ("b/y.list", "file", b"BUG"),
            ("c/z.list", "file", b"WARN"),
            ("d/feed.odd", "file", b"FEEDBUG" + b"." * 3_000_000),  # many chunks after the failing one
            ("d/close.odd", "file", b"CLOSECE" + b"." * 10),
            ("d/bug.odd", "file", b"CLOSEBUG NOTE"),
            ("bin/ce", "exe", b"\x7fELF SNIFFCE" + b"." * 2000),
            ("bin/bug", "exe", b"\x7fELF SNIFFBUG" + b"." * 2000),
            ("e/last.list", "file", b"ok"),
        ]
    )
    plan = ScanPlan((TroubledList(), FirstStream(), SecondStream(), TroubledSniffer()), "test")
    result = _scan_with(plan, tar, chunk=700)
    assert [(i.path, i.cataloger, i.layer_digest, i.reason) for i in result.issues] == [
        ("a/x.list", "troubled", result.digest, "a/x.list is corrupt"),
        ("b/y.list", "troubled", result.digest, "troubled could not parse it (ValueError: bad line 1)"),
        ("c/z.list", "troubled", result.digest, "odd line 2"),
        ("d/feed.odd", "first", result.digest, "first could not read it"),
        ("d/close.odd", "first", result.digest, "no end marker"),
        ("d/bug.odd", "first", result.digest, "first could not parse it (KeyError: 'end')"),
        ("d/bug.odd", "second", result.digest, "a note"),
        ("bin/ce", "sniffer", result.digest, "truncated build info"),
        ("bin/bug", "sniffer", result.digest, "sniffer could not parse it (KeyError: 'bin/bug')"),
    ]
    # Whatever failed, the other parsers of the same file and every later file were still read, in full.
    assert [(c.path, c.cataloger, [p.version for p in c.parsed.packages]) for c in result.captured] == [
        ("c/z.list", "troubled", ["1"]),
        ("d/feed.odd", "second", ["3000007-3000007"]),
        ("d/close.odd", "second", ["17-17"]),
        ("d/bug.odd", "second", ["13-13"]),
        ("e/last.list", "troubled", ["1"]),
    ]


def test_cache_entry_nested_too_deep_names_itself() -> None:
    """The fallback reader of entries with non-UTF-8 names keeps the depth limit, and says what it read."""
    deep = b'{"digest": "sha256:\\udce9", "rows": ' + b"[" * 300 + b"]" * 300 + b"}"
    with pytest.raises(ValueError, match=r"^layer cache entry: over the json-depth limit"):
        LayerScan.from_json(deep)


# What the walk hands to whom, at the edges of its rules.


def _padded(head: bytes, size: int) -> bytes:
    return head + b"." * (size - len(head))


def test_only_executables_of_sniffable_size_are_sniffed() -> None:
    tar = make_tar(
        [
            ("bin/small", "exe", _padded(b"MAGIC:small1", MIN_SNIFF_SIZE - 1)),
            ("bin/exact", "exe", _padded(b"MAGIC:exact1", MIN_SNIFF_SIZE)),
            ("lib/plain", "file", _padded(b"MAGIC:plain1", 4 * MIN_SNIFF_SIZE)),  # not executable
        ]
    )
    result = scan(tar)
    assert [(c.path, [p.name for p in c.parsed.packages]) for c in result.captured] == [("bin/exact", ["exact1"])]


def test_size_cap_is_inclusive_and_its_issue_says_who_and_where() -> None:
    tar = make_tar([("a/pkgs.txt", "file", b"x 1\n" * 250), ("b/pkgs.txt", "file", b"x 1\n" * 251)])
    result = scan(tar)
    assert [c.path for c in result.captured] == ["a/pkgs.txt"]  # exactly max_size (1000 bytes) is read
    assert [(i.path, i.cataloger, i.layer_digest, i.reason) for i in result.issues] == [
        ("b/pkgs.txt", "list", result.digest, "file of 1004 bytes is over the size cap of 1000 bytes; not parsed")
    ]


class ListStream(FirstStream):
    """A streaming cataloger of the same files ListCataloger parses whole."""

    name: ClassVar[str] = "liststream"
    patterns: ClassVar[tuple[str, ...]] = ("**/pkgs.txt",)


def test_a_file_read_whole_is_also_fed_to_its_streaming_cataloger() -> None:
    tar = make_tar([("a/pkgs.txt", "file", b"x 1\ny 2\n")])
    result = _scan_with(ScanPlan((ListCataloger(), ListStream()), "test"), tar)
    assert [(c.path, c.cataloger, [(p.name, p.version) for p in c.parsed.packages]) for c in result.captured] == [
        ("a/pkgs.txt", "list", [("x", "1"), ("y", "2")]),
        ("a/pkgs.txt", "liststream", [("a/pkgs.txt", "8-8")]),  # its size, and all of it in one chunk
    ]


def test_a_name_leaving_the_root_is_an_issue_naming_it() -> None:
    result = scan(make_tar([("../../etc/pkgs.txt", "file", b"evil 1\n")]))
    assert [(i.path, i.layer_digest, i.reason) for i in result.issues] == [
        ("etc/pkgs.txt", result.digest, "entry name leaves the root (..); ignored")  # the name as resolved
    ]


def test_hardlinks_past_the_limit_are_one_issue_on_the_target() -> None:
    links = [(f"l{i}/pkgs.txt", "hard", "a/pkgs.txt") for i in range(5)]
    tar = make_tar([("a/pkgs.txt", "file", b"x 1\n"), *links])
    blob = gzip.compress(tar)
    diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
    result = scan_layer(
        _chunks(blob), digest=str(Digest.of(blob)), diff_id=diff_id, plan=PLAN, limits=Limits(hardlinks=3)
    )
    assert [c.path for c in result.captured] == ["a/pkgs.txt", "l0/pkgs.txt", "l1/pkgs.txt", "l2/pkgs.txt"]
    assert [(i.path, i.layer_digest, i.reason) for i in result.issues] == [
        (
            "a/pkgs.txt",
            result.digest,
            "more than 3 hardlinks to this file; the rest are not cataloged (raise it with --limit hardlinks=N)",
        )
    ]
