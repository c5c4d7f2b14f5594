#!/usr/bin/env python3
"""Mutation fuzzing of every cataloger on real test data: what escapes as other than CatalogError.

A cataloger must turn any damaged file into a :class:`~provenant.catalog.base.CatalogError` (a scan
issue with its own reason) or read past the damage; anything else it raises is reported by the scan
only as "could not parse it (IndexError: ...)", and a file that takes seconds is a cost every image
holding it pays. This script takes the real files under ``tests/data/catalog`` (and a jar made from the
extracted ones), damages them (flipped bytes, cuts, repeats, inserted delimiters, huge or zero length
fields) and runs each through its cataloger as the scan would: ``parse`` for wanted files, ``sniff``
and the executable streams for binaries, and whole damaged layers through the real scan plan
(where the layer's own error, a ``ProvenantError``, is the expected way to fail).

Each finding (cataloger, exception type, innermost provenant frame; or a run over ``--timeout``) is
printed once and its input written to ``--out``; replay one with ``--replay FILE --only NAME --path P``.
Exit 0 when nothing escaped, 1 otherwise.

Run: ``.venv/bin/python scripts/fuzz_catalogers.py [--seconds 60 | --runs N] [--seed K] [--only NAME]``
(``--only @exe`` for the executable path alone, ``@layer`` for whole damaged layers, ``@image`` for OCI
layouts through ``inspect`` and ``sbom``, ``@policy`` for policy files through ``policy check``,
``@archive`` for ``docker save`` tarballs, ``@cosign`` for the real keyless ``cosign save`` layouts of
``tests/data/cosign`` through ``attestations`` and ``verify``, ``@attest`` for every artifact the
attestation tests write to a registry, with two real Sigstore bundles, through ``list_attestations``
and ``verify_image``; ``@registry`` for one header or body a registry answers with, through ``inspect``,
``list_tags`` and ``list_attestations``; ``@quick`` for one whole raw HTTP answer, bytes as they come off
the socket, to the lean client of ``inspect --raw``, ``tags`` and an unchanged ``fleet scan``; ``@sbom`` for
one damaged package file in an image, through ``sbom`` in every output format: what a cataloger made of the
damage then meets the purls, licenses and encoders that ``parse`` alone never reaches; slow, so only when
asked for). For
``@cosign`` and ``@attest``, half the damage goes to a document held inside a string (a DSSE payload,
a bundle in an annotation, a certificate, a signature) and is encoded back as it was.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import copy
import io
import json
import os
import random
import re
import resource
import signal
import sys
import tarfile
import tempfile
import time
import traceback
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from provenant.catalog.base import Cataloger, CatalogError  # noqa: E402
from provenant.catalog.registry import all_catalogers, default_plan  # noqa: E402
from provenant.digest import Digest  # noqa: E402
from provenant.errors import ProvenantError  # noqa: E402
from provenant.layers.scan import scan_layer  # noqa: E402

if TYPE_CHECKING:
    import httpx
    from pydantic import BaseModel

    from provenant.attest.keyless import KeylessPolicy
    from provenant.attest.keys import PublicKey
    from tests.fakeregistry import FakeRegistry
    from tests.hostile.server import HostileServer

DATA = ROOT / "tests" / "data" / "catalog"
EXE = "@exe"  # the executable path: the sniffer and every cataloger that streams executables
LAYER = "@layer"  # a whole uncompressed layer through the real scan plan (tar walk, view, catalogers)
IMAGE = "@image"  # one JSON document of an OCI layout, then `inspect` and `sbom` through the CLI
POLICY = "@policy"  # a policy file (policies/*.yaml), then `policy check` through the CLI
ARCHIVE = "@archive"  # a `docker save` tarball's manifest.json or whole tar, then `inspect` and `sbom`
COSIGN = "@cosign"  # a real `cosign save` layout's attestation manifest or envelope, then `attestations`/`verify`
ATTEST = "@attest"  # one artifact in a registry (.sig/.att/.sbom, referrers, bundles), then the library calls
REGISTRY = "@registry"  # one answer of a registry (a header or a body), then inspect, tags and attestations
QUICK = "@quick"  # one raw HTTP answer (status line, headers, body) to the lean client: HEAD, tags, manifest, token
SBOM = "@sbom"  # one package file (or executable) damaged in an image, then `sbom` in every output format
#: Seeds run only with ``--only``: a whole scan and five validated documents a run, ~20x a parse.
ONLY_WHEN_ASKED = frozenset({SBOM})
PLAN = default_plan()
CHUNK = 64 * 1024

_DIST_INFO = "with-license-file-declared.dist-info"
#: (cataloger name or EXE, path in the image, file under tests/data/catalog); jars are listed apart.
SEEDS = [
    ("dpkg", "var/lib/dpkg/status", "dpkg/corrupsed.status"),
    ("dpkg", "usr/share/doc/apt/copyright", "dpkg/apt.copyright"),
    ("rpm", "var/lib/rpm/Packages", "rpm/libuuid.Packages"),
    ("rpm", "usr/lib/sysimage/rpm/Packages.db", "rpm/sle15-bci.Packages.db"),
    ("rpm", "var/lib/rpm/rpmdb.sqlite", "rpm/cbl-mariner-2.0.rpmdb.sqlite"),
    ("conda", "opt/conda/conda-meta/zlib-1.2.11.json", "conda/zlib-1.2.11-h90dfc92_1014.json"),
    ("dotnet", "app/app.deps.json", "dotnet/happy.deps.json"),
    ("composer", "app/vendor/composer/installed.json", "php/composer_2/installed.json"),
    ("composer", "app/vendor/composer/installed.json", "php/composer_1/installed.json"),
    ("npm", "app/node_modules/rc/package.json", "npm/rc-1.2.8.package.json"),
    ("rust", "app/Cargo.lock", "rust/Cargo.lock"),
    ("ruby", "usr/lib/ruby/gems/3.1.0/specifications/rack-2.2.22.gemspec", "ruby/rack-2.2.22.gemspec"),
    ("ruby", "app/Gemfile.lock", "ruby/Gemfile.lock"),
    *(
        ("python", f"usr/lib/python3/dist-packages/x-1.0.dist-info/{name}", f"python/{_DIST_INFO}/{name}")
        for name in ("METADATA", "RECORD", "direct_url.json")
    ),
    ("python", "usr/lib/python2.7/site-packages/kitchen-1.2.6-py2.7.egg", "python/kitchen-1.2.6-py2.7.egg"),
    ("distro", "etc/os-release", "os-release/ubuntu__etc__os-release"),
    ("distro", "etc/redhat-release", "os-release/centos5__etc__redhat-release"),
    (EXE, "usr/bin/app", "go/test.elf"),
    (EXE, "usr/bin/app", "go/main-version-via-ldflags.elf"),
    (EXE, "usr/bin/app", "go/test.macho"),
    (EXE, "usr/bin/app.exe", "go/test.exe"),
    (EXE, "usr/bin/app", "rust/test.elf"),
]
JARS = [
    ("java", "app/lib/jackson-core-2.15.2.jar", "java/com.fasterxml.jackson.core.jackson-core-2.15.2"),
    ("java", "app/lib/micronaut-aop-4.9.11.jar", "java/micronaut-aop-4.9.11"),
]
#: An apk database in the format of Alpine's lib/apk/db/installed (no such file is in tests/data).
APK = (
    b"C:Q1p78yvTLG094tjE1/iBBm0bDtbHM=\nP:musl\nV:1.2.4-r2\nA:x86_64\nS:383152\nI:622592\n"
    b"T:the musl c library (libc) implementation\nU:https://musl.libc.org/\nL:MIT\no:musl\n"
    b"m:Timo Teras <timo.teras@iki.fi>\nt:1696342428\nc:9b6bcd7c32ab0b2ce9a4e53d51a8d5ad1b02d6ba\n"
    b"p:so:libc.musl-x86_64.so.1=1\nF:lib\nR:ld-musl-x86_64.so.1\na:0:0:755\nZ:Q1ozMqZ6H2nbhM6MMx2yOQ+1b/Dno=\n\n"
    b"C:Q1JUvD7C0hVCq9KixRPE8yZjx4MkY=\nP:busybox\nV:1.36.1-r5\nA:x86_64\nL:GPL-2.0-only\n"
    b"D:so:libc.musl-x86_64.so.1\nF:bin\nR:busybox\n\n"
)
SPLICES = [b"{", b"}", b"[", b"\n", b"\n\n", b'"', b"\\u", b"%", b"\x00", b"..", b"/", b"-", b":", b"=", b"9" * 30]
LENGTHS = [b"\xff\xff\xff\x7f", b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\x00\x00\x01\x00", b"\x7f\xff\xff\xff"]


def jar_of(directory: Path) -> bytes:
    """The extracted jar under ``directory`` zipped again, as it sits in an image."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            z.write(path, path.relative_to(directory).as_posix())
    return buf.getvalue()


