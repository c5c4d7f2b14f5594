"""Each ecosystem's version ordering, on pairs its own documentation orders."""

from __future__ import annotations

import pytest

from provenant.errors import UsageError
from provenant.fleet.versions import VersionSpec, ordering

# (purl type, older, newer): each pair is ordered so by the ecosystem's own rules.
ORDERED = [
    ("deb", "1.0~rc1-1", "1.0-1"),  # ~ sorts before the end
    ("deb", "3.0.11-1~deb12u2", "3.0.11-1"),
    ("deb", "2:1.0-1", "3:0.1-1"),  # epoch first
    ("deb", "1.2.3-1", "1.2.10-1"),
    ("rpm", "1.0~rc1", "1.0"),  # tilde before the end (RPM spec)
    ("rpm", "1.0", "1.0^git1"),  # caret after the end
    ("rpm", "1.0a", "1.0.1"),  # a numeric run beats an alphabetic one
    ("rpm", "1:1.0-1", "2:0.1-1"),  # epoch first
    ("rpm", "3.0.7-24.el9", "3.0.7-25.el9"),
    ("rpm", "1.010", "1.11"),  # leading zeros ignored: 10 < 11
    ("apk", "1.2.3_rc1", "1.2.3"),
    ("apk", "1.2.3", "1.2.3_p1"),
    ("apk", "1.2.3-r0", "1.2.3-r1"),
    ("apk", "1.2.3", "1.2.3a"),
    ("apk", "3.1.4-r5", "3.3.0-r0"),
    ("pypi", "1.0rc1", "1.0"),
    ("pypi", "1.0", "1.0.post1"),
    ("pypi", "1.0.dev1", "1.0a1"),
    ("npm", "1.0.0-alpha", "1.0.0-alpha.1"),  # semver.org item 11's chain
    ("npm", "1.0.0-alpha.beta", "1.0.0-beta.2"),
    ("npm", "1.0.0-beta.11", "1.0.0-rc.1"),
    ("npm", "1.0.0-rc.1", "1.0.0"),
    ("npm", "2.0.0", "10.0.0"),
    ("maven", "2.17.0-rc1", "2.17.0"),
    ("maven", "2.16.0", "2.17"),
    ("maven", "1.0-alpha", "1.0-beta"),
    ("maven", "1.0", "1.0-sp1"),
    ("maven", "1.0-SNAPSHOT", "1.0"),
]


@pytest.mark.parametrize(("purl_type", "older", "newer"), ORDERED)
def test_ordering(purl_type: str, older: str, newer: str) -> None:
    cmp = ordering(purl_type)
    assert cmp(older, newer) == -1
    assert cmp(newer, older) == 1
    assert cmp(older, older) == 0


@pytest.mark.parametrize(
    ("purl_type", "same_a", "same_b"), [("maven", "1.0", "1"), ("maven", "1-ga", "1.0.0"), ("rpm", "1.01", "1.1")]
)
def test_equal(purl_type: str, same_a: str, same_b: str) -> None:
    assert ordering(purl_type)(same_a, same_b) == 0


def test_spec_in_ecosystem_order() -> None:
    spec = VersionSpec.parse(">=3.0.0,<3.0.12")
    deb = ordering("deb")
    assert spec.matches("3.0.11-1~deb12u2", deb)
    assert not spec.matches("3.0.13-1", deb)
    # Text order would put 3.0.9 after 3.0.12; dpkg order does not.
    assert spec.matches("3.0.9-1", deb)
    log4j = VersionSpec.parse("<2.17.0")
    assert log4j.matches("2.17.0-rc1", ordering("maven"))
    assert not log4j.matches("2.17.1", ordering("maven"))
    either = VersionSpec.parse("1.0 || >=2")
    assert either.matches("1.0", ordering("pypi")) and either.matches("2.1", ordering("pypi"))
    assert not either.matches("1.5", ordering("pypi"))


def test_bad_spec() -> None:
    with pytest.raises(UsageError, match="expected e\\.g\\."):
        VersionSpec.parse(">= 1 2")
