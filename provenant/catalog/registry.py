"""The one place catalogers are registered. A new ecosystem is one module plus one line here."""

from __future__ import annotations

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
from provenant.catalog.scanversion import scanner_version
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


def default_plan() -> ScanPlan:
    """The scan plan with every registered cataloger."""
    catalogers = all_catalogers()
    if sum(1 for c in catalogers if c.sniffs_executables) > 1:
        raise RuntimeError("at most one cataloger may sniff executables (one stream feeds one sniffer)")
    return ScanPlan(catalogers, scanner_version())
