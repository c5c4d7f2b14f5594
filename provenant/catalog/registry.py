"""The one place catalogers are registered. A new ecosystem is one module plus one line here."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from provenant import __version__
from provenant.catalog.apk import ApkCataloger
from provenant.catalog.base import Cataloger
from provenant.catalog.binary import BinaryCataloger
from provenant.catalog.composer import ComposerCataloger
from provenant.catalog.conda import CondaCataloger
from provenant.catalog.distro import DistroCataloger
from provenant.catalog.dotnet import DotnetCataloger
from provenant.catalog.dpkg import DpkgCataloger
from provenant.catalog.gobinary import GoBinaryCataloger
from provenant.catalog.java import JavaCataloger
from provenant.catalog.npm import NpmCataloger
from provenant.catalog.python import PythonCataloger
from provenant.catalog.rpm import RpmCataloger
from provenant.catalog.ruby import RubyCataloger
from provenant.catalog.rust import RustCataloger
from provenant.catalog.secrets import SecretsCataloger
from provenant.layers.scan import ScanPlan


def all_catalogers() -> tuple[Cataloger, ...]:
    """Every cataloger, in the order their packages are reported."""
    return (
        DistroCataloger(),
        DpkgCataloger(),
        ApkCataloger(),
        RpmCataloger(),
        PythonCataloger(),
        NpmCataloger(),
        JavaCataloger(),
        RubyCataloger(),
        ComposerCataloger(),
        DotnetCataloger(),
        RustCataloger(),
        CondaCataloger(),
        GoBinaryCataloger(),
        BinaryCataloger(),
        SecretsCataloger(),
    )


@cache
def scanner_version() -> str:
    """Changes whenever the code that decides a layer scan's result changes (the layer cache key).

    Derived from the sources of the layer scanner and the catalogers, so a changed parser can never
    be served a stale cached result.
    """
    h = hashlib.sha256(__version__.encode())
    root = Path(__file__).resolve().parent.parent
    files = [f for sub in ("layers", "catalog") for f in sorted((root / sub).glob("*.py"))]
    # Also what those import that shapes a cached result: path globs and the package model.
    files += [root / "globs.py", root / "sbom" / "model.py"]
    for f in files:
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def default_plan() -> ScanPlan:
    """The scan plan with every registered cataloger."""
    catalogers = all_catalogers()
    if sum(1 for c in catalogers if c.sniffs_executables) > 1:
        raise RuntimeError("at most one cataloger may sniff executables (one stream feeds one sniffer)")
    return ScanPlan(catalogers, scanner_version())
