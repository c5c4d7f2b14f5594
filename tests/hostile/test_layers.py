"""Hostile layers and the files in them: each case writes an OCI layout (or a docker-archive) to disk and
runs ``provenant sbom`` on it in a subprocess, asserting exit code, one-line errors, time, memory and disk.

A bound hit on the whole layer (its tar structure or its decompressed size) ends the run (exit 2, one
line naming the layer and the limit); a bad file inside a layer is a scan issue (exit 0, the issue in
the JSON output).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sqlite3
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import zstandard

from tests.hostile.harness import Outcome, Sandbox, run_cli

GZIP_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
ZSTD_LAYER = "application/vnd.oci.image.layer.v1.tar+zstd"
TAR_LAYER = "application/vnd.oci.image.layer.v1.tar"
MiB, GiB = 1 << 20, 1 << 30
ZEROS = bytes(64 * MiB)


# --- building layouts ---------------------------------------------------------------------------------


def _put_blob(root: Path, data: bytes) -> dict[str, Any]:
    digest = hashlib.sha256(data).hexdigest()
    (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (root / "blobs" / "sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def write_layout(root: Path, layers: list[tuple[bytes, str, str]]) -> str:
    """An OCI layout of one linux/amd64 image whose layers are ``(blob, media type, diff_id)``; its ``oci:`` ref."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    config = {
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [d for _, _, d in layers]},
        "history": [{"created_by": f"layer {i}"} for i in range(len(layers))],
    }
    cfg = _put_blob(root, json.dumps(config).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **cfg},
        "layers": [{"mediaType": mt, **_put_blob(root, blob)} for blob, mt, _ in layers],
    }
    man = _put_blob(root, json.dumps(manifest).encode())
    index = {
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", **man}],
    }
    (root / "index.json").write_text(json.dumps(index))
    return f"oci:{root}"


def diff_id(tar: bytes) -> str:
    return "sha256:" + hashlib.sha256(tar).hexdigest()


def gz_layer(tar: bytes) -> tuple[bytes, str, str]:
    return gzip.compress(tar, compresslevel=6, mtime=0), GZIP_LAYER, diff_id(tar)


def make_tar(files: Iterable[tuple[tarfile.TarInfo, bytes | None]], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for info, data in files:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def file_info(path: str, data: bytes, mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes]:
    ti = tarfile.TarInfo(path)
    ti.size, ti.mode = len(data), mode
    return ti, data


def sbom_json(ref: str, sandbox: Sandbox, *extra: str, limit: str | None = None) -> Outcome:
    """``provenant [--limit LIMIT] sbom REF -o json EXTRA...``, with the caches on as users run it."""
    head = ["--limit", limit] if limit else []
    return run_cli([*head, "sbom", ref, "-o", "json", *extra], sandbox)


def issues(out: Outcome) -> list[dict[str, Any]]:
    doc = json.loads(out.stdout)
    return [i for img in doc["images"] for i in img["issues"]]


def _header_checksum(header: bytearray) -> None:
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)


# --- tar structure --------------------------------------------------------------------------------------


def test_negative_octal_tar_size_is_a_layer_error(sandbox: Sandbox, tmp_path: Path) -> None:
    ti, data = file_info("etc/hello", b"x" * 600)
    tar = bytearray(make_tar([(ti, data)], fmt=tarfile.USTAR_FORMAT))
    tar[124:136] = b"-0000001000\0"  # -512: the walker used to step back onto the same header forever
    _header_checksum(tar)  # type: ignore[arg-type]
    ref = write_layout(tmp_path / "l", [gz_layer(bytes(tar))])
    out = sbom_json(ref, sandbox)
    out.assert_bounded(exit_code=2, error="negative")
    assert "layer sha256:" in out.stderr


