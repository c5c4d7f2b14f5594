"""``assess()`` over the hygiene fixture images in the real registry, against the reports the fixture
build computed from what it wrote; and the secrets cataloger leaves every SBOM unchanged."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from fixtures import FixtureSet, Registry
from fixtures.hygieneimages import SECRET_VALUES, expected_report
from provenant.cache import LayerCache
from provenant.catalog.registry import all_catalogers, scanner_version
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
