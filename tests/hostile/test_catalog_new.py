"""Hostile inputs for the catalogers of issue 13: each case is a layer in an OCI layout, run through
``provenant sbom`` in a subprocess; a bad file is a scan issue (exit 0), never a crash, hang or blow-up."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

from tests.hostile.harness import Sandbox
from tests.hostile.test_layers import MiB, file_info, gz_layer, issues, make_tar, sbom_json, write_layout


def _run(
    sandbox: Sandbox, tmp_path: Path, files: list[tuple[str, bytes, int]]
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    tar = make_tar([file_info(path, data, mode) for path, data, mode in files])
    out = sbom_json(write_layout(tmp_path / "l", [gz_layer(tar)]), sandbox)
    out.assert_bounded(exit_code=0)
    print(out.summary())  # the figures for docs/security.md
    return json.loads(out.stdout)["images"][0]["packages"], issues(out)


def _deps_json(n: int) -> bytes:
    libs = {
        f"Package.Number{i}/1.{i}.0": {"type": "package", "serviceable": True, "sha512": "sha512-" + "A" * 88}
        for i in range(n)
    }
    return json.dumps({"runtimeTarget": {"name": ".NETCoreApp,Version=v8.0"}, "libraries": libs}).encode()


def test_huge_deps_json(sandbox: Sandbox, tmp_path: Path) -> None:
    big, large = _deps_json(200_000), _deps_json(21_000)
    assert len(big) > 30 * MiB and 3 * MiB < len(large) < 4 * MiB
    files = [("app/Big.deps.json", big, 0o644), ("app/Large.deps.json", large, 0o644)]
    packages, found = _run(sandbox, tmp_path, files)
    assert len(packages) == 21_000  # the largest a real one might be, parsed; the one over the cap, not
    assert [i["path"] for i in found if "size cap" in i["reason"]] == ["app/Big.deps.json"]


def test_deeply_nested_installed_json(sandbox: Sandbox, tmp_path: Path) -> None:
    doc = b'{"packages": ' + b"[" * 2_000_000 + b"]" * 2_000_000 + b"}"
    packages, found = _run(sandbox, tmp_path, [("srv/vendor/composer/installed.json", doc, 0o644)])
    assert packages == []
    assert any("json-depth" in i["reason"] or "json_depth" in i["reason"] for i in found), found


def test_gemspec_that_is_ruby_code_is_never_run(sandbox: Sandbox, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    code = (
        "Gem::Specification.new do |s|\n"
        f"  s.name = File.read('/etc/hostname'); system('touch {marker}'); `touch {marker}`\n"
        "  s.version = ('1.' * 100000) + '0'\n"
        "  s.license = " + '"' + "\\\\" * 50_000 + '"\n'  # a long run of escapes: the literal regex stays linear
        "end\n"
    ).encode()
    spec = b'Gem::Specification.new do |s|\n  s.name = "evil".freeze\n  s.version = ' + b'"' + b"9" * 1000 + b'"\nend\n'
    files = [("usr/lib/ruby/gems/3.3.0/specifications/a.gemspec", code, 0o644),
             ("usr/lib/ruby/gems/3.3.0/specifications/b.gemspec", spec, 0o644)]  # fmt: skip
    packages, found = _run(sandbox, tmp_path, files)
    assert not marker.exists()
    assert [p["name"] for p in packages] == ["evil"]  # the literal fields only; the 1000-digit version as written
    assert any("gemspec without a literal name" in i["reason"] for i in found), found


def _egg(pkg_info: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("EGG-INFO/PKG-INFO", pkg_info)
    return buf.getvalue()


def _understate(egg: bytes, size: int) -> bytes:
    """The egg with its entry's uncompressed size forged to ``size`` in both headers."""
    data = bytearray(egg)
    local = data.find(b"PK\x03\x04")
    struct.pack_into("<I", data, local + 22, size)
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, size)
    return bytes(data)


def test_zip_bomb_egg(sandbox: Sandbox, tmp_path: Path) -> None:
    bomb = b"Name: bomb\nVersion: 1\nSummary: " + b" " * (1 << 30) + b"\n"
    honest = _egg(bomb)
    assert len(honest) < 2 * MiB
    files = [
        ("usr/lib/python3/site-packages/bomb-1-py3.egg", honest, 0o644),
        ("usr/lib/python3/site-packages/forged-1-py3.egg", _understate(honest, 200), 0o644),
    ]
    packages, found = _run(sandbox, tmp_path, files)
    assert packages == []
    reasons = sorted(i["reason"] for i in found)
    assert len(reasons) == 2 and all("PKG-INFO" in r for r in reasons), reasons


def test_cargo_auditable_section_that_inflates_to_gigabytes(sandbox: Sandbox, tmp_path: Path) -> None:
    z = zlib.compressobj(9)
    parts = [z.compress(b'{"packages":[')]
    spaces = b" " * (64 * MiB)
    for _ in range(32):  # 2 GiB of JSON whitespace
        parts.append(z.compress(spaces))
    parts.append(z.compress(b"]}") + z.flush())
    blob = b"".join(parts)
    binary = b"\x7fELF\x02\x01\x01" + bytes(4089) + blob + bytes(4096)
    packages, found = _run(sandbox, tmp_path, [("usr/local/bin/app", binary, 0o755)])
    assert packages == []
    assert any("cargo-auditable data inflates past" in i["reason"] for i in found), found