def layer_tar(fmt: int) -> bytes:
    """An uncompressed layer as image builders write one (in tar format ``fmt``): a long name, links,
    a whiteout, an executable, and package files the real plan parses."""
    buf = io.BytesIO()
    deep = "usr/lib/python3/dist-packages/" + "very-long-directory-name/" * 5 + "x-1.0.dist-info/METADATA"

    def add(t: tarfile.TarFile, name: str, data: bytes = b"", **fields: object) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(data), 0o644, 1_700_000_000
        for key, value in fields.items():
            setattr(info, key, value)
        t.addfile(info, io.BytesIO(data) if data else None)

    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        add(t, "etc", type=tarfile.DIRTYPE, mode=0o755)
        add(t, "etc/os-release", (DATA / "os-release/ubuntu__etc__os-release").read_bytes())
        add(t, "var/lib/dpkg/status", (DATA / "dpkg/corrupsed.status").read_bytes())
        add(t, deep, (DATA / "python" / _DIST_INFO / "METADATA").read_bytes())
        add(t, "usr/bin/app", (DATA / "rust/test.elf").read_bytes(), mode=0o755)
        add(t, "usr/bin/link", type=tarfile.SYMTYPE, linkname="app")
        add(t, "usr/bin/hard", type=tarfile.LNKTYPE, linkname="usr/bin/app")
        add(t, "etc/.wh.gone")
    return buf.getvalue()


def image_layout() -> tuple[dict[str, bytes], dict[str, str], dict[str, dict[str, bytes]]]:
    """A two-platform OCI layout (files by relative path), the digest of each JSON document in it, and the
    files of its first image as ``docker save`` writes them (``legacy`` before Docker 25, ``modern`` since)."""
    from fixtures.dockersave import docker_archive, legacy_docker_archive
    from fixtures.layers import File, build_layer
    from fixtures.ociimage import ImageSpec, IndexEntry, Platform, Step, build_image, build_index, layout_files

    tree = {
        "etc/os-release": File((DATA / "os-release/ubuntu__etc__os-release").read_bytes()),
        "var/lib/dpkg/status": File((DATA / "dpkg/corrupsed.status").read_bytes()),
    }
    layer = build_layer(tree)
    config = {"User": "app", "Env": ["PATH=/usr/bin", "API_TOKEN=x"], "Entrypoint": ["/bin/app"], "Cmd": ["-v"]}
    images = [
        build_image(ImageSpec(Platform("linux", arch), [Step("ADD rootfs /", layer), Step("USER app")], config))
        for arch in ("amd64", "arm64")
    ]
    index = build_index([IndexEntry(image, image.platform) for image in images], {"org.example": "fuzz"})
    files = layout_files([("v1", index.blob)], index.blobs())
    docs = {"index": index.blob.digest, "manifest": images[0].manifest.digest, "config": images[0].config.digest}
    saved = {
        "legacy": legacy_docker_archive(images[0], "fuzz/app:v1"),
        "modern": docker_archive(images[0], "fuzz/app:v1"),
    }
    return files, docs, saved


IMAGE_FILES, IMAGE_DOCS, SAVED = image_layout()
#: Which document refers to which, up to the layout's own index.json.
_PARENT = {"config": "manifest", "manifest": "index", "index": "index.json"}


def _blob_path(digest: str) -> str:
    return "blobs/" + digest.replace(":", "/", 1)


def relinked(role: str, data: bytes) -> dict[str, bytes]:
    """The layout with document ``role`` replaced by ``data`` and every descriptor above it updated,
    so that the damage reaches the parser instead of stopping at a digest check."""
    files = dict(IMAGE_FILES)
    if role == "index.json":
        files["index.json"] = data
        return files
    old = IMAGE_DOCS[role]
    while True:
        new = str(Digest.of(data))
        files[_blob_path(new)] = data
        parent = _PARENT[role]
        path = "index.json" if parent == "index.json" else _blob_path(IMAGE_DOCS[parent])
        doc = json.loads(files[path])
        for desc in [doc.get("config"), *doc.get("layers", []), *doc.get("manifests", [])]:
            if isinstance(desc, dict) and desc.get("digest") == old:
                desc["digest"], desc["size"] = new, len(data)
        data = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
        if parent == "index.json":
            files["index.json"] = data
            return files
        role, old = parent, IMAGE_DOCS[parent]


