"""canonical_purl answers what packageurl-python's round trip answers, and skips it only where it changes nothing."""

from __future__ import annotations

import random
import re

import pytest
from packageurl import PackageURL

from provenant.sbom import canonical_purl as mod
from provenant.sbom.canonical_purl import canonical_purl

TYPES = sorted(mod._SHAPES)
#: Characters of the fast shape, and characters around it that the round trip changes or reads specially.
PIECES = [*"abcxyzABCXYZ0189._~-", "%2B", "%40"]
NEAR = [*"+@/:?#&=% \t!_", "%2b", "%2F", "%20", "%41", "%3A", "%C3%A9", "é", "//", ".."]


def _library(text: str) -> str | type[ValueError]:
    try:
        return str(PackageURL.from_string(text).to_string())
    except ValueError:
        return ValueError


def _ours(text: str) -> str | type[ValueError]:
    try:
        return canonical_purl(text)
    except ValueError:
        return ValueError


def _component(rnd: random.Random, pieces: list[str]) -> str:
    return "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 6)))


def _purl(rnd: random.Random, pieces: list[str]) -> str:
    ns = "".join(_component(rnd, pieces) + "/" for _ in range(rnd.choice((0, 0, 1, 2))))
    text = f"pkg:{rnd.choice(TYPES)}/{ns}{_component(rnd, pieces)}"
    if rnd.random() < 0.8:
        text += "@" + _component(rnd, pieces)
    keys = rnd.sample(["arch", "distro", "epoch", "upstream", "type", "classifier", "b", "a.b"], rnd.randint(0, 3))
    if rnd.random() < 0.7:
        keys.sort()
    if keys:
        text += "?" + "&".join(f"{k}={_component(rnd, pieces)}" for k in keys)
    return text


def _one_edit(rnd: random.Random, text: str) -> str:
    at = rnd.randrange(4, len(text) + 1)
    if rnd.random() < 0.5:
        return text[:at] + rnd.choice(NEAR) + text[at:]
    return text[:at] + rnd.choice(NEAR) + text[at + 1 :]


def test_agrees_with_the_library_on_strings_of_the_shape_and_around_it() -> None:
    rnd = random.Random(20261207)
    fast = 0
    for _ in range(12_000):
        text = _purl(rnd, PIECES)
        for candidate in (text, _one_edit(rnd, text), _purl(rnd, PIECES + NEAR)):
            assert _ours(candidate) == _library(candidate), candidate
            fast += candidate == _library(candidate)
    assert fast > 3_000  # the shapes above are the common case, not a corner


def test_every_purl_the_shape_accepts_is_a_fixed_point_of_the_round_trip() -> None:
    rnd = random.Random(7)
    accepted = 0
    for _ in range(15_000):
        text = _one_edit(rnd, _purl(rnd, PIECES)) if rnd.random() < 0.5 else _purl(rnd, PIECES)
        shape = mod._SHAPES.get(text[4 : text.find("/")])
        m = re.fullmatch(shape, text) if shape else None
        if m is not None and (m["q"] is None or mod._keys_ascending(m["q"])):
            accepted += 1
            assert _library(text) == text, text
    assert accepted > 2_000


def test_purls_built_by_the_library_come_back_as_the_round_trip_writes_them() -> None:
    rnd = random.Random(3)
    alphabet = [*"aZ09._~-+@/:?#&=% !\t", "é"]
    for _ in range(6_000):
        qualifiers = {k: _component(rnd, alphabet) for k in rnd.sample(["arch", "distro", "epoch"], rnd.randint(0, 2))}
        args = [rnd.choice(TYPES), None, _component(rnd, alphabet), _component(rnd, alphabet), qualifiers]
        if rnd.random() < 0.5:
            args[1] = _component(rnd, alphabet)
        try:
            text = PackageURL(*args).to_string()
        except (ValueError, TypeError):  # the library's own refusals (TypeError: a name normalised away)
            continue
        assert _ours(text) == _library(text), text


@pytest.mark.parametrize(
    "text",
    [
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12",
        "pkg:deb/debian/libgcc-s1@12.2.0-14?arch=amd64&distro=debian-12&upstream=gcc-12",
        "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&epoch=1",
        "pkg:npm/%40types/node@20.11.5",
        "pkg:npm/lodash@4.17.21",
        "pkg:pypi/charset-normalizer@3.3.2",
        "pkg:golang/github.com/Masterminds/semver/v3@v3.2.1",
        "pkg:maven/org.apache.commons/commons-lang3@3.14.0",
        "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1",
        "pkg:gem/rake@13.0.6",
        "pkg:generic/python@3.11.2",
    ],
)
def test_real_purls_take_the_fast_path_unchanged(text: str) -> None:
    assert _library(text) == text
    assert canonical_purl(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pkg:PyPI/Charset_Normalizer@3.3.2", "pkg:pypi/charset-normalizer@3.3.2"),
        ("pkg:npm/%2b%2b@1", "pkg:npm/%2b%2b@1"),
        ("pkg:deb/debian/libc6@2.36%2bdeb12u4?distro=debian-12&arch=amd64", None),
        ("pkg:deb/debian/a@1:2.3", None),
        ("pkg:golang/a//b@1", "pkg:golang/a/b@1"),
        ("pkg:deb/debian/a@1?arch=%20", "pkg:deb/debian/a@1"),
    ],
)
def test_purls_off_the_shape_go_through_the_library(text: str, expected: str | None) -> None:
    assert canonical_purl(text) == _library(text)
    if expected is not None:
        assert canonical_purl(text) == expected


def test_a_purl_the_library_refuses_is_refused() -> None:
    with pytest.raises(ValueError):
        canonical_purl("pkg:deb/")
