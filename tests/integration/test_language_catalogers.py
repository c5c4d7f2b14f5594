"""Python and npm catalogers on real packages from PyPI and the npm registry.

Expectations come from the packages' own independent records: pip's installed-distribution view
(importlib.metadata over the install target) and npm's package-lock.json.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from provenant.catalog.npm import NpmCataloger
from provenant.catalog.python import PythonCataloger, normalize_name

pytestmark = pytest.mark.integration
DATA = Path(os.environ.get("PROVENANT_TEST_DATA", Path.home() / ".cache" / "provenant-test-data"))


def _walk(root: Path, cataloger: PythonCataloger | NpmCataloger) -> dict[str, bytes]:
    found = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and cataloger.matches(rel):
            found[rel] = path.read_bytes()
    return found


@pytest.fixture(scope="session")
def site_packages() -> Path:
    target = DATA / "pip-target-v1"
    if not (target / ".done").exists():
        shutil.rmtree(target, ignore_errors=True)
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-compile", "--target", str(target),
             "requests==2.32.3", "flask==3.0.3"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            pytest.skip(f"PyPI not reachable: {proc.stderr.strip()[-200:]}")
        (target / ".done").write_text("ok")
    return target


@pytest.fixture(scope="session")
def node_app() -> Path:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    app = DATA / "npm-express-v1"
    if not (app / ".done").exists():
        shutil.rmtree(app, ignore_errors=True)
        app.mkdir(parents=True)
        (app / "package.json").write_text('{"name": "app", "version": "1.0.0", "private": true}')
        proc = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent", "express@4.21.2"],
            cwd=app, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            pytest.skip(f"npm registry not reachable: {proc.stderr.strip()[-200:]}")
        (app / ".done").write_text("ok")
    return app


def test_python_matches_installed_distributions(site_packages: Path) -> None:
    cat = PythonCataloger()
    got = set()
    for rel, data in _walk(site_packages, cat).items():
        (pkg,) = cat.parse(rel, data).packages
        got.add((normalize_name(pkg.name), pkg.version))
        assert pkg.purl == f"pkg:pypi/{normalize_name(pkg.name)}@{pkg.version}"
    expected = {
        (normalize_name(d.metadata["Name"]), d.version)
        for d in importlib.metadata.distributions(path=[str(site_packages)])
    }
    assert got == expected
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