def test_negative_pax_size_is_a_layer_error(sandbox: Sandbox, tmp_path: Path) -> None:
    ti, data = file_info("etc/hello", b"x" * 2000)
    ti.pax_headers = {"size": "-1536"}
    tar = make_tar([(ti, data)])
    ref = write_layout(tmp_path / "l", [gz_layer(tar)])
    sbom_json(ref, sandbox).assert_bounded(exit_code=2, error="negative")


def test_huge_entry_count_stops_at_tar_entries(sandbox: Sandbox, tmp_path: Path) -> None:
    headers = bytearray()
    for i in range(20_000):
        ti = tarfile.TarInfo(f"d/{i}")
        ti.type = tarfile.DIRTYPE
        headers += ti.tobuf(tarfile.USTAR_FORMAT)
    tar = bytes(headers) + bytes(1024)
    ref = write_layout(tmp_path / "l", [gz_layer(tar)])
    out = sbom_json(ref, sandbox, limit="tar-entries=10000")
    out.assert_bounded(exit_code=2, error="tar-entries")


def gz_stream(pieces: Iterable[bytes]) -> tuple[bytes, str, str]:
    """A gzip layer of the concatenated ``pieces``, built without holding the uncompressed tar."""
    c = zlib.compressobj(6, zlib.DEFLATED, 31)
    h = hashlib.sha256()
    out = []
    for piece in pieces:
        h.update(piece)
        out.append(c.compress(piece))
    out.append(c.flush())
    return b"".join(out), GZIP_LAYER, "sha256:" + h.hexdigest()


def test_overlong_pax_paths_stop_at_name_bytes(sandbox: Sandbox, tmp_path: Path) -> None:
    # 1500 entries whose PAX path is 600 KB each: 900 MB of names from a ~1 MB blob.
    def entries() -> Iterator[bytes]:
        for i in range(1500):
            ti = tarfile.TarInfo("x")
            ti.pax_headers = {"path": f"{i}/" + "a" * 600_000}
            yield ti.tobuf(tarfile.PAX_FORMAT)
        yield bytes(1024)

    ref = write_layout(tmp_path / "l", [gz_stream(entries())])
    sbom_json(ref, sandbox).assert_bounded(exit_code=2, error="name-bytes")


# --- decompression bombs --------------------------------------------------------------------------------


