"""``sbom`` over every SBOM fixture image in the real registry, against the expected.json that the
fixture build computed with independent tools (dpkg-query, rpm -qa, pip, npm's lockfile, go version -m,
the jars' pom.properties; the apk database is hand-made and its expectation is the recipe's)."""

from __future__ import annotations

import pytest

from fixtures import FixtureSet, Registry
from provenant.catalog.python import normalize_name
from provenant.sbom.generate import generate_sbom
from provenant.session import Session

pytestmark = pytest.mark.integration

IMAGES = [
    "sbom-python",
    "sbom-node",
    "sbom-go",
    "sbom-java",
    "sbom-rpm",
    "sbom-apk",
    "sbom-distroless",
    "sbom-whiteout",
    "sbom-runtime-python",
    "sbom-runtime-node",
    "sbom-runtime-temurin",
    "sbom-runtime-servers",
    "sbom-runtime-owned",
]


def _key(kind: str, name: str, version: str) -> tuple[str, str, str]:
    return kind, normalize_name(name) if kind == "pypi" else name, version


@pytest.mark.parametrize("repo", IMAGES)
def test_packages_and_layers_match_expected(registry: Registry, fixture_set: FixtureSet, repo: str) -> None:
    fx = fixture_set.image(f"{repo}:1")
    expected = {}
    for e in fx.expected_packages():
        version = f"{e['epoch']}:{e['version']}" if e.get("epoch") else e["version"]
        expected[_key(e["type"], e["name"], version)] = e["layer"]
    with Session() as session:
        (img,) = generate_sbom(session, f"{registry.host}/{repo}:1").images
    got = {
        _key(p.type, p.name, p.version): (p.introduced_in.layer_index if p.introduced_in else None)
        for p in img.packages
    }
    assert set(got) == set(expected)
    assert got == expected
    assert not [i for i in img.issues if "could not parse" in i.reason]
