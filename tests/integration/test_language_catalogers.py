"""Python and npm catalogers on real packages from PyPI and the npm registry.

Expectations come from the packages' own independent records: pip's installed-distribution view
(importlib.metadata over the install target) and npm's package-lock.json.
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import pytest

from provenant.catalog.npm import NpmCataloger
from provenant.catalog.python import PythonCataloger, normalize_name
from tests.purls import assert_same_purl

pytestmark = pytest.mark.integration


def _walk(root: Path, cataloger: PythonCataloger | NpmCataloger) -> dict[str, bytes]:
    found = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and cataloger.matches(rel):
            found[rel] = path.read_bytes()
    return found


def test_python_matches_installed_distributions(site_packages: Path) -> None:
    cat = PythonCataloger()
    got = set()
    records = 0
    for rel, data in _walk(site_packages, cat).items():
        parsed = cat.parse(rel, data)
        if rel.endswith("/RECORD"):  # pip's file list: facts for assemble, no package of its own
            assert parsed.packages == [] and rel.replace("/RECORD", "/METADATA") in parsed.facts["files"]
            records += 1
            continue
        (pkg,) = parsed.packages
        got.add((normalize_name(pkg.name), pkg.version))
        assert_same_purl(pkg.purl, f"pkg:pypi/{normalize_name(pkg.name)}@{pkg.version}")
    expected = {
        (normalize_name(d.metadata["Name"]), d.version)
        for d in importlib.metadata.distributions(path=[str(site_packages)])
    }
    assert got == expected
    assert records == len(got)  # every wheel pip installed wrote its RECORD
    assert ("requests", "2.32.3") in got and ("flask", "3.0.3") in got and len(got) >= 8
    flask = next(
        p for rel, d in _walk(site_packages, cat).items() for p in cat.parse(rel, d).packages if p.name == "Flask"
    )
    assert flask.license_expression == "BSD-3-Clause"


def test_npm_matches_package_lock(node_app: Path) -> None:
    cat = NpmCataloger()
    files = _walk(node_app, cat)
    got = set()
    for rel, data in files.items():
        for pkg in cat.parse(rel, data).packages:
            got.add((rel.removesuffix("/package.json"), pkg.name, pkg.version))
    lock = json.loads((node_app / "package-lock.json").read_text())
    expected = {
        (path, meta.get("name", path.rsplit("node_modules/", 1)[-1]), meta["version"])
        for path, meta in lock["packages"].items()
        if path
    }
    assert got == expected
    express = next(v for _, n, v in got if n == "express")
    assert express == "4.21.2"
    # package.json files below a package's own folders are not installed packages
    assert not any("/lib/" in rel for rel in files)


def test_npm_scoped_and_corrupt() -> None:
    cat = NpmCataloger()
    (pkg,) = cat.parse(
        "srv/node_modules/@babel/core/package.json",
        b'{"name":"@babel/core","version":"7.1.0","license":{"type":"MIT"},"author":{"name":"Seb"}}',
    ).packages
    assert (pkg.purl, pkg.licenses, pkg.supplier) == ("pkg:npm/%40babel/core@7.1.0", ["MIT"], "Seb")
    from provenant.catalog.base import CatalogError

    with pytest.raises(CatalogError):
        cat.parse("node_modules/x/package.json", b"{not json")
    with pytest.raises(CatalogError):
        cat.parse("node_modules/x/package.json", b'{"name": "x"}')
