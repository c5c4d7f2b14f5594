"""Runtimes installed without a package manager (fixtures.runtimeimages): real Debian binaries placed
where the official images put theirs. Versions expected are the .deb's upstream versions; purls and
CPEs are syft's shapes for its binary classifiers."""

from __future__ import annotations

import pytest

from fixtures import FixtureSet
from provenant.sbom.generate import generate_sbom
from provenant.sbom.model import Package
from provenant.session import Session

pytestmark = pytest.mark.integration


def _packages(fixture_set: FixtureSet, repo: str) -> list[Package]:
    fx = fixture_set.image(f"{repo}:1")
    with Session() as session:
        (img,) = generate_sbom(session, f"oci:{fx.layout}:1").images
    assert img.issues == []
    return img.packages


def _runtime(fixture_set: FixtureSet, repo: str, name: str) -> tuple[Package, dict[str, object]]:
    expected = {e["name"]: e for e in fixture_set.image(f"{repo}:1").expected_packages() if e["type"] == "binary"}
    (pkg,) = [p for p in _packages(fixture_set, repo) if p.type == "binary" and p.name == name]
    return pkg, expected[name]


def test_python_slim_shaped(fixture_set: FixtureSet) -> None:
    pkg, exp = _runtime(fixture_set, "sbom-runtime-python", "python")
    version = exp["version"]
    assert pkg.version == version
    assert pkg.purl == f"pkg:generic/python@{version}"
    assert pkg.cpes == [
        f"cpe:2.3:a:python_software_foundation:python:{version}:*:*:*:*:*:*:*",
        f"cpe:2.3:a:python:python:{version}:*:*:*:*:*:*:*",
    ]
    paths = {loc.path for loc in pkg.locations}
    assert {"usr/local/bin/python3.11", "usr/local/lib/libpython3.11.so.1.0"} <= paths
    assert pkg.metadata["evidence_snippet"] == f"\\x00{version}\\x00"
    assert pkg.introduced_in is not None and pkg.introduced_in.layer_index == 1
    pip = [p for p in _packages(fixture_set, "sbom-runtime-python") if p.type == "pypi"]
    assert {"requests", "flask"} <= {p.name.lower() for p in pip}


def test_node_shaped(fixture_set: FixtureSet) -> None:
    pkg, exp = _runtime(fixture_set, "sbom-runtime-node", "node")
    assert (pkg.purl, pkg.cpes) == (
        f"pkg:generic/node@{exp['version']}",
        [f"cpe:2.3:a:nodejs:node.js:{exp['version']}:*:*:*:*:*:*:*"],
    )
    assert any(p.type == "npm" and p.name == "express" for p in _packages(fixture_set, "sbom-runtime-node"))


def test_temurin_shaped(fixture_set: FixtureSet) -> None:
    pkg, exp = _runtime(fixture_set, "sbom-runtime-temurin", "openjdk")
    version = str(exp["version"])
    assert pkg.version == version
    assert pkg.purl == "pkg:generic/oracle/openjdk@" + version.replace("+", "%2B")
    assert pkg.cpes == [f"cpe:2.3:a:oracle:openjdk:{version.split('+', maxsplit=1)[0]}:*:*:*:*:*:*:*"]
    # release file, launcher and libjvm agree: one package, three pieces of evidence
    assert {loc.path.rsplit("/", 1)[-1] for loc in pkg.locations} == {"release", "java", "libjvm.so"}


@pytest.mark.parametrize(
    ("name", "vendor_product"), [("redis", "redislabs:redis"), ("nginx", "f5:nginx"), ("busybox", "busybox:busybox")]
)
def test_servers(fixture_set: FixtureSet, name: str, vendor_product: str) -> None:
    pkg, exp = _runtime(fixture_set, "sbom-runtime-servers", name)
    assert pkg.purl == f"pkg:generic/{name}@{exp['version']}"
    assert pkg.cpes[0] == f"cpe:2.3:a:{vendor_product}:{exp['version']}:*:*:*:*:*:*:*"
    assert [loc.path for loc in pkg.locations] == [exp["path"]]


def test_binaries_owned_by_dpkg_are_not_reported_twice(fixture_set: FixtureSet) -> None:
    packages = _packages(fixture_set, "sbom-runtime-owned")
    assert [p for p in packages if p.type == "binary"] == []
    debs = {p.name for p in packages if p.type == "deb"}
    assert {"python3.11-minimal", "libpython3.11", "nodejs", "libnode108", "nginx", "busybox"} <= debs
