"""Build tooling left installed: compilers, build systems and development packages (deb, rpm, apk)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from provenant.hygiene.models import ToolingFinding
from provenant.sbom.model import Package

OS_PACKAGE_TYPES = ("deb", "rpm", "apk")

#: (reason, name pattern), first match wins. Versioned names (gcc-12, clang-16, g++-12-x86-64-linux-gnu)
#: match; runtime-only siblings do not: gcc-12-base (docs/copyright), libgcc-s1, libstdc++6, cpp-doc.
RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("build-essential", re.compile(r"^(build-essential|build-base|alpine-sdk)$")),
    (
        "compiler",
        re.compile(
            r"^(gcc|g\+\+|c\+\+|cpp|clang|clang\+\+|llvm|gfortran|tcc|rustc|cargo|golang-go|golang|go|"
            r"gcc-c\+\+|gcc-gfortran|openjdk-\d+-jdk|openjdk-\d+-jdk-headless|java-\d+-openjdk-devel)"
            r"(-\d+(\.\d+)*)?(-[a-z0-9_-]+-linux-gnu[a-z]*)?$"
        ),
    ),
    (
        "build tool",
        re.compile(
            r"^(make|cmake|ninja-build|ninja|meson|autoconf|automake|libtool|pkg-config|pkgconf|bison|flex|"
            r"dpkg-dev|binutils|binutils-[a-z0-9_-]+-linux-gnu[a-z]*)$"
        ),
    ),
    ("development headers (-dev)", re.compile(r"^.+-(dev|devel|headers)$")),
)


def tooling_reason(name: str) -> str | None:
    """Why ``name`` is build tooling, or None."""
    for reason, rx in RULES:
        if rx.match(name):
            return reason
    return None


def build_tooling(packages: Sequence[Package]) -> list[ToolingFinding]:
    """OS packages (deb/rpm/apk) that only building needs, sorted by name."""
    out = []
    for pkg in packages:
        if pkg.type not in OS_PACKAGE_TYPES:
            continue
        reason = tooling_reason(pkg.name)
        if reason is not None:
            out.append(ToolingFinding(package=pkg.name, version=pkg.version, type=pkg.type, reason=reason))
    return sorted(out, key=lambda f: (f.package, f.type, f.version))
