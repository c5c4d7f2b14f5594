"""Facts about a fixture image read straight from its OCI layout (no provenant code involved).

The expected values of the compare/diff/report tests come from here, from the fixture recipes, and
from the ``expected.json`` files dpkg-query wrote, never from provenant's output.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fixtures import ImageFixture


@dataclass(frozen=True)
class PlatformFacts:
    """One platform manifest of a layout, as its JSON documents state it."""

    platform: str
    digest: str
    manifest_size: int  # the index entry's size of the manifest document
    config_size: int
    layer_sizes: list[int]
    layer_digests: list[str]
    diff_ids: list[str]
    uncompressed_sizes: list[int]  # each layer blob inflated here, with zlib

    @property
    def compressed(self) -> int:
        """Config blob + layer blobs: what provenant documents as ``compressed_size``."""
        return self.config_size + sum(self.layer_sizes)

    @property
    def uncompressed(self) -> int:
        return sum(self.uncompressed_sizes)


def blob(layout: Path, digest: str) -> bytes:
    algo, _, hexdigest = digest.partition(":")
    return (layout / "blobs" / algo / hexdigest).read_bytes()


def _inflated_size(data: bytes) -> int:
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    n = 0
    for i in range(0, len(data), 1 << 20):
        n += len(d.decompress(data[i : i + (1 << 20)]))
    return n + len(d.flush())


def _platform(p: dict[str, Any]) -> str:
    parts = [p["os"], p["architecture"]] + ([p["variant"]] if p.get("variant") else [])
    return "/".join(parts)


def platform_facts(fx: ImageFixture) -> dict[str, PlatformFacts]:
    """Every runnable platform of ``fx`` (attestation manifests, ``unknown/unknown``, skipped)."""
    layout = fx.layout
    top = json.loads(blob(layout, fx.digest))
    entries = top.get("manifests")
    if entries is None:
        config = json.loads(blob(layout, top["config"]["digest"]))
        plat = {"os": config["os"], "architecture": config["architecture"], "variant": config.get("variant")}
        entries = [{"digest": fx.digest, "size": len(blob(layout, fx.digest)), "platform": plat}]
    out = {}
    for entry in entries:
        if entry["platform"]["os"] == "unknown":
            continue
        manifest = json.loads(blob(layout, entry["digest"]))
        config = json.loads(blob(layout, manifest["config"]["digest"]))
        platform = _platform(entry["platform"])
        out[platform] = PlatformFacts(
            platform=platform,
            digest=entry["digest"],
            manifest_size=entry["size"],
            config_size=manifest["config"]["size"],
            layer_sizes=[layer["size"] for layer in manifest["layers"]],
            layer_digests=[layer["digest"] for layer in manifest["layers"]],
            diff_ids=config["rootfs"]["diff_ids"],
            uncompressed_sizes=[_inflated_size(blob(layout, layer["digest"])) for layer in manifest["layers"]],
        )
    return out


def config_of(fx: ImageFixture, platform: str) -> dict[str, Any]:
    """The ``config`` object of one platform's image config."""
    digest = platform_facts(fx)[platform].digest
    manifest = json.loads(blob(fx.layout, digest))
    cfg: dict[str, Any] = json.loads(blob(fx.layout, manifest["config"]["digest"]))["config"]
    return cfg


def expected_versions(fx: ImageFixture, platform: str) -> dict[tuple[str, str], str]:
    """(type, name) -> version of the packages dpkg-query found in ``platform``."""
    return {(p["type"], p["name"]): p["version"] for p in fx.expected_packages(platform)}


def expected_type_counts(fx: ImageFixture, platform: str) -> dict[str, int]:
    return dict(Counter(p["type"] for p in fx.expected_packages(platform)))