def check_commands(role: str, data: bytes) -> None:
    """``inspect`` and ``sbom`` of the damaged layout through the CLI: exit 0, or exit 2 with one line."""
    from click.testing import CliRunner

    from fixtures.ociimage import write_files
    from provenant.cli.main import cli

    with tempfile.TemporaryDirectory(prefix="fuzz-layout-") as tmp:
        write_files(Path(tmp), relinked(role, data))
        for argv in (["inspect", "-o", "json"], ["sbom", "--no-cache", "-o", "json"]):
            result = CliRunner().invoke(cli, ["-q", *argv, f"oci:{tmp}:v1"], catch_exceptions=True)
            _judge(argv, result.exit_code, result.stderr, result.exception, (0,))


def _judge(
    argv: list[str], exit_code: int, stderr: str, exception: BaseException | None, codes: tuple[int, ...]
) -> None:
    """Raise :class:`CommandFailed` unless the run ended in one of ``codes``, or in exit 2 with one line."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    if exit_code in codes and not any("internal error" in line for line in lines):
        return
    if exit_code == 2 and len(lines) == 1 and "internal error" not in lines[0]:
        return
    said = " | ".join(lines)[:300] or repr(exception)
    raise CommandFailed(f"{argv[0]}: exit {exit_code}: {said}")


_GOOD_LAYOUT: list[str] = []  # one layout for every policy run, written on first use


def check_policy(path: str, data: bytes) -> None:
    """``policy check`` with the damaged policy file on a good layout: exit 0/1, or exit 2 with one line."""
    from click.testing import CliRunner

    from fixtures.ociimage import write_files
    from provenant.cli.main import cli

    if not _GOOD_LAYOUT:
        layout = tempfile.mkdtemp(prefix="fuzz-policy-layout-")
        write_files(Path(layout), IMAGE_FILES)
        _GOOD_LAYOUT.append(layout)
    with tempfile.TemporaryDirectory(prefix="fuzz-policy-") as tmp:
        policy = Path(tmp) / Path(path).name
        policy.write_bytes(data)
        for fmt in ("text", "json"):
            argv = ["policy", "check", "--no-cache", "--policy", str(policy), "--format", fmt]
            result = CliRunner().invoke(cli, ["-q", *argv, f"oci:{_GOOD_LAYOUT[0]}:v1"], catch_exceptions=True)
            _judge(argv[:2], result.exit_code, result.stderr, result.exception, (0, 1))


def check_archive(role: str, data: bytes) -> None:
    """``inspect`` and ``sbom`` of a ``docker save`` tarball whose ``manifest.json`` (``legacy/manifest.json``,
    ``modern/manifest.json``) or whole tar (``legacy.tar``) is damaged: exit 0, or exit 2 with one line."""
    from click.testing import CliRunner

    from fixtures.dockersave import write_tar
    from provenant.cli.main import cli

    with tempfile.TemporaryDirectory(prefix="fuzz-archive-") as tmp:
        archive = Path(tmp) / "image.tar"
        if role == "legacy.tar":
            archive.write_bytes(data)
        else:
            kind, _, name = role.partition("/")
            write_tar(archive, {**SAVED[kind], name: data})
        for argv in (["inspect", "-o", "json"], ["sbom", "--no-cache", "-o", "json"]):
            result = CliRunner().invoke(cli, ["-q", *argv, f"docker-archive:{archive}"], catch_exceptions=True)
            _judge(argv, result.exit_code, result.stderr, result.exception, (0,))


def check_sbom(path: str, data: bytes) -> None:
    """``sbom --no-cache --validate`` in every output format of an image holding the damaged file at ``path``
    beside an Ubuntu ``etc/os-release`` and a dpkg database (so a damaged os-release reaches the deb purls'
    namespace and ``distro`` qualifier): exit 0, or exit 2 with one line."""
    from click.testing import CliRunner

    from fixtures.layers import File, build_layer
    from fixtures.ociimage import ImageSpec, Platform, Step, build_image, layout_files, write_files
    from provenant.cli.main import cli
    from provenant.sbom.formats import FORMATS

    tree = {
        "etc/os-release": File((DATA / "os-release/ubuntu__etc__os-release").read_bytes()),
        "var/lib/dpkg/status": File((DATA / "dpkg/corrupsed.status").read_bytes()),
    }
    tree[path] = File(data, mode=0o755 if path.startswith("usr/bin/") else 0o644)  # the one damaged file
    image = build_image(ImageSpec(Platform("linux", "amd64"), [Step("ADD rootfs /", build_layer(tree))], {}))
    with tempfile.TemporaryDirectory(prefix="fuzz-sbom-") as tmp:
        write_files(Path(tmp) / "layout", layout_files([("v1", image.manifest)], image.blobs()))
        # One scan, every format, each document checked against its schema: an invalid one is an internal error.
        argv = ["sbom", "--no-cache", "--validate", *(f"--output={f}={tmp}/sbom.{f}" for f in FORMATS)]
        result = CliRunner().invoke(cli, ["-q", *argv, f"oci:{tmp}/layout:v1"], catch_exceptions=True)
        _judge(argv, result.exit_code, result.stderr, result.exception, (0,))


_KEYLESS_FLAGS: list[str] = []  # --trusted-root and the signer of the real layouts, set on first use


def _repointed(raw: bytes, moved: dict[str, tuple[str, int]]) -> bytes | None:
    """Manifest or index ``raw`` with each descriptor (config, subject, layers, manifests) of a digest in
    ``moved`` (old digest -> new digest and size) re-pointed; None when it names none of them."""
    if not any(digest.encode() in raw for digest in moved):
        return None
    doc = json.loads(raw)
    for desc in [doc.get("config"), doc.get("subject"), *doc.get("layers", []), *doc.get("manifests", [])]:
        if isinstance(desc, dict) and desc.get("digest") in moved:
            desc["digest"], desc["size"] = moved[desc["digest"]]
    return json.dumps(doc, separators=(",", ":")).encode()


def _relink_layout(layout: Path, old: str, data: bytes) -> None:
    """Blob ``old`` of ``layout`` replaced by ``data``, and every document that names it (a manifest's config,
    layers or subject, an index's manifests, up to index.json) re-pointed, so the damage reaches the parser."""
    from tests import cosigndata as cd

    moved = {old: (cd.put_blob(layout, data), len(data))}
    written = {moved[old][0]}
    while True:  # each round goes one level up (index -> manifest -> layer at the deepest)
        before = len(moved)
        for path in sorted((layout / "blobs" / "sha256").iterdir()):
            digest = f"sha256:{path.name}"
            if digest in moved or digest in written or path.stat().st_size > _COSIGN_DOC_BYTES:
                continue
            raw = path.read_bytes()
            new = _repointed(raw, moved) if raw[:1] == b"{" else None
            if new is not None:
                moved[digest] = (cd.put_blob(layout, new), len(new))
                written.add(moved[digest][0])
        if len(moved) == before:
            break
    (layout / "index.json").write_bytes(_repointed((layout / "index.json").read_bytes(), moved) or b"{}")


#: Documents of the real layouts that are damaged (every JSON blob up to this size; layers are not).
_COSIGN_DOC_BYTES = 64 * 1024


#: The provenance checks of a policy (no SBOM: a scan per run would be most of the run's time).
_PROVENANCE_POLICY = """apiVersion: provenant/v1
kind: ImagePolicy
images: ["**"]
checks:
  provenance:
    requireSigned: true
    builders: ["https://github.com/slsa-framework/*"]
    sources: ["https://github.com/slsa-framework/*"]
    requireSubjectMatch: true
  platforms:
    requireProvenance: true
"""


def check_cosign(role: str, data: bytes) -> None:
    """``attestations``, ``verify`` and ``policy check`` (keyless, against the real trusted root) of a real
    ``cosign save`` layout (``NAME/DIGEST``) whose JSON document DIGEST (index, manifest, config, DSSE
    envelope, BuildKit provenance) is replaced by ``data``, with every document above it re-pointed at it:
    exit 0 (or 1 for ``verify`` and ``policy check``), or exit 2 with one line."""
    from click.testing import CliRunner

    from provenant.cli.main import cli
    from tests import cosigndata as cd

    if not _KEYLESS_FLAGS:
        _KEYLESS_FLAGS.extend(["--trusted-root", str(cd.PROD_ROOT), "--certificate-identity-regexp", cd.GENERATOR])
        _KEYLESS_FLAGS.extend(["--certificate-oidc-issuer", cd.GITHUB_ISSUER])
    name, _, digest = role.partition("/")
    with tempfile.TemporaryDirectory(prefix="fuzz-cosign-") as tmp:
        layout = cd.copy_layout(name, Path(tmp))
        _relink_layout(layout, digest, data)
        policy = Path(tmp) / "provenance.yaml"
        policy.write_text(_PROVENANCE_POLICY)
        for argv, codes in (
            (["attestations", "-o", "json"], (0,)),
            (["attestations"], (0,)),
            (["verify", "-o", "json"], (0, 1)),
            (["verify"], (0, 1)),
            (["policy", "check", "--policy", str(policy), "--format", "json"], (0, 1)),
        ):
            result = CliRunner().invoke(cli, ["-q", *argv, f"oci:{layout}", *_KEYLESS_FLAGS], catch_exceptions=True)
            _judge(argv, result.exit_code, result.stderr, result.exception, codes)


def _cosign_seeds() -> list[tuple[str, str, bytes]]:
    from tests import cosigndata as cd

    out = []
    for name in (cd.V120, cd.V210):
        for path in sorted((cd.DATA / name / "blobs" / "sha256").iterdir()):
            data = path.read_bytes()
            if data[:1] == b"{" and len(data) <= _COSIGN_DOC_BYTES:
                out.append((COSIGN, f"{name}/sha256:{path.name}", data))
    return out


class _Put:
    """One write of the attestation fixtures to a registry: a blob, or a manifest under a tag (or none)."""

    def __init__(self, data: bytes, media_type: str | None = None, tag: str | None = None) -> None:
        self.data, self.media_type, self.tag = data, media_type, tag


class _RecordingStore:
    """A :class:`tests.attestdata.artifacts.Store` that only records what the fixtures write."""

    def __init__(self) -> None:
        self.puts: list[_Put] = []

    def put_blob(self, data: bytes) -> str:
        self.puts.append(_Put(data))
        return str(Digest.of(data))

    def put_manifest(self, data: bytes, media_type: str, ref: str) -> str:
        self.puts.append(_Put(data, media_type, None if ref.startswith("sha256:") else ref))
        return str(Digest.of(data))

    def get_manifest(self, ref: str) -> bytes | None:
        return next((p.data for p in reversed(self.puts) if p.tag == ref), None)


_ATTEST_REPO = "team/app"
_PEM_CERT = ("-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----")
_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@dataclass(frozen=True)
class _AttestSetup:
    """The recorded writes, and the key and keyless policy the library calls are given."""

    puts: list[_Put]
    keys: list[PublicKey]
    keyless: KeylessPolicy


def _attest_base(fake: FakeRegistry) -> tuple[str, list[dict[str, Any]]]:
    """The two-platform image the artifacts are about (the same digests in every registry): the index's
    digest and the descriptors of the index and its two images."""
    amd = fake.put_image(_ATTEST_REPO, layers=[b"amd"], architecture="amd64")
    arm = fake.put_image(_ATTEST_REPO, layers=[b"arm"], architecture="arm64", variant="v8")
    index = fake.put_index(_ATTEST_REPO, [amd, arm], tag="v1")
    stored = fake.manifest(_ATTEST_REPO, index)
    assert stored is not None
    descs: list[dict[str, Any]] = [{"mediaType": stored[1], "digest": index, "size": len(stored[0])}]
    descs += [{"mediaType": _OCI_MANIFEST, "digest": i.digest, "size": i.size} for i in (amd, arm)]
    return index, descs


@cache
def _attest_setup() -> _AttestSetup:
    """Every kind of artifact the attestation tests write, about the index and its platforms, recorded."""
    from provenant.attest import constants as c
    from provenant.attest.keyless import KeylessPolicy
    from provenant.attest.keys import PublicKey
    from tests.attestdata import artifacts as a
    from tests.attestdata import crypto
    from tests.fakeregistry import FakeRegistry

    key, rsa = crypto.new_key(), crypto.new_key("rsa")
    cert = crypto.fulcio_like_cert(key, "dev@example.com", "https://accounts.example.com")
    pem = crypto.public_pem(key)
    index, (index_desc, amd, arm) = _attest_base(FakeRegistry(referrers=True))
    store = _RecordingStore()
    a.write_signature(store, index, key)
    cert_pem = base64.encodebytes(cert).decode()
    a.write_signature(store, str(amd["digest"]), key, certificate_pem=f"{_PEM_CERT[0]}\n{cert_pem}{_PEM_CERT[1]}\n")
    a.write_signature(store, str(arm["digest"]), rsa)
    a.write_attestation(store, str(arm["digest"]), a.statement(str(arm["digest"]), c.SLSA_V1, {"x": 1}), key, c.SLSA_V1)
    spdx = a.statement(str(amd["digest"]), c.SPDX, {"spdxVersion": "SPDX-2.3", "packages": [{"name": "p"}]})
    a.write_attestation(store, str(amd["digest"]), spdx, key, c.SPDX)
    a.write_sbom(store, index, b'{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"c"}]}')
    stmt = a.statement(index, c.SLSA_V1, {"buildDefinition": {"buildType": "t"}}, v1=True)
    a.write_referrer(store, index_desc, a.bundle_with_key(stmt, key), fallback_tag=True)
    a.write_referrer(store, index_desc, a.bundle_with_cert(stmt, key, cert))
    a.write_referrer(store, index_desc, a.message_signature_bundle(index, key))
    bundles = ROOT / "tests" / "data" / "bundles"
    for real in ("cosign-oci-attestation.sigstore.json", "gh-sigstore-js-2.1.0-bundle.json"):
        a.write_referrer(store, amd, (bundles / real).read_bytes())
    root = ROOT / "tests" / "data" / "cosign" / "trusted_root.production.json"
    return _AttestSetup(
        store.puts,
        [PublicKey.from_pem(pem, "fuzz.pub")],
        KeylessPolicy(root, "dev@example.com", "https://accounts.example.com"),
    )


def _attest_roles() -> list[tuple[str, str, bytes]]:
    """One seed per write the registry keeps: blobs, and manifests no later write of their tag replaces."""
    puts = _attest_setup().puts
    out = []
    for i, put in enumerate(puts):
        if put.tag is not None and any(p.tag == put.tag for p in puts[i + 1 :]):
            continue
        kind = "blob" if put.media_type is None else f"manifest {put.tag or 'referrer'}"
        out.append((ATTEST, f"{i}: {kind}", put.data))
    return out


def check_attest(role: str, data: bytes) -> None:
    """``list_attestations`` and ``verify_image`` (a key and a keyless policy) of a registry holding every
    recorded artifact, write ``N`` of them (the role's number) replaced by ``data`` and every manifest that
    named it re-linked; then both results rendered as text and JSON. A ProvenantError is the command's one line."""
    from provenant.attest.result import list_attestations
    from provenant.attest.verify import verify_image
    from provenant.cli.attest_cmds import render_attestations, render_verify
    from provenant.jsontext import model_json
    from provenant.session import Session
    from provenant.sources.registry import RegistryOptions
    from tests.fakeregistry import FakeRegistry

    setup = _attest_setup()
    puts = setup.puts
    n = int(role.partition(":")[0])
    #: Digest of a write -> (digest, size) of what replaced it, so that every manifest above it follows.
    moved = {str(Digest.of(puts[n].data)): (str(Digest.of(data)), len(data))}
    fake = FakeRegistry(referrers=True)
    _attest_base(fake)
    for i, put in enumerate(puts):
        body = data if i == n else put.data
        if put.media_type is None:
            fake.put_blob(_ATTEST_REPO, body)
            continue
        new = _repointed(body, moved) if i != n else None
        if new is not None:
            body = new
            moved[str(Digest.of(put.data))] = (str(Digest.of(body)), len(body))
        fake.put_manifest(_ATTEST_REPO, body, put.media_type, put.tag)
    options = RegistryOptions(
        transport=fake.transport(), sleep=lambda _s: None, docker_config=Path("/nonexistent/fuzz/config.json")
    )
    ref = f"{fake.host}/{_ATTEST_REPO}:v1"
    try:
        with Session(options) as session:
            listed = list_attestations(session, ref, keys=setup.keys, keyless=setup.keyless)
            verdict = verify_image(session, ref, setup.keys, keyless=setup.keyless)
    except ProvenantError as exc:
        raise CatalogError(str(exc)) from exc
    render_attestations(listed), render_verify(verdict), model_json(listed), model_json(verdict)


#: The answer ``@registry`` damages: role -> (what is replaced, the request whose first 200 answer it is).
_ANSWERS: dict[str, tuple[str, Callable[[str, str, str], bool]]] = {
    "token": ("body", lambda host, method, path: host == "auth.example.test"),
    "tags": ("body", lambda host, method, path: path.endswith("/tags/list")),
    "tags-link": ("header Link", lambda host, method, path: path.endswith("/tags/list")),
    "referrers": ("body", lambda host, method, path: "/referrers/" in path),
    "index": ("body", lambda host, method, path: path.endswith("/manifests/v1") and method == "GET"),
    "content-type": ("header Content-Type", lambda host, method, path: "/manifests/" in path),
    "content-digest": ("header Docker-Content-Digest", lambda host, method, path: "/manifests/" in path),
    "retry-after": ("status 429 header Retry-After", lambda host, method, path: "/manifests/" in path),
    "error": ("status 404 body", lambda host, method, path: "/blobs/" in path),
}
#: The challenge is the first 401's.
_CHALLENGE = "challenge"
_TOKEN = "@TOKEN@"  # noqa: S105 - stands for the token the fake issued, in the damaged token answer


def _registry_fake() -> FakeRegistry:
    """A token-protected registry with the attestation image, a referrer and more tags than one page."""
    from tests.attestdata import artifacts as a
    from tests.fakeregistry import FakeRegistry

    fake = FakeRegistry(referrers=True)
    fake.tags_page_size = 2
    index, (index_desc, _amd, _arm) = _attest_base(fake)
    for tag in ("v1.1", "v2", "latest"):
        fake.tag(_ATTEST_REPO, tag, index)
    sbom = b'{"bomFormat":"CycloneDX"}'
    a.write_referrer(a.FakeStore(fake, _ATTEST_REPO), index_desc, sbom, "application/vnd.cyclonedx+json")
    fake.require_bearer()
    return fake


def _registry_workload(transport: httpx.BaseTransport) -> list[str]:
    """``inspect``, ``tags`` and ``attestations`` of the fake's image, as the commands call them."""
    from provenant.attest.result import list_attestations
    from provenant.inspect import inspect
    from provenant.jsontext import model_json
    from provenant.session import Session
    from provenant.sources.registry import RegistryOptions
    from provenant.tags import list_tags

    options = RegistryOptions(
        transport=transport,
        sleep=lambda _s: None,
        docker_config=Path("/nonexistent/fuzz/config.json"),
    )
    repo = f"127.0.0.1:5000/{_ATTEST_REPO}"
    with Session(options) as session:
        calls: list[Callable[[], BaseModel]] = [
            lambda: inspect(session, f"{repo}:v1"),
            lambda: list_tags(session, repo),
            lambda: list_attestations(session, f"{repo}:v1"),
        ]
        return [model_json(call()) for call in calls]


def _registry_seeds() -> list[tuple[str, str, bytes]]:
    """The first matching answer of each kind in a clean run, as the registry sent it."""
    import httpx

    fake = _registry_fake()
    seen: dict[str, bytes] = {}

    def record(request: httpx.Request) -> httpx.Response:
        resp = fake.handler(request)
        for role, (what, _) in [(_CHALLENGE, ("header WWW-Authenticate", None)), *_ANSWERS.items()]:
            if role not in seen and _matches(role, request, resp):
                header = what.rpartition("header ")[2] if "header" in what else None
                seen[role] = resp.headers.get(header, "").encode("latin-1") if header else resp.content
                if role == "token":
                    token = json.loads(resp.content)["token"]
                    seen[role] = seen[role].replace(token.encode(), _TOKEN.encode())
        return resp

    _registry_workload(httpx.MockTransport(record))
    seen["retry-after"] = b"3"
    seen["error"] = b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry","detail":"sha256:00"}]}'
    return [(REGISTRY, role, seen[role]) for role in (_CHALLENGE, *_ANSWERS)]


def _matches(role: str, request: httpx.Request, resp: httpx.Response) -> bool:
    """Whether ``resp`` (to ``request``) is the kind of answer ``role`` damages."""
    if role == _CHALLENGE:
        return resp.status_code == 401
    if resp.status_code != 200:
        return False
    return _ANSWERS[role][1](request.url.host, request.method, request.url.path)


def check_registry(role: str, data: bytes) -> None:
    """The workload against the fake registry with the first answer of kind ``role`` replaced by ``data``
    (a header, with what HTTP cannot carry in one taken out; a body, without a Docker-Content-Digest that
    would stop it at the digest check). A ProvenantError is the command's one line."""
    import httpx

    fake = _registry_fake()
    what = "header WWW-Authenticate" if role == _CHALLENGE else _ANSWERS[role][0]
    done = [False]

    def damaged(request: httpx.Request) -> httpx.Response:
        resp = fake.handler(request)
        if done[0] or not _matches(role, request, resp):
            return resp
        done[0] = True
        status = int(what.split()[1]) if what.startswith("status ") else resp.status_code
        dropped = (b"content-length", b"docker-content-digest")
        headers = {k: v for k, v in resp.headers.raw if k.lower() not in dropped}
        body = resp.content
        if "header " in what:  # bytes as they came off the wire, less what cannot be in a header
            headers[what.rpartition("header ")[2].encode()] = data.translate(None, b"\r\n\x00")
        else:
            token = json.loads(resp.content)["token"].encode() if role == "token" else b""
            body = data.replace(_TOKEN.encode(), token) if role == "token" else data
        if "docker-content-digest" in resp.headers and role != "index":
            headers[b"Docker-Content-Digest"] = resp.headers["docker-content-digest"].encode()
        return httpx.Response(status, headers=list(headers.items()), content=body)

    try:
        _registry_workload(httpx.MockTransport(damaged))
    except ProvenantError as exc:
        raise CatalogError(str(exc)) from exc


#: What the raw server answers a token request with when the damage is elsewhere.
_QUICK_TOKEN = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n{"token": "t0k"}\n'
#: What it answers a registry request with when the damage is in the token answer: a challenge naming it.
_QUICK_CHALLENGE = (
    b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n"
    b'WWW-Authenticate: Bearer realm="http://@HOST@/token",service="reg",scope="repository:team/app:pull"\r\n\r\n'
)


#: What the raw server answers now: a registry request, then a token request (``@HOST@``: its host).
_QUICK_ANSWERS = [b"", b""]


@cache
def _raw_server() -> HostileServer:
    """The scripted server of the hostile tests on 127.0.0.1, answering every request with the raw bytes of
    :data:`_QUICK_ANSWERS` (``/token`` the second) and closing the connection."""
    import socket

    from tests.hostile.server import HostileServer, Request

    def answer(req: Request, conn: socket.socket, srv: HostileServer) -> None:
        raw = _QUICK_ANSWERS[1] if req.path.split("?")[0] == "/token" else _QUICK_ANSWERS[0]
        conn.sendall(raw.replace(b"@HOST@", srv.host.encode()))
        conn.shutdown(socket.SHUT_WR)

    srv = HostileServer().start()
    srv.route("*", "", answer)
    return srv


def _quick_seeds() -> list[tuple[str, str, bytes]]:
    """Raw answers as a registry (or its token service) sends them to the lean client."""
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": _OCI_MANIFEST,
                    "digest": "sha256:" + "ab" * 32,
                    "size": 500,
                    "platform": {"architecture": "amd64", "os": "linux"},
                }
            ],
        },
        separators=(",", ":"),
    ).encode()
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.index.v1+json\r\n"
        b"Docker-Content-Digest: " + str(Digest.of(index)).encode() + b"\r\n"
    )
    tags = b'{"name":"team/app","tags":["v1","v2"]}'
    chunked = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(part), part) for part in (index[:40], index[40:])) + b"0\r\n\r\n"
    return [
        (QUICK, "head", head + b"Content-Length: %d\r\n\r\n" % len(index)),
        (QUICK, "manifest", head + b"Content-Length: %d\r\n\r\n" % len(index) + index),
        (QUICK, "manifest-chunked", head + b"Transfer-Encoding: chunked\r\nX-T: 1\r\n\r\n" + chunked),
        (
            QUICK,
            "tags",
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b'Link: </v2/team/app/tags/list?n=2&last=v2>; rel="next"\r\n'
            b"Content-Length: %d\r\n\r\n" % len(tags) + tags,
        ),
        (QUICK, "tags-to-close", b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + tags),
        (QUICK, "challenge", _QUICK_CHALLENGE),
        (QUICK, "token", _QUICK_TOKEN),
    ]


