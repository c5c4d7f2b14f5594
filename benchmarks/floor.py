"""The floor of a cold ``sbom``: fetch, sha256 and inflate every layer of one image, nothing else.

No tar walk, no cataloging, no cache writes: only what any scanner of a registry image must do. The
layers are fetched as provenant fetches them (plain HTTP(S) from the registry, at most ``--workers`` at
once, largest first), hashed with hashlib and inflated with the decompressor provenant uses (isal's
gzip when installed, else zlib; zstd), output discarded. The figure printed is the seconds from
the first request (manifest resolution included) to the last byte inflated, in this process; the
interpreter's start-up and imports are not counted, which makes it a strict floor.

Run: ``.venv/bin/python benchmarks/floor.py 127.0.0.1:5000/repo:tag [--platform linux/amd64]``
(loopback registries over plain HTTP; prints ``seconds layers compressed_bytes uncompressed_bytes``).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from provenant.layers.decompress import decompressed

ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
CHUNK = 1 << 20


def _manifest(client: httpx.Client, base: str, ref: str, platform: str) -> dict[str, Any]:
    doc: dict[str, Any] = client.get(f"{base}/manifests/{ref}", headers={"Accept": ACCEPT}).raise_for_status().json()
    if "manifests" in doc:
        os_, arch, *variant = platform.split("/")
        for m in doc["manifests"]:
            p = m.get("platform", {})
            if p.get("os") == os_ and p.get("architecture") == arch and (not variant or p.get("variant") == variant[0]):
                return _manifest(client, base, m["digest"], platform)
        raise SystemExit(f"no {platform} manifest in {ref}")
    return doc


def _layer(client: httpx.Client, base: str, desc: dict[str, Any]) -> int:
    """Fetch one blob, check its sha256, inflate it; the uncompressed size."""
    h = hashlib.sha256()
    inflated = 0

    def chunks() -> Any:
        with client.stream("GET", f"{base}/blobs/{desc['digest']}") as resp:
            resp.raise_for_status()
            for chunk in resp.iter_raw(CHUNK):
                h.update(chunk)
                yield chunk

    for out in decompressed(chunks()):
        inflated += len(out)
    if "sha256:" + h.hexdigest() != desc["digest"]:
        raise SystemExit(f"digest mismatch for {desc['digest']}")
    return inflated


def floor(reference: str, platform: str, workers: int = 4) -> tuple[float, int, int, int]:
    """Seconds, layer count, compressed and uncompressed bytes for one platform of ``reference``."""
    host, _, rest = reference.partition("/")
    repo, _, tag = rest.rpartition("@") if "@" in rest else rest.rpartition(":")
    base = f"http://{host}/v2/{repo}"
    start = time.perf_counter()
    with httpx.Client(timeout=600) as client:
        layers = sorted(_manifest(client, base, tag, platform)["layers"], key=lambda d: d["size"], reverse=True)
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(layers)))) as pool:
            inflated = sum(pool.map(lambda d: _layer(client, base, d), layers))
    return time.perf_counter() - start, len(layers), sum(d["size"] for d in layers), inflated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("reference", help="host:port/repository:tag (or @digest) on a plain-HTTP registry")
    parser.add_argument("--platform", default="linux/amd64")
    parser.add_argument("--workers", type=int, default=4, help="layers at once (provenant's default: 4)")
    args = parser.parse_args()
    seconds, layers, size, inflated = floor(args.reference, args.platform, args.workers)
    print(f"{seconds:.3f} {layers} {size} {inflated}")


if __name__ == "__main__":
    main()
