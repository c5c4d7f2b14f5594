"""Hostile tar headers and compressed streams: negative or overflowing sizes, entry counts, name
lengths, decompression bombs; every one ends with a one-line error naming the layer, never a hang."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import zlib
from collections.abc import Iterator

import pytest
import zstandard

from provenant.digest import Digest
from provenant.layers.decompress import STEP, LayerFormatError, decompressed
from provenant.layers.scan import LayerScan, scan_layer
from provenant.layers.tarwalk import TarWalker
from provenant.limits import LimitExceededError, Limits
from tests.unit.test_layer_scan import PLAN, make_tar

MiB = 1 << 20


def _with_size_field(size_field: bytes, data: bytes = b"x" * 600) -> bytes:
    ti = tarfile.TarInfo("etc/hello")
    ti.size = len(data)
    tar = bytearray(make_tar([("etc/hello", "file", data)], fmt=tarfile.USTAR_FORMAT))
    tar[124:136] = size_field
    tar[148:156] = b" " * 8
    tar[148:156] = b"%06o\0 " % sum(tar[:512])
    return bytes(tar)


def _walk(tar: bytes, limits: Limits | None = None) -> list[str]:
    chunks = iter([tar[i : i + 1000] for i in range(0, len(tar), 1000)])
    return [e.path for e in TarWalker(chunks, limits=limits)]


@pytest.mark.parametrize(
    "field",
    [
        b"-0000001000\0",  # octal with a sign: -512, the walk used to step back onto the same header
        b"\xff" + b"\xff" * 9 + b"\xfe\x00",  # GNU base-256, negative
        b"0o000001000\0",  # int(..., 8) accepts a 0o prefix
        b"0_00001000\0\0",  # ... and underscores
    ],
)
def test_bad_size_fields_are_refused(field: bytes) -> None:
    with pytest.raises(LayerFormatError, match="size"):
        _walk(_with_size_field(field))


def test_overflowing_base256_size_is_refused() -> None:
    with pytest.raises(LayerFormatError, match="overflows"):
        _walk(_with_size_field(b"\x80" + b"\xff" * 11))


@pytest.mark.parametrize("value", ["-1536", "+1536", " 1536", "1_536", "99999999999999999999", "0x600"])
def test_bad_pax_sizes_are_refused(value: str) -> None:
    ti = tarfile.TarInfo("etc/hello")
    ti.size = 2000
    ti.pax_headers = {"size": value}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        t.addfile(ti, io.BytesIO(b"x" * 2000))
    with pytest.raises(LayerFormatError, match="PAX size"):
        _walk(buf.getvalue())


def test_entry_count_limit() -> None:
    tar = make_tar([(f"d{i}", "dir", "") for i in range(30)])
    assert len(_walk(tar, Limits(tar_entries=30))) == 30
    with pytest.raises(LimitExceededError, match="tar-entries"):
        _walk(tar, Limits(tar_entries=29))


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
@pytest.mark.parametrize("kind", ["name", "link"])
def test_name_and_link_length_limit(fmt: int, kind: str) -> None:
    long = "d/" + "n" * 300
    item = (long, "file", b"x") if kind == "name" else ("short", "sym", long)
    tar = make_tar([item], fmt=fmt)
    assert len(_walk(tar, Limits(name_bytes=400))) == 1
    with pytest.raises(LimitExceededError, match="name-bytes"):
        _walk(tar, Limits(name_bytes=200))


def _scan(blob: bytes, tar_digest: str, limits: Limits) -> LayerScan:
    chunks = iter([blob[i : i + 65536] for i in range(0, len(blob), 65536)])
    return scan_layer(chunks, digest=str(Digest.of(blob)), diff_id=tar_digest, plan=PLAN, limits=limits)


def test_scan_errors_name_the_layer() -> None:
    tar = _with_size_field(b"-0000001000\0")
    blob = gzip.compress(tar)
    with pytest.raises(LayerFormatError) as err:
        _scan(blob, "sha256:" + hashlib.sha256(tar).hexdigest(), Limits())
    assert f"layer {Digest.of(blob)}" in err.value.diagnostics()
    assert "negative" in err.value.diagnostics()


def _zeros_gzip(n_mib: int) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(MiB)
    return b"".join(c.compress(block) for _ in range(n_mib)) + c.flush()


def _zeros_zstd(n_mib: int) -> bytes:
    return zstandard.ZstdCompressor().compress(bytes(n_mib * MiB))  # one frame: all of it in one call


@pytest.mark.parametrize("make", [_zeros_gzip, _zeros_zstd])
def test_decompression_steps_are_bounded(make: object) -> None:
    assert callable(make)
    blob = make(64)
    sizes = [len(c) for c in decompressed(iter([blob]), limits=Limits())]
    assert sum(sizes) == 64 * MiB
    assert max(sizes) <= STEP


@pytest.mark.parametrize("make", [_zeros_gzip, _zeros_zstd])
def test_layer_bytes_budget(make: object) -> None:
    assert callable(make)
    blob = make(32)
    diff_id = "sha256:" + hashlib.sha256(bytes(32 * MiB)).hexdigest()
    assert _scan(blob, diff_id, Limits(layer_bytes=32 * MiB)).uncompressed_size == 32 * MiB
    with pytest.raises(LimitExceededError, match="layer-bytes") as err:
        _scan(blob, diff_id, Limits(layer_bytes=16 * MiB))
    assert "layer sha256:" in err.value.diagnostics()


def test_plain_layers_count_against_the_budget_too() -> None:
    tar = make_tar([("f", "file", bytes(100_000))])
    with pytest.raises(LimitExceededError, match="layer-bytes"):
        list(decompressed(iter([tar]), limits=Limits(layer_bytes=50_000)))


def test_concatenated_gzip_members_in_small_steps() -> None:
    data = b"abc" * 1_000_000
    blob = gzip.compress(data) + gzip.compress(data)

    def pieces() -> Iterator[bytes]:
        for i in range(0, len(blob), 333):
            yield blob[i : i + 333]

    assert b"".join(decompressed(pieces(), limits=Limits())) == data * 2


def test_hardlink_fan_out_is_an_issue() -> None:
    items = [("a/pkgs.txt", "file", b"a 1\n")] + [(f"l{i}/pkgs.txt", "hard", "a/pkgs.txt") for i in range(10)]
    tar = make_tar(items)
    scan = _scan(gzip.compress(tar), "sha256:" + hashlib.sha256(tar).hexdigest(), Limits(hardlinks=4))
    assert [c.path for c in scan.captured] == ["a/pkgs.txt"] + [f"l{i}/pkgs.txt" for i in range(4)]
    assert len({id(c.parsed) for c in scan.captured}) == 1  # one parse, shared
    assert [i.reason for i in scan.issues] == [
        "more than 4 hardlinks to this file; the rest are not cataloged (raise it with --limit hardlinks=N)"
    ]
    # The cache entry stores the shared parse once and gives it back shared.
    again = LayerScan.from_json(scan.to_json())
    assert len({id(c.parsed) for c in again.captured}) == 1
    assert scan.to_json().count(b'"packages"') == 1


@pytest.mark.parametrize("backend", ["default", "zlib"])
def test_gzip_backends_step_the_same(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from provenant.layers import decompress

    if backend == "zlib":  # isal is used when installed; the zlib fallback must bound steps too
        monkeypatch.setattr(decompress, "_gzip_decompressor", lambda: zlib.decompressobj(31))
    blob = _zeros_gzip(8) + gzip.compress(b"tail")
    sizes = [len(c) for c in decompressed(iter([blob[:100], blob[100:]]), limits=Limits())]
    assert sum(sizes) == 8 * MiB + 4
    assert max(sizes) <= STEP
    with pytest.raises(LayerFormatError, match="truncated"):
        list(decompressed(iter([blob[:-30]]), limits=Limits()))


def test_file_bytes_caps_every_cataloger() -> None:
    content = b"a 1\n" * 100  # 400 bytes, under the test cataloger's own 1000-byte cap
    tar = make_tar([("x/pkgs.txt", "file", content)])
    did = "sha256:" + hashlib.sha256(tar).hexdigest()
    assert [c.path for c in _scan(gzip.compress(tar), did, Limits()).captured] == ["x/pkgs.txt"]
    scan = _scan(gzip.compress(tar), did, Limits(file_bytes=300))
    assert scan.captured == []
    assert [i.reason for i in scan.issues] == [
        "file of 400 bytes is over the size cap of 300 bytes; not parsed "
        "(raise it with --limit file-bytes=N or PROVENANT_LIMIT_FILE_BYTES)"
    ]
