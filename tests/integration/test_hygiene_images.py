"""``assess()`` over the hygiene fixture images in the real registry, against the reports the fixture
build computed from what it wrote; and the secrets cataloger leaves every SBOM unchanged."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from fixtures import FixtureSet, Registry
from fixtures.hygieneimages import SECRET_VALUES, expected_report, hidden_files
from fixtures.layers import decompress
from provenant.cache import LayerCache
from provenant.catalog.registry import all_catalogers
from provenant.catalog.scanversion import scanner_version
from provenant.hygiene import assess
from provenant.layers.scan import ScanPlan
from provenant.sbom.generate import analyze, generate_sbom
from provenant.session import Session

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("repo", ["hygiene-bad", "hygiene-good"])
def test_assess_matches_the_fixture(registry: Registry, fixture_set: FixtureSet, repo: str) -> None:
    fx = fixture_set.image(f"{repo}:1")
    with Session() as session:
        (image,) = analyze(session, f"{registry.host}/{repo}:1").images
    report = assess(image)
    assert report.model_dump(mode="json") == expected_report(fx.layout)
    dumped = report.model_dump_json()
    for value in SECRET_VALUES:
        assert value not in dumped
    assert not image.sbom.issues


def test_hygiene_bad_from_the_layer_cache(registry: Registry, tmp_path: Path) -> None:
    """A second run serves every layer from the cache: same report, and no cache entry holds a secret."""
    cache = LayerCache(tmp_path)
    ref = f"{registry.host}/hygiene-bad:1"
    with Session() as session:
        first = assess(analyze(session, ref, cache=cache).images[0])
        again = analyze(session, ref, cache=cache)
    assert again.cached == {layer.desc.digest for layer in again.images[0].layers}
    assert assess(again.images[0]) == first
    entries = list(tmp_path.rglob("*.json.gz"))
    assert len(entries) == 4
    for entry in entries:
        raw = gzip.decompress(entry.read_bytes())
        for value in SECRET_VALUES:
            assert value.encode() not in raw


IMAGES = ["sbom-python", "sbom-node", "sbom-java", "sbom-whiteout", "sbom-distroless", "hygiene-bad", "hygiene-good"]


@pytest.mark.parametrize("repo", IMAGES)
def test_secrets_cataloger_leaves_the_sbom_unchanged(registry: Registry, repo: str) -> None:
    without = ScanPlan(tuple(c for c in all_catalogers() if c.name != "secrets"), scanner_version())
    ref = f"{registry.host}/{repo}:1"
    with Session() as session:
        (full,) = generate_sbom(session, ref).images
        (plain,) = generate_sbom(session, ref, plan=without).images
    assert full.model_dump(mode="json") == plain.model_dump(mode="json")
    assert all(p.found_by != "secrets" for p in full.packages)


@pytest.mark.parametrize("repo", ["hygiene-bad", "hygiene-good"])
def test_packages_match_dpkg_query(registry: Registry, fixture_set: FixtureSet, repo: str) -> None:
    """The tooling evidence stands on the SBOM: its deb packages are what dpkg-query lists."""
    fx = fixture_set.image(f"{repo}:1")
    expected = {(e["name"], e["version"]): e["layer"] for e in fx.expected_packages()}
    with Session() as session:
        (img,) = generate_sbom(session, f"{registry.host}/{repo}:1").images
    got = {(p.name, p.version): p.introduced_in.layer_index if p.introduced_in else None for p in img.packages}
    assert got == expected


def _blob(layout: Path, digest: str) -> bytes:
    return (layout / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()


ALL = ["debian-base:12", "debian-multiarch:12", "debian-multiarch:12-r2", "sbom-whiteout:1", "sbom-apk:1",
       "sbom-distroless:1", "hygiene-bad:1"]  # fmt: skip


@pytest.mark.parametrize("ref", ALL)
def test_wasted_bytes_and_sizes_match_a_tarfile_walk(registry: Registry, fixture_set: FixtureSet, ref: str) -> None:
    """Whiteouts, opaque directories and rewritten dpkg databases of every platform, checked against
    the fixture's own tarfile walk over the layout's layer blobs."""
    fx = fixture_set.image(ref)
    with Session() as session:
        images = analyze(session, f"{registry.host}/{ref}").images
    assert {img.sbom.platform for img in images} == set(fx.platforms)
    for img in images:
        manifest = json.loads(_blob(fx.layout, fx.platforms[img.sbom.platform]))
        tars = [decompress(_blob(fx.layout, d["digest"]), d["mediaType"]) for d in manifest["layers"]]
        report = assess(img)
        assert [w.model_dump() for w in report.wasted_files] == hidden_files(tars)
        assert report.wasted_bytes == sum(w["size"] for w in hidden_files(tars))
        assert report.size == sum(len(t) for t in tars)
        assert report.compressed_size == manifest["config"]["size"] + sum(d["size"] for d in manifest["layers"])


@pytest.mark.parametrize("tag", ["12", "12-r2"])
def test_debian_multiarch_env_token_on_every_platform(registry: Registry, tag: str) -> None:
    """recipes.app_config sets API_TOKEN in the env and in an ENV history line; USER 65534:65534."""
    with Session() as session:
        images = analyze(session, f"{registry.host}/debian-multiarch:{tag}").images
    assert len(images) == 2
    for img in images:
        report = assess(img)
        assert (report.user, report.runs_as_root) == ("65534:65534", False)
        assert [(f.rule, f.where, f.layer_index, f.detail) for f in report.secrets] == [
            ("secret-env", "env", None, "env API_TOKEN=<redacted>"),
            ("secret-in-history", "history", None, "history: API_TOKEN=<redacted>"),
        ]
        assert "s3cr3t-value" not in report.model_dump_json()
        assert report.build_tooling == [] and report.caches == []