def gzip_zeros(total: int) -> bytes:
    """A gzip stream of ``total`` zero bytes (a multiple of 64 MiB), built without compressing all of it:
    after a full flush the compressor's output for the next identical 64 MiB repeats exactly."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(ZEROS) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(ZEROS) + c.flush(zlib.Z_FULL_FLUSH)
    n = total // len(ZEROS)
    crc = 0
    for _ in range(n):
        crc = zlib.crc32(ZEROS, crc)
    body = first + again * (n - 1) + b"\x03\x00"  # an empty final fixed-Huffman block ends the stream
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return header + body + struct.pack("<II", crc, total & 0xFFFFFFFF)


def zstd_zeros(total: int) -> bytes:
    c = zstandard.ZstdCompressor(level=1).compressobj()
    out = [c.compress(ZEROS) for _ in range(total // len(ZEROS))]
    return b"".join(out) + c.flush()


def zeros_diff_id(total: int) -> str:
    h = hashlib.sha256()
    for _ in range(total // len(ZEROS)):
        h.update(ZEROS)
    return "sha256:" + h.hexdigest()


def test_gzip_zeros_helper_is_valid() -> None:
    assert zlib.decompress(gzip_zeros(128 * MiB), 31) == bytes(128 * MiB)


def test_gzip_bomb_stops_at_layer_bytes(sandbox: Sandbox, tmp_path: Path) -> None:
    blob = gzip_zeros(10 * GiB)  # ~10 MB → 10 GiB
    ref = write_layout(tmp_path / "l", [(blob, GZIP_LAYER, "sha256:" + "0" * 64)])
    out = sbom_json(ref, sandbox, limit="layer-bytes=256MiB")
    out.assert_bounded(exit_code=2, error="layer-bytes", max_rss_mb=150)
    assert "layer sha256:" in out.stderr


def test_zstd_bomb_stops_at_layer_bytes(sandbox: Sandbox, tmp_path: Path) -> None:
    blob = zstd_zeros(10 * GiB)
    ref = write_layout(tmp_path / "l", [(blob, ZSTD_LAYER, "sha256:" + "0" * 64)])
    out = sbom_json(ref, sandbox, limit="layer-bytes=256MiB")
    out.assert_bounded(exit_code=2, error="layer-bytes", max_rss_mb=150)


def test_bombs_at_the_default_budget_stay_flat(sandbox: Sandbox, tmp_path: Path) -> None:
    # 1 GiB each, under the default 64 GiB budget: read to the end (and verified) in flat memory.
    total = 1 * GiB
    did = zeros_diff_id(total)
    ref = write_layout(tmp_path / "l", [(gzip_zeros(total), GZIP_LAYER, did), (zstd_zeros(total), ZSTD_LAYER, did)])
    out = sbom_json(ref, sandbox, "--workers", "1")
    out.assert_bounded(exit_code=0, max_rss_mb=150)
    layers = json.loads(out.stdout)["images"][0]["layers"]
    assert [layer["uncompressed_size"] for layer in layers] == [total, total]


# --- files inside layers --------------------------------------------------------------------------------


def pom_jar(n: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(n):
            props = f"groupId=org.example\nartifactId=lib{i}\nversion=1.{i}\n"
            z.writestr(f"META-INF/maven/org.example/lib{i}/pom.properties", props)
    return buf.getvalue()


def test_hardlinks_to_one_jar_parse_it_once(sandbox: Sandbox, tmp_path: Path) -> None:
    jar = pom_jar(500)
    files: list[tuple[tarfile.TarInfo, bytes | None]] = [file_info("app/lib.jar", jar)]
    for i in range(400):
        ti = tarfile.TarInfo(f"app/copies/lib{i}.jar")
        ti.type, ti.linkname = tarfile.LNKTYPE, "app/lib.jar"
        files.append((ti, None))
    ref = write_layout(tmp_path / "l", [gz_layer(make_tar(files))])
    out = sbom_json(ref, sandbox)
    out.assert_bounded(exit_code=0)
    pkgs = json.loads(out.stdout)["images"][0]["packages"]
    assert len(pkgs) == 500
    assert all(len(p["locations"]) == 401 for p in pkgs)


def test_hardlink_fan_out_over_the_limit_is_an_issue(sandbox: Sandbox, tmp_path: Path) -> None:
    files: list[tuple[tarfile.TarInfo, bytes | None]] = [file_info("app/lib.jar", pom_jar(3))]
    for i in range(30):
        ti = tarfile.TarInfo(f"app/copies/lib{i}.jar")
        ti.type, ti.linkname = tarfile.LNKTYPE, "app/lib.jar"
        files.append((ti, None))
    ref = write_layout(tmp_path / "l", [gz_layer(make_tar(files))])
    out = sbom_json(ref, sandbox, limit="hardlinks=10")
    out.assert_bounded(exit_code=0)
    assert any("hardlinks" in i["reason"] for i in issues(out)), out.stdout[:2000]


def dpkg_status(size: int) -> bytes:
    """``size`` bytes of installed-package paragraphs about as long as real ones (~1.4 KB)."""
    out = io.BytesIO()
    i = 0
    while out.tell() < size:
        desc = "".join(
            f" line {j} of a long description of package number {i}, wrapped as dpkg does\n" for j in range(15)
        )
        out.write(
            (
                f"Package: pkg{i}\nStatus: install ok installed\nPriority: optional\nSection: libs\n"
                f"Installed-Size: {i % 9000}\nMaintainer: Someone <someone@example.org>\nArchitecture: amd64\n"
                f"Source: src{i // 3}\nVersion: 1.{i}-1\nDepends: libc6 (>= 2.34), libfoo{i % 50} (>= 1.0)\n"
                f"Description: package {i}\n{desc}Homepage: https://example.org/{i}\n\n"
            ).encode()
        )
        i += 1
    return out.getvalue()


def test_large_dpkg_status_is_parsed_in_bounded_memory(sandbox: Sandbox, tmp_path: Path) -> None:
    status = dpkg_status(63 * MiB)
    ref = write_layout(tmp_path / "l", [gz_layer(make_tar([file_info("var/lib/dpkg/status", status)]))])
    # With the caches on, as users run it: the layer scan is cached, the 55 MB document is not.
    out = run_cli(["sbom", ref, "-o", "json"], sandbox)
    out.assert_bounded(exit_code=0)
    assert len(json.loads(out.stdout)["images"][0]["packages"]) == status.count(b"\nStatus: install ok installed")


def test_dpkg_list_shared_by_same_name_packages(sandbox: Sandbox, tmp_path: Path) -> None:
    # 3000 paragraphs of one name (different versions/arches) and a 40k-line foo.list: every package
    # used to get a copy of the whole list.
    paras = "".join(
        f"Package: foo\nStatus: install ok installed\nArchitecture: a{i}\nVersion: {i}\n\n" for i in range(3000)
    )
    listing = "".join(f"/usr/share/foo/file-{i}\n" for i in range(40_000)).encode()
    tar = make_tar([file_info("var/lib/dpkg/status", paras.encode()), file_info("var/lib/dpkg/info/foo.list", listing)])
    ref = write_layout(tmp_path / "l", [gz_layer(tar)])
    out = sbom_json(ref, sandbox)
    out.assert_bounded(exit_code=0)
    pkgs = json.loads(out.stdout)["images"][0]["packages"]
    assert len(pkgs) == 3000
    assert sorted(len(p["files"]) for p in pkgs)[-2:] == [0, 40_000]


def recursive_view_rpmdb(path: Path) -> bytes:
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE VIEW Packages AS WITH RECURSIVE r(hnum, blob) AS "
        "(SELECT 1, zeroblob(4096) UNION ALL SELECT hnum + 1, blob FROM r) SELECT hnum, blob FROM r;"
    )
    con.close()
    return path.read_bytes()


def test_rpm_sqlite_recursive_view_is_an_issue(sandbox: Sandbox, tmp_path: Path) -> None:
    db = recursive_view_rpmdb(tmp_path / "rpmdb.sqlite")
    assert len(db) <= 8192
    tar = make_tar([file_info("var/lib/rpm/rpmdb.sqlite", db)])
    ref = write_layout(tmp_path / "l", [gz_layer(tar)])
    out = sbom_json(ref, sandbox)
    out.assert_bounded(exit_code=0)
    assert any("Packages" in i["reason"] and i["cataloger"] == "rpm" for i in issues(out)), out.stdout[:2000]


def bdb_shared_overflow(page_size: int = 65536, chain: int = 200) -> bytes:
    """A Berkeley DB hash file whose one bucket page lists thousands of pairs, every value naming the
    same overflow chain of ``chain`` pages."""
    pages = 2 + chain
    meta = bytearray(page_size)
    struct.pack_into("<I", meta, 12, 0x061561)
    struct.pack_into("<II", meta, 16, 9, page_size)
    meta[25] = 8  # hash metadata
    struct.pack_into("<I", meta, 32, pages - 1)
    bucket = bytearray(page_size)
    struct.pack_into("<I", bucket, 8, 1)
    bucket[25] = 13
    value_off, key_off = page_size - 24, page_size - 12
    bucket[key_off] = 1  # H_KEYDATA key
    bucket[value_off] = 3  # H_OFFPAGE value: first page 2, total length
    total = chain * (page_size - 26)
    struct.pack_into("<II", bucket, value_off + 4, 2, total)
    pairs = (page_size - 26 - 64) // 4
    struct.pack_into("<H", bucket, 20, 2 * pairs)
    for i in range(pairs):
        struct.pack_into("<HH", bucket, 26 + 4 * i, key_off, value_off)
    out = bytearray(meta + bucket)
    for n in range(chain):
        page = bytearray(page_size)
        pgno = 2 + n
        struct.pack_into("<I", page, 8, pgno)
        struct.pack_into("<I", page, 16, pgno + 1 if n + 1 < chain else 0)
        struct.pack_into("<H", page, 22, page_size - 26)
        page[25] = 7
        out += page
    return bytes(out)


def test_bdb_shared_overflow_chain_is_an_issue(sandbox: Sandbox, tmp_path: Path) -> None:
    tar = make_tar([file_info("var/lib/rpm/Packages", bdb_shared_overflow())])
    blob, mt, did = gz_layer(tar)
    assert len(blob) < 100_000
    ref = write_layout(tmp_path / "l", [(blob, mt, did)])
    out = sbom_json(ref, sandbox)
    out.assert_bounded(exit_code=0)
    assert any("overflow" in i["reason"] for i in issues(out)), out.stdout[:2000]


def forged_go_binary(size: int) -> bytes:
    """An ELF file packed with aligned build-info headers, each claiming a ~4 MiB Go version string."""
    header = bytearray(b"\xff Go buildinf:" + bytes([8, 2]) + bytes(16))
    varint = bytearray()
    n = 4 * MiB - 1
    while n >= 0x80:
        varint.append(n & 0x7F | 0x80)
        n >>= 7
    varint.append(n)
    unit = bytes(header) + bytes(varint) + b"x" * (48 - 32 - len(varint))
    body = unit * (size // len(unit))
    return b"\x7fELF" + bytes(12) + body


def test_forged_go_build_info_is_fast(sandbox: Sandbox, tmp_path: Path) -> None:
    exe = forged_go_binary(24 * MiB)
    tar = make_tar([file_info("usr/bin/app", exe, mode=0o755)])
    ref = write_layout(tmp_path / "l", [gz_layer(tar)])
    out = sbom_json(ref, sandbox)
    out.assert_bounded(exit_code=0)
    assert json.loads(out.stdout)["images"][0]["packages"] == []


# --- docker-archive sources -----------------------------------------------------------------------------


def test_compressed_docker_archive_streams_layers(sandbox: Sandbox, tmp_path: Path) -> None:
    # A docker save tarball, gzip-compressed, whose one layer is 1 GiB uncompressed (zeros in a file).
    big = 1 * GiB
    layer_head = file_info("big", b"")[0]
    layer_head.size = big
    head = layer_head.tobuf(tarfile.USTAR_FORMAT)
    h = hashlib.sha256(head)
    for _ in range(big // len(ZEROS)):
        h.update(ZEROS)
    h.update(bytes(1024))
    layer_size = len(head) + big + 1024
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": ["sha256:" + h.hexdigest()]}}
    ).encode()
    manifest = json.dumps([{"Config": "config.json", "RepoTags": ["x:1"], "Layers": ["layer.tar"]}]).encode()
    path = tmp_path / "image.tar.gz"
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as gz:
        for name, data in (("manifest.json", manifest), ("config.json", config)):
            ti, _ = file_info(name, data)
            gz.write(ti.tobuf(tarfile.USTAR_FORMAT) + data + bytes(-len(data) % 512))
        ti = tarfile.TarInfo("layer.tar")
        ti.size = layer_size
        gz.write(ti.tobuf(tarfile.USTAR_FORMAT) + head)
        for _ in range(big // len(ZEROS)):
            gz.write(ZEROS)
        gz.write(bytes(1024) + bytes(-layer_size % 512) + bytes(1024))
    out = run_cli(["sbom", f"docker-archive:{path}", "-o", "json"], sandbox)
    out.assert_bounded(exit_code=0)
    assert json.loads(out.stdout)["images"][0]["layers"][0]["uncompressed_size"] == layer_size


def test_docker_archive_with_too_many_entries(sandbox: Sandbox, tmp_path: Path) -> None:
    # 150,000 empty entries before manifest.json (gzip makes it 1 MB): indexing them all would hold every one.
    path = tmp_path / "many.tar.gz"
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as gz:
        for i in range(150_000):
            gz.write(tarfile.TarInfo(f"e/{i:08d}").tobuf(tarfile.USTAR_FORMAT))
        manifest = json.dumps([{"Config": "c.json", "RepoTags": ["x:1"], "Layers": []}]).encode()
        ti, _ = file_info("manifest.json", manifest)
        gz.write(ti.tobuf(tarfile.USTAR_FORMAT) + manifest + bytes(-len(manifest) % 512) + bytes(1024))
    out = run_cli(["inspect", f"docker-archive:{path}"], sandbox)
    out.assert_bounded(exit_code=2, error="archive-entries")
    assert out.peak_rss_mb < 250, out.summary()


def test_docker_archive_with_a_huge_long_name(sandbox: Sandbox, tmp_path: Path) -> None:
    # A GNU long-name entry of 400 MB ('a's, 0.4 MB gzipped): tarfile would read it whole, then decode it.
    size = 400 * MiB
    path = tmp_path / "longname.tar.gz"
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as gz:
        head = tarfile.TarInfo("././@LongLink")
        head.type, head.size = tarfile.GNUTYPE_LONGNAME, size
        gz.write(head.tobuf(tarfile.GNU_FORMAT))
        block = b"a" * MiB
        for _ in range(size // MiB):
            gz.write(block)
        gz.write(tarfile.TarInfo("x").tobuf(tarfile.GNU_FORMAT) + bytes(1024))
    out = run_cli(["inspect", f"docker-archive:{path}"], sandbox)
    out.assert_bounded(exit_code=2, error="name-bytes")
    assert out.peak_rss_mb < 150, out.summary()


# --- names that are not UTF-8 -----------------------------------------------------------------------------


def test_names_that_are_not_utf8_survive_the_cache_and_every_output(sandbox: Sandbox, tmp_path: Path) -> None:
    """Latin-1 file names (one a package's dist-info): cold, cached and as text; they used to end every
    command that wrote the layer cache in an internal error."""
    metadata = b"Metadata-Version: 2.1\nName: cafe\nVersion: 1.0\n"
    site = b"usr/lib/python3/dist-packages/"

    def latin1(name: bytes, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
        return file_info(name.decode("utf-8", "surrogateescape"), data)

    tar = make_tar(
        [latin1(site + b"caf\xe9-1.0.dist-info/METADATA", metadata), latin1(b"etc/r\xe9sum\xe9\xff", b"x")],
        fmt=tarfile.GNU_FORMAT,
    )
    assert b"caf\xe9-1.0.dist-info" in tar
    ref = write_layout(tmp_path / "l", [gz_layer(tar)])
    cold = sbom_json(ref, sandbox)
    cold.assert_bounded(exit_code=0)
    cached = sbom_json(ref, sandbox)
    cached.assert_bounded(exit_code=0)
    (pkg,) = [p for img in json.loads(cold.stdout)["images"] for p in img["packages"]]
    assert [loc["path"] for loc in pkg["locations"]] == [
        "usr/lib/python3/dist-packages/caf\udce9-1.0.dist-info/METADATA"
    ]
    assert json.loads(cached.stdout)["images"][0]["packages"] == json.loads(cold.stdout)["images"][0]["packages"]
    text = run_cli(["sbom", ref], sandbox)
    text.assert_bounded(exit_code=0)
    assert "cafe" in text.stdout
