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
``@archive`` for ``docker save`` tarballs).
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import os
import random
import resource
import signal
import sys
import tarfile
import tempfile
import time
import traceback
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from provenant.catalog.base import Cataloger, CatalogError  # noqa: E402
from provenant.catalog.registry import all_catalogers, default_plan  # noqa: E402
from provenant.digest import Digest  # noqa: E402
from provenant.errors import ProvenantError  # noqa: E402
from provenant.layers.scan import scan_layer  # noqa: E402

DATA = ROOT / "tests" / "data" / "catalog"
EXE = "@exe"  # the executable path: the sniffer and every cataloger that streams executables
LAYER = "@layer"  # a whole uncompressed layer through the real scan plan (tar walk, view, catalogers)
IMAGE = "@image"  # one JSON document of an OCI layout, then `inspect` and `sbom` through the CLI
POLICY = "@policy"  # a policy file (policies/*.yaml), then `policy check` through the CLI
ARCHIVE = "@archive"  # a `docker save` tarball's manifest.json or whole tar, then `inspect` and `sbom`
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


class CommandFailed(Exception):
    """A command gave a traceback, an internal error, several error lines or an unexpected exit code."""


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
    if name == LAYER:
        return scan_whole_layer
    if name == IMAGE:
        return check_commands
    if name == POLICY:
        return check_policy
    if name == ARCHIVE:
        return check_archive
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
    pool = [s for s in seeds() if args.only in (None, s[0])]
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
        damaged = mutate(data, rng, yaml_doc=name == POLICY)
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
            key = (name, type(exc).__name__, where(exc))
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
