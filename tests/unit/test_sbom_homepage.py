"""Which homepages the SBOM formats carry: http(s) IRIs that CycloneDX JSON's schema accepts, nothing else.

A homepage comes from package metadata, which holds anything. One that is not an IRI made the whole
CycloneDX JSON document fail its schema (``sbom --validate``: "internal error"; without it, an invalid
document written): found by ``scripts/fuzz_catalogers.py --only @sbom`` on a damaged gemspec and METADATA.
The reference here is the check the schema validators run (jsonschema's ``iri-reference``, rfc3987-syntax).
"""

from __future__ import annotations

import json
import random

import pytest
from jsonschema import FormatChecker  # type: ignore[import-untyped]

from provenant.sbom.cyclonedx_json import _uri, cyclonedx_json
from provenant.sbom.fields import homepage
from provenant.sbom.model import Package
from provenant.sbom.result import ToolInfo
from provenant.sbom.validate import validate_document
from tests.unit.test_sbom_encode_scaling import _image

CHECKER = FormatChecker()

REAL = [
    "https://www.gnu.org/software/libc/libc.html",
    "https://requests.readthedocs.io",
    "http://example.org",
    "https://github.com/rack/rack",
    "https://pypi.org/project/x/?a=1&b=%20#frag",
    "https://user:pw@host.example:8443/p;a=b/c@d?q=/x?y#f/g?h",
    "https://例え.jp/パス",
    "https://example.org/a[b]'c?q=1#frag",
    "https://example.org/~user/(x)*,!$",
]
REFUSED = [
    "https://github.c\ufffdm/rack/rack",  # the fuzz finding: U+FFFD is not an IRI character
    "https://p\ufffdgments.org/",
    "https://example.org/%zz",  # a stray '%'
    "https://example.org/#a#b",  # two fragments
    "https://example.org:8x/",  # a port that is not a number
    "https://example.org/\x01",
    "https://example.org/\x7f",
    "https://example.org/\x85x",  # (at the end it is whitespace, stripped)
    "https://example.org/\ue000",  # private use: only in a query
    "https://example.org/\U0001f600",  # outside the BMP: rfc3987-syntax refuses it
    "https://example.org/a b",
    "https://example.org/a\\b",
    "https://",
    "ftp://example.org/",
    "example.org",
]


def _pkg(url: str | None, name: str = "x") -> Package:
    return Package(name=name, version="1", type="gem", purl=f"pkg:gem/{name}@1", homepage=url, found_by="ruby")


def _iri(url: str) -> bool:
    return bool(CHECKER.conforms(_uri(url), "iri-reference"))


@pytest.mark.parametrize("url", REAL)
def test_real_homepages_are_kept(url: str) -> None:
    assert homepage(_pkg(url)) == url
    assert _iri(url)


@pytest.mark.parametrize("url", REFUSED)
def test_what_is_not_an_http_iri_is_left_out(url: str) -> None:
    assert homepage(_pkg(url)) is None


ALPHABET = [
    *"aZ09-._~!$&'()*+,;=:@/?#[]%",
    "%2f",
    "%G1",
    " ",
    '"',
    "<",
    "\\",
    "^",
    "`",
    "{",
    "|",
    "\x00",
    "\x1f",
    "\x7f",
    "\x85",
    "\u00a0",
    "é",
    "\ud7ff",
    "\ue000",
    "\uf8ff",
    "\uf900",
    "\ufdd0",
    "\ufdf0",
    "\uffef",
    "\ufffd",
    "\uffff",
    "\U00010000",
]


@pytest.mark.parametrize("seed", range(2))
def test_what_is_kept_is_what_the_schema_check_accepts(seed: int) -> None:
    """Generated URLs: every one kept passes the validators' IRI check after the CycloneDX writers'
    escapes, and every IRI is kept unless it has no host or an IP-literal one ('[' ']' are taken out of
    the grammar: elsewhere the writers percent-encode them)."""
    r = random.Random(seed)
    kept = 0
    for _ in range(500):  # the IRI check (a lark grammar) takes ~2-5 ms a URL
        rest = "".join(r.choice(ALPHABET) for _ in range(r.randint(0, 12)))
        url = r.choice(["https://", "http://", "https://h.example"]) + rest
        got = homepage(_pkg(url))
        if got is not None:
            kept += 1
            assert _iri(got), url  # what is written: the stripped URL
        elif url.strip() == url and CHECKER.conforms(url, "iri-reference"):
            authority = url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
            host = authority.rsplit("@", 1)[-1].rsplit(":", 1)[0]
            assert host == "" or "[" in authority, url  # left out only without a host, or with an IP literal
    assert kept > 50  # the generator reaches both sides


def test_a_damaged_homepage_leaves_cyclonedx_json_valid() -> None:
    damaged, good = _pkg("https://github.c\ufffdm/rack/rack", "a"), _pkg("https://github.com/rack/rack", "b")
    img = _image(0).model_copy(update={"packages": [damaged, good]})
    text = cyclonedx_json([img], ToolInfo(version="0"))
    validate_document("cyclonedx-json", text)  # raised before: the document did not validate
    refs = {c["name"]: c.get("externalReferences") for c in json.loads(text)["components"] if c["type"] == "library"}
    assert refs == {"a": None, "b": [{"type": "website", "url": "https://github.com/rack/rack"}]}
