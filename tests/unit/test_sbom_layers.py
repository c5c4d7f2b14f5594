"""scan_layers and catalog_image: the cache's diff_id check, limits in the cache key, merged duplicates
keeping the earliest introducing layer, hardlinked files cataloged once."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import ClassVar

import pytest

from provenant import limits
from provenant.cache import LayerCache
from provenant.catalog.base import Cataloger, ParsedFile
from provenant.digest import Digest
from provenant.image import ImageReader, PlatformImage
from provenant.layers.scan import LayerScan, ScanPlan
from provenant.layers.view import ImageView
from provenant.oci import mediatypes as mt
from provenant.sbom.generate import ImageLayer, catalog_image, scan_layers
from provenant.sbom.model import Package
from tests.memsource import MemorySource
from tests.unit.test_layer_scan import Item, make_tar


class _Lines(Cataloger):
    """Each ``name version`` line of the file is a generic package with a purl."""

    def parse(self, path: str, data: bytes) -> ParsedFile:
        pkgs = []
        for line in data.decode().splitlines():
            name, version = line.split()
            purl = f"pkg:generic/{name}@{version}"
            pkgs.append(Package(name=name, version=version, type="generic", purl=purl, found_by=self.name))
        return ParsedFile(packages=pkgs)


class CatA(_Lines):
    name: ClassVar[str] = "cat-a"
    patterns: ClassVar[tuple[str, ...]] = ("a/*.txt",)


class CatB(_Lines):
    name: ClassVar[str] = "cat-b"
    patterns: ClassVar[tuple[str, ...]] = ("b/*.txt",)


class Counting(_Lines):
    name: ClassVar[str] = "counting"
    patterns: ClassVar[tuple[str, ...]] = ("**/*.txt",)
    calls: ClassVar[list[str]] = []

    def parse(self, path: str, data: bytes) -> ParsedFile:
        Counting.calls.append(path)
        return super().parse(path, data)


def _image(layers: list[list[Item]]) -> tuple[ImageReader, PlatformImage, list[ImageLayer]]:
    src = MemorySource()
    tars = [make_tar(items) for items in layers]
    descs = [src.add(gzip.compress(t, mtime=0), mt.OCI_LAYER_GZIP) for t in tars]
    config = {
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [str(Digest.of(t)) for t in tars]},
        "history": [{"created_by": f"step {i}"} for i in range(len(tars))],
    }
    cfg = src.add_json(config, mt.OCI_CONFIG)
    src.tags["latest"] = src.add_json(
        {"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST, "config": cfg, "layers": descs}, mt.OCI_MANIFEST
    )["digest"]
    reader = ImageReader(src)
    (img,) = reader.load_images(reader.fetch_manifest("latest"))
    diff_ids = img.config.rootfs.diff_ids
    return reader, img, [ImageLayer(d, i) for d, i in zip(img.manifest.layers, diff_ids, strict=True)]


def _catalog(layers: list[list[Item]], plan: ScanPlan, cache: LayerCache | None = None) -> list[Package]:
    reader, img, image_layers = _image(layers)
    descs = [layer.desc for layer in image_layers]
    result = scan_layers(
        reader,
        descs,
        {layer.desc.digest: layer.diff_id for layer in image_layers},
        plan,
        cache or LayerCache(enabled=False),
    )
    scans = [result.scans[d.digest] for d in descs]
    _distro, packages, _issues = catalog_image(img, image_layers, scans, ImageView(scans), plan)
    return packages


@pytest.mark.parametrize("order", [(CatA, CatB), (CatB, CatA)])
def test_merged_duplicates_keep_the_earliest_introducing_layer(order: tuple[type[Cataloger], ...]) -> None:
    # One purl found by two catalogers: in b/ from layer 0, in a/ from layer 1. Whichever cataloger is
    # merged first, the merged package was introduced by layer 0.
    layers: list[list[Item]] = [[("b/x.txt", "file", b"x 1\n")], [("a/x.txt", "file", b"x 1\n")]]
    plan = ScanPlan(tuple(c() for c in order), "test")
    (pkg,) = _catalog(layers, plan)
    assert pkg.introduced_in is not None
    assert pkg.introduced_in.layer_index == 0
    assert pkg.introduced_in.created_by == "step 0"
    assert sorted((loc.path, loc.layer_index) for loc in pkg.locations) == [("a/x.txt", 1), ("b/x.txt", 0)]


def test_cached_scan_is_used_only_with_the_configs_diff_id(tmp_path: Path) -> None:
    plan = ScanPlan((CatA(),), "test")
    reader, _img, image_layers = _image([[("a/x.txt", "file", b"x 1\n")]])
    (layer,) = image_layers
    cache = LayerCache(tmp_path)
    # A cache entry for this blob digest, recorded under another diff_id and claiming other packages.
    forged = LayerScan(digest=layer.desc.digest, diff_id="sha256:" + "1" * 64, uncompressed_size=0)
    first = scan_layers(reader, [layer.desc], {layer.desc.digest: layer.diff_id}, plan, cache)
    assert first.cached == set()
    scanner = next((tmp_path / "layers").iterdir()).name  # the key scan_layers uses (version + limits)
    cache.put(scanner, forged)
    again = scan_layers(reader, [layer.desc], {layer.desc.digest: layer.diff_id}, plan, cache)
    assert again.cached == set()  # the forged entry was not served...
    assert again.scans[layer.desc.digest].diff_id == layer.diff_id  # ...the layer was scanned again
    assert [c.path for c in again.scans[layer.desc.digest].captured] == ["a/x.txt"]
    third = scan_layers(reader, [layer.desc], {layer.desc.digest: layer.diff_id}, plan, cache)
    assert third.cached == {layer.desc.digest}  # and the good scan it stored is served


def test_cache_key_includes_the_scan_limits(tmp_path: Path) -> None:
    plan = ScanPlan((CatA(),), "test")
    reader, _img, image_layers = _image([[("a/x.txt", "file", b"x 1\n")]])
    descs = [layer.desc for layer in image_layers]
    diff_ids = {layer.desc.digest: layer.diff_id for layer in image_layers}
    cache = LayerCache(tmp_path)
    scan_layers(reader, descs, diff_ids, plan, cache)
    assert scan_layers(reader, descs, diff_ids, plan, cache).cached == {descs[0].digest}
    # Under another hardlinks limit the scan may differ: not served from the entry made above.
    other = limits.Limits(hardlinks=3)
    assert scan_layers(reader, descs, diff_ids, plan, cache, limits=other).cached == set()
    assert scan_layers(reader, descs, diff_ids, plan, cache, limits=other).cached == {descs[0].digest}
    # Not a scan limit: same entry.
    assert scan_layers(reader, descs, diff_ids, plan, cache, limits=limits.Limits(timeout=7)).cached == {
        descs[0].digest
    }
    kept = LayerCache(tmp_path).prune(current_scanner="test")
    assert kept.removed_entries == 0 and kept.kept_entries == 2


def test_hardlinks_share_one_parse_and_one_package() -> None:
    Counting.calls.clear()
    items: list[Item] = [("app/x.txt", "file", b"x 1\ny 2\n")]
    items += [(f"app/copy{i}.txt", "hard", "app/x.txt") for i in range(50)]
    plan = ScanPlan((Counting(),), "test")
    packages = _catalog([items], plan)
    assert Counting.calls == ["app/x.txt"]
    assert [p.name for p in packages] == ["x", "y"]
    assert all(len(p.locations) == 51 for p in packages)
