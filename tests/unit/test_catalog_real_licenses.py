"""License and dpkg corner cases of issue 13, each from the real file that showed it (tests/data/catalog)."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenant.catalog.dpkg import DpkgCataloger, valid_version
from provenant.catalog.licenses import to_spdx
from provenant.catalog.npm import NpmCataloger

DATA = Path(__file__).resolve().parent.parent / "data" / "catalog"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rc-1.2.8.package.json", "BSD-2-Clause OR MIT OR Apache-2.0"),
        ("type-fest-0.21.3.package.json", "MIT OR CC0-1.0"),
    ],
)
def test_parenthesised_npm_license_is_an_expression(name: str, expected: str) -> None:
    parsed = NpmCataloger().parse("usr/lib/node_modules/x/package.json", (DATA / "npm" / name).read_bytes())
    (pkg,) = parsed.packages
    assert pkg.license_expression == expected


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("(Apache-2.0 OR MIT) AND MPL-2.0", "(Apache-2.0 OR MIT) AND MPL-2.0"),
        ("(MIT OR Apache-2.0)", "MIT OR Apache-2.0"),
        ("(GPL-2+ or Artistic) and BSD", "(GPL-2.0-or-later OR Artistic-1.0-Perl) AND BSD-3-Clause"),
        ("(Apache-2.0 WITH LLVM-exception OR MIT)", "Apache-2.0 WITH LLVM-exception OR MIT"),
        ("(MIT OR SEE LICENSE IN LICENSE)", None),  # npm's pointer to a file is no license id
        ("(MIT", None),
    ],
)
def test_parenthesised_expressions(declared: str, expected: str | None) -> None:
    assert to_spdx(declared) == expected


def _licenses(name: str) -> list[str]:
    parsed = DpkgCataloger().parse("usr/share/doc/x/copyright", (DATA / "dpkg" / name).read_bytes())
    return list(parsed.facts["licenses"])


def test_dep5_values_are_split_into_short_names() -> None:
    # trivy's zlib1g sample: "GPL-1+ or Artistic, and BSD-4-clause-POWERDOG" and "Zlib," used to be ids.
    assert _licenses("zlib1g.copyright") == ["GPL-1+", "Artistic", "BSD-4-clause-POWERDOG", "Zlib"]


def test_common_licenses_paths_are_licenses() -> None:
    # syft's libaudit-common: GPL-1 only appears as /usr/share/common-licenses/GPL-1 in a License text.
    assert sorted(_licenses("libaudit-common.copyright")) == ["GPL-1", "GPL-2", "LGPL-2.1"]
    # Free-form files (adduser, apt) name theirs only that way.
    assert _licenses("adduser.copyright") == ["GPL-2"]
    assert _licenses("apt.copyright") == ["GPL-2"]


def test_dep5_names_match_syft_on_liblzma5() -> None:
    # syft's expectation for this file, minus nothing: "License: none" is not a license.
    syft = "Autoconf GPL-2 GPL-2+ GPL-3 LGPL-2 LGPL-2.1 LGPL-2.1+ PD PD-debian config-h noderivs"
    syft += " permissive-fsf permissive-nowarranty probably-PD"
    assert sorted(_licenses("liblzma5.copyright")) == sorted(syft.split())


def test_free_text_license_fields_are_not_names() -> None:
    # syft's python sample: no Format header, "License: This software is provided 'as-is'..." lines.
    assert _licenses("python.copyright") == ["GPL-2", "Apache-2.0"]


def test_invalid_dpkg_version_is_skipped_with_an_issue() -> None:
    # trivy's corrupted status file: "Version: 1:5.#" must not become a package.
    parsed = DpkgCataloger().parse("var/lib/dpkg/status", (DATA / "dpkg" / "corrupsed.status").read_bytes())
    assert [(p.name, p.version) for p in parsed.packages] == [
        ("libpam-runtime", "1.1.8-3.1ubuntu3"),
        ("libpam-modules-bin", "1.1.8-3.1ubuntu3"),
        ("makedev", "2.3.1-93ubuntu1"),
        ("libgcc1", "1:5.1.1-12ubuntu1"),
    ]
    assert "package 'invalidpkg' has an invalid version '1:5.#'; skipped" in parsed.issues


@pytest.mark.parametrize(
    ("version", "ok"),
    [
        ("1:5.#", False),
        ("1.0-", False),
        ("abc", False),
        ("2:3", True),
        ("1:2:3-4", True),
        ("7.88.1-10+deb12u5", True),
        ("0.0~git2020-1-2", True),
        ("1.2:3", False),  # a colon needs an epoch
    ],
)
def test_valid_version(version: str, ok: bool) -> None:
    assert valid_version(version) is ok