def check_quick(role: str, data: bytes) -> None:
    """The lean client's questions (a HEAD, the tags, a manifest, the catalog) to a server answering ``data``:
    each ends as an answer or None (asked again by the full client), never as an exception."""
    from provenant.reference import parse_reference
    from provenant.sources.registry.quick import QuickRegistry

    srv = _raw_server()
    srv.log.clear()  # it keeps every request; a fuzz run makes hundreds of thousands
    _QUICK_ANSWERS[:] = [_QUICK_CHALLENGE, data] if role == "token" else [data, _QUICK_TOKEN]
    ref = parse_reference(f"{srv.host}/team/app:v1")
    with QuickRegistry(env={"HOME": "/nonexistent/fuzz"}, timeout=2.0) as quick:
        quick.head(ref)
        quick.list_tags(ref)
        quick.fetch_manifest(ref)
        quick.list_repositories(srv.host)


#: A string that may hold base64 (of a document, a signature, a certificate).
_B64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


def _inner_documents(doc: Any) -> list[tuple[Any, Any, str]]:
    """Strings of ``doc`` that hold another document: (container, key, encoding: JSON text, PEM or base64)."""
    found: list[tuple[Any, Any, str]] = []

    def walk(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            if isinstance(value, str):
                if value.lstrip()[:1] in ("{", "["):
                    found.append((node, key, "json"))
                elif value.startswith("-----BEGIN "):
                    found.append((node, key, "pem"))
                elif len(value) % 4 == 0 and _B64.fullmatch(value):
                    found.append((node, key, "base64"))
            else:
                walk(value)

    walk(doc)
    return found


def mutate_nested(data: bytes, rng: random.Random) -> bytes:
    """Half the time, ``data`` (JSON) with a document held in one of its strings damaged and put back in
    the same encoding (recursively: a statement in a DSSE payload in a bundle in an annotation); else
    :func:`mutate`."""
    try:
        doc = json.loads(data)
    except ValueError:
        return mutate(data, rng)
    inner = _inner_documents(doc)
    if not inner or rng.random() < 0.5:
        return mutate(data, rng)
    container, key, encoding = rng.choice(inner)
    text: str = container[key]
    try:
        if encoding == "json":
            damaged = mutate_nested(text.encode("utf-8", "surrogatepass"), rng)
            value = damaged.decode("utf-8", "surrogateescape")
        elif encoding == "pem":
            lines = text.strip().splitlines()
            body = base64.b64decode("".join(lines[1:-1]))
            wrapped = base64.encodebytes(mutate(body, rng)).decode().strip()
            value = "\n".join([lines[0], wrapped, lines[-1]]) + "\n"
        else:
            value = base64.b64encode(mutate_nested(base64.b64decode(text), rng)).decode()
    except (binascii.Error, IndexError, UnicodeError):
        return mutate(data, rng)
    container[key] = value
    return json.dumps(doc, separators=(",", ":")).encode()


class CommandFailed(Exception):
    """A command gave a traceback, an internal error, several error lines or an unexpected exit code."""

    def kind(self) -> str:
        """The message without its quoted values and numbers: one finding per kind of failure, not per
        input (they are all raised at the same line, which is what tells other findings apart)."""
        return re.sub(r"'[^']*'|\"[^\"]*\"|\d+", "_", str(self))[:120]


def _tar_of(files: dict[str, bytes]) -> bytes:
    from fixtures.layers import File, build_tar

    return build_tar({name: File(data) for name, data in files.items()})


def seeds() -> list[tuple[str, str, bytes]]:
    """Every (cataloger, image path, bytes) the mutations start from."""
    out = [(name, path, (DATA / rel).read_bytes()) for name, path, rel in SEEDS]
    out += [(name, path, jar_of(DATA / rel)) for name, path, rel in JARS]
    out.append(("apk", "lib/apk/db/installed", APK))
    out += [(LAYER, f"layer-{fmt}.tar", layer_tar(fmt)) for fmt in (tarfile.PAX_FORMAT, tarfile.GNU_FORMAT)]
    out.append((IMAGE, "index.json", IMAGE_FILES["index.json"]))
    out += [(POLICY, f"policies/{p.name}", p.read_bytes()) for p in sorted((ROOT / "policies").glob("*.yaml"))]
    out += [(ARCHIVE, f"{kind}/manifest.json", files["manifest.json"]) for kind, files in SAVED.items()]
    out.append((ARCHIVE, "legacy.tar", _tar_of(SAVED["legacy"])))
    out += [(IMAGE, role, IMAGE_FILES[_blob_path(digest)]) for role, digest in IMAGE_DOCS.items()]
    out += _cosign_seeds()
    out += _attest_roles()
    out += _registry_seeds()
    out += _quick_seeds()
    out += [(SBOM, path, (DATA / rel).read_bytes()) for _, path, rel in SEEDS]
    out.append((SBOM, "lib/apk/db/installed", APK))
    out += [(SBOM, path, jar_of(DATA / rel)) for _, path, rel in JARS]
    return out


#: Values a JSON document's node is replaced with: other types, edges of numbers and strings.
ODD_VALUES: list[object] = [
    None,
    True,
    0,
    -1,
    2**63,
    -(2**63) - 1,
    1e308,
    0.5,
    "",
    "x" * 5000,
    "\u0000\ud800",
    "../../etc/passwd",
    "sha256:" + "0" * 64,
    "sha256:zz",
    "linux/amd64",
    [],
    [[[[]]]],
    {},
    {"": None},
    [None, 1, "a"],
]


def mutate_json(doc: object, rng: random.Random) -> object:
    """``doc`` with one node replaced, removed or duplicated (the document stays valid JSON)."""
    nodes: list[tuple[object, object]] = []  # (container, key or index)

    def collect(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                nodes.append((node, key))
                collect(value)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                nodes.append((node, i))
                collect(value)

    collect(doc)
    if not nodes:
        return copy.deepcopy(rng.choice(ODD_VALUES))
    container, key = rng.choice(nodes)
    op = rng.randrange(4)
    if isinstance(container, dict) and isinstance(key, str):
        if op == 0:
            del container[key]
        elif op == 1:
            container[key + rng.choice(["", "_", "\u00e9"]) or key] = copy.deepcopy(rng.choice(ODD_VALUES))
        else:
            container[key] = copy.deepcopy(rng.choice(ODD_VALUES))
    elif isinstance(container, list) and isinstance(key, int):
        if op == 0:
            del container[key]
        elif op == 1:
            container.extend([container[key]] * rng.randint(1, 200))
        else:
            container[key] = copy.deepcopy(rng.choice(ODD_VALUES))
    return doc


def mutate(data: bytes, rng: random.Random, *, yaml_doc: bool = False) -> bytes:
    """``data`` with one to four random damages (half the time, to a JSON or YAML document's values instead)."""
    if yaml_doc and rng.random() < 0.5:
        import yaml

        doc = yaml.safe_load(data)
        for _ in range(rng.randint(1, 3)):
            doc = mutate_json(doc, rng)
        return yaml.safe_dump(doc, allow_unicode=True).encode("utf-8", "surrogatepass")
    if data[:1] in (b"{", b"[") and rng.random() < 0.5:
        try:
            doc = json.loads(data)
        except ValueError:
            pass
        else:
            for _ in range(rng.randint(1, 3)):
                doc = mutate_json(doc, rng)
            return json.dumps(doc).encode()
    b = bytearray(data or b"x")
    for _ in range(rng.randint(1, 4)):
        if not b:
            b = bytearray(b"x")
        i = rng.randrange(len(b))
        op = rng.randrange(7)
        if op == 0:  # flipped bytes
            for _ in range(rng.randint(1, 16)):
                b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 1:  # cut here
            del b[i:]
        elif op == 2:  # random bytes inserted
            b[i:i] = rng.randbytes(rng.randint(1, 64))
        elif op == 3:  # a stretch repeated
            b[i:i] = b[i : i + rng.randint(1, 4096)] * rng.randint(1, 50)
        elif op == 4:  # a length or offset field made huge or zero
            b[i : i + 4] = rng.choice(LENGTHS)
        elif op == 5:  # a stretch removed
            del b[i : i + rng.randint(1, 256)]
        else:  # a delimiter inserted
            b[i:i] = rng.choice(SPLICES)
    return bytes(b)


def scan_whole_layer(path: str, tar: bytes) -> object:
    """``tar`` (damaged) scanned as an uncompressed layer by the real plan; its digests match it."""
    digest = str(Digest.of(tar))
    try:
        return scan_layer(
            iter([tar[k : k + CHUNK] for k in range(0, len(tar), CHUNK)]), digest=digest, diff_id=digest, plan=PLAN
        )
    except ProvenantError as exc:  # the layer's own error (corrupt, over a limit): what the user is told
        raise CatalogError(str(exc)) from exc


def runner(catalogers: dict[str, Cataloger], name: str) -> Callable[[str, bytes], object]:
    """How the scan hands ``name``'s files over: parse, the executable sniff and streams, or a whole layer."""
    checks: dict[str, Callable[[str, bytes], object]] = {
        LAYER: scan_whole_layer,
        IMAGE: check_commands,
        POLICY: check_policy,
        ARCHIVE: check_archive,
        COSIGN: check_cosign,
        ATTEST: check_attest,
        REGISTRY: check_registry,
        QUICK: check_quick,
        SBOM: check_sbom,
    }
    if name in checks:
        return checks[name]
    if name != EXE:
        return catalogers[name].parse

    def executable(path: str, data: bytes) -> None:
        chunks = [data[k : k + CHUNK] for k in range(0, len(data), CHUNK)]
        for c in catalogers.values():
            if c.sniffs_executables:
                c.sniff(path, iter(chunks))
            if c.streams_executables or (c.streams and c.matches(path)):
                parser = c.stream(path, len(data))
                if parser is not None:
                    for chunk in chunks:
                        parser.feed(chunk)
                    parser.close()

    return executable


class TooSlow(Exception):
    """A run went over ``--timeout``."""


def _too_slow(signum: int, frame: FrameType | None) -> None:
    raise TooSlow


def where(exc: BaseException) -> str:
    """The innermost provenant frame of ``exc``'s traceback (else its innermost frame)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{os.sep}provenant{os.sep}" in f.filename]
    f = (ours or frames)[-1]
    return f"{Path(f.filename).name}:{f.lineno}"


def fuzz(args: argparse.Namespace) -> int:
    catalogers = {c.name: c for c in all_catalogers()}
    pool = [s for s in seeds() if args.only == s[0] or (args.only is None and s[0] not in ONLY_WHEN_ASKED)]
    if not pool:
        raise SystemExit(f"no seed for {args.only!r}: one of {sorted({s[0] for s in seeds()})}")
    out = Path(args.out)
    rng = random.Random(args.seed)  # noqa: S311 - reproducible damage, not secrets
    signal.signal(signal.SIGALRM, _too_slow)
    findings: dict[tuple[str, ...], str] = {}
    end = time.monotonic() + args.seconds
    runs = 0
    while (runs < args.runs) if args.runs else (time.monotonic() < end):
        name, path, data = rng.choice(pool)
        damaged = mutate_nested(data, rng) if name in (COSIGN, ATTEST) else mutate(data, rng, yaml_doc=name == POLICY)
        runs += 1
        signal.setitimer(signal.ITIMER_REAL, args.timeout)
        try:
            runner(catalogers, name)(path, damaged)
        except CatalogError:
            continue
        except TooSlow:
            key: tuple[str, ...] = (name, "over --timeout")
            what = f"over {args.timeout} s"
        except Exception as exc:
            key = (name, type(exc).__name__, exc.kind() if isinstance(exc, CommandFailed) else where(exc))
            what = f"{type(exc).__name__}: {str(exc)[:160]} at {where(exc)}"
        else:
            continue
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if key not in findings:
            out.mkdir(parents=True, exist_ok=True)
            saved = out / f"{len(findings) + 1}-{name.strip('@')}.bin"
            saved.write_bytes(damaged)
            findings[key] = what
            print(f"{name} {path}: {what} (input: {saved})", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"{runs} runs over {len(pool)} seeds, seed {args.seed}: {len(findings)} finding(s); peak RSS {peak} MB")
    return 1 if findings else 0


def replay(args: argparse.Namespace) -> int:
    if args.only is None or args.path is None:
        raise SystemExit("--replay needs --only NAME and --path PATH, both as the finding line names them")
    catalogers = {c.name: c for c in all_catalogers()}
    try:
        result = runner(catalogers, args.only)(args.path, Path(args.replay).read_bytes())
    except CatalogError as exc:
        print(f"CatalogError: {exc}")
        return 0
    print(f"read: {result!r}"[:2000])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to run (default 60)")
    parser.add_argument("--runs", type=int, default=0, help="a number of runs instead of a duration")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", help=f"one cataloger's seeds ({EXE} for executables)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds one run may take (default 3)")
    parser.add_argument("--out", default="fuzz-findings", help="where inputs of findings go")
    parser.add_argument("--replay", help="run one saved input (with --only and --path) and show what it gave")
    parser.add_argument("--path", help="the image path (or @image/@archive/@policy role) a finding line names")
    args = parser.parse_args()
    return replay(args) if args.replay else fuzz(args)


if __name__ == "__main__":
    sys.exit(main())
