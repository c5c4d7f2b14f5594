"""Encoders linear in packages, measured by structure (calls), not wall time; ``--validate``; a thread race.

- CycloneDX: the dependency graph is built directly, and the ``Bom.validate()`` every outputter runs
  never falls back to cyclonedx-python-lib's ``register_dependency`` (a search of every dependency).
- SPDX: one licensing index per process (``get_spdx_licensing`` once, not once per package) and one
  parse per distinct expression, however many packages carry it.
- The licensing index is safe to share between the threads that catalog layers.
- ``sbom --validate`` checks every format; without it nothing is validated.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.dom.minidom import Element, Text

import license_expression
import pytest
from click.testing import CliRunner
from cyclonedx.model.bom import Bom

from fixtures.layers import File, build_layer
from fixtures.ociimage import ImageSpec, Platform, Step, build_image, write_layout
from provenant.catalog import licenses
from provenant.catalog.base import Distro
from provenant.errors import ProvenantError
from provenant.sbom import formats
from provenant.sbom.cyclonedx import cyclonedx_bom, encode_cyclonedx
from provenant.sbom.model import IntroducedIn, Location, Package
from provenant.sbom.result import ImageSbom, SbomResult, ToolInfo
from provenant.sbom.spdx import encode_spdx_json, spdx_document
from provenant.sbom.validate import validate_document

TOOL = ToolInfo(version="0.0.0-test")
WHEN = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
LAYER, DIFF = "sha256:" + "1" * 64, "sha256:" + "2" * 64
EXPRESSIONS = ("MIT", "Apache-2.0 OR MIT", "GPL-2.0-or-later AND LGPL-2.1-or-later", "LicenseRef-custom")


def _image(n: int) -> ImageSbom:
    """``n`` packages, a third each deb / npm / pypi, licenses cycling through four expressions."""
    types = ("deb", "npm", "pypi")
    packages = [
        Package(
            name=f"pkg{i}",
            version=f"1.{i}",
            type=types[i % 3],
            purl=f"pkg:{types[i % 3]}/pkg{i}@1.{i}",
            license_expression=EXPRESSIONS[i % len(EXPRESSIONS)],
            found_by="test",
            locations=[Location(path=f"p/{i}", layer_index=0, layer_digest=LAYER, diff_id=DIFF)],
            introduced_in=IntroducedIn(layer_index=0, layer_digest=LAYER, diff_id=DIFF, created_by="RUN x"),
        )
        for i in range(n)
    ]
    return ImageSbom(
        name="registry.example.com/app",
        platform="linux/amd64",
        manifest_digest="sha256:" + "c" * 64,
        config_digest="sha256:" + "d" * 64,
        distro=Distro(id="debian", version_id="12", pretty_name="Debian GNU/Linux 12 (bookworm)"),
        layers=[],
        packages=packages,
    )


@pytest.fixture
def library_registrations(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every call that reaches cyclonedx-python-lib's own ``Bom.register_dependency``."""
    calls: list[str] = []
    original = Bom.register_dependency

    def counting(self: Bom, target: Any, depends_on: Any = None) -> None:
        calls.append(str(target.bom_ref))
        original(self, target, depends_on)

    monkeypatch.setattr(Bom, "register_dependency", counting)
    yield calls


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("n", [30, 60])
def test_cyclonedx_graph_never_searched_per_component(library_registrations: list[str], fmt: str, n: int) -> None:
    bom = cyclonedx_bom([_image(n)], TOOL, timestamp=WHEN)
    text = encode_cyclonedx(bom, "json" if fmt == "json" else "xml")
    assert library_registrations == []  # before: n + 3 calls, each a search of every dependency
    # ... and the graph is complete: image, OS and every package have their entry.
    assert len(bom.dependencies) == n + 2
    assert text.count("pkg:deb/pkg") >= n // 3


def test_cyclonedx_merged_graph_never_searched(library_registrations: list[str]) -> None:
    one = _image(20)
    other = one.model_copy(update={"platform": "linux/arm64", "manifest_digest": "sha256:" + "e" * 64})
    bom = cyclonedx_bom([one, other], TOOL, merged_index=("r:1", "sha256:" + "f" * 64), timestamp=WHEN)
    encode_cyclonedx(bom, "json")
    assert library_registrations == []
    assert len(bom.dependencies) == 2 * (20 + 2) + 1  # each platform's graph, and the index → platforms


@pytest.fixture
def fresh_licensing(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """A process without a licensing index or cached parses; counts ``get_spdx_licensing`` calls."""
    builds: list[int] = []
    original = license_expression.get_spdx_licensing

    def counting(*args: Any, **kwargs: Any) -> license_expression.Licensing:
        builds.append(1)
        return original(*args, **kwargs)

    for module in (license_expression, licenses):
        monkeypatch.setattr(module, "get_spdx_licensing", counting)
    monkeypatch.setattr(licenses, "_index", [])
    licenses.spdx_expression.cache_clear()
    licenses.parsed_expression.cache_clear()
    licenses.to_spdx.cache_clear()
    yield builds
    licenses.spdx_expression.cache_clear()
    licenses.parsed_expression.cache_clear()
    licenses.to_spdx.cache_clear()


def test_licensing_index_built_once_for_every_package_and_format(fresh_licensing: list[int]) -> None:
    img = _image(40)
    encode_spdx_json(spdx_document([img], TOOL, created=WHEN))
    encode_cyclonedx(cyclonedx_bom([img], TOOL, timestamp=WHEN), "json")
    licenses.to_spdx("GPL-2+ or Artistic")
    assert len(fresh_licensing) == 1  # before: once per package in each encoder


def test_each_expression_parsed_once_whatever_the_package_count(
    fresh_licensing: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    parses: list[str] = []
    original = license_expression.Licensing.parse

    def counting(self: license_expression.Licensing, expression: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(expression, str):  # the library re-parses parsed objects internally: not a parse of text
            parses.append(expression)
        return original(self, expression, *args, **kwargs)

    monkeypatch.setattr(license_expression.Licensing, "parse", counting)
    doc = spdx_document([_image(80)], TOOL, created=WHEN)
    # spdx_expression parses twice to check an expression, parsed_expression once to hand it to spdx-tools.
    assert len(parses) <= 3 * len(EXPRESSIONS)
    declared = [p.license_declared for p in doc.packages if p.name.startswith("pkg")]
    assert len({id(d) for d in declared}) == len(EXPRESSIONS)  # shared parsed objects, not one per package


def test_licensing_index_safe_to_share_between_threads(
    fresh_licensing: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """license-expression publishes a tokenizer before building its automaton: a second thread used the half-built one.

    The automaton build is slowed down so that the other threads arrive while the first one to parse
    runs it; before the fix they failed with "'object' object has no attribute 'children'" (the layer's file was then
    reported as unparseable and its package lost).
    """
    from license_expression import _pyahocorasick

    original = _pyahocorasick.Trie.make_automaton

    def slow(self: Any) -> None:
        time.sleep(0.3)
        original(self)

    monkeypatch.setattr(_pyahocorasick.Trie, "make_automaton", slow)
    licenses.spdx_licensing()  # the index exists (the catalog or an encoder asked for it) before the threads parse
    start = threading.Barrier(4)
    results: list[str | None] = []
    errors: list[BaseException] = []

    def parse() -> None:
        start.wait()
        try:
            results.append(licenses.to_spdx("GPL-3.0-or-later WITH GCC-exception-3.1"))
        except Exception as exc:  # the failure being tested for
            errors.append(exc)

    threads = [threading.Thread(target=parse) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == ["GPL-3.0-or-later WITH GCC-exception-3.1"] * 4


def _text(element: Element) -> str:
    """The text of an XML element that holds only text."""
    child = element.firstChild
    assert isinstance(child, Text), element.toxml()
    return child.data


def _result(n: int) -> SbomResult:
    return SbomResult(
        reference="registry.example.com/app:1",
        source="registry",
        digest="sha256:" + "c" * 64,
        media_type="application/vnd.oci.image.manifest.v1+json",
        tool=TOOL,
        images=[_image(n)],
    )


@pytest.mark.parametrize("fmt", list(formats.FORMATS))
def test_every_format_validates(fmt: str) -> None:
    (doc,) = formats.encode(_result(12), fmt, merge=False, validate=True)
    validate_document(fmt, doc.text)


@pytest.mark.parametrize(
    ("fmt", "broken"),
    [
        ("cyclonedx-json", '{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": 1}]}'),
        ("cyclonedx-xml", '<?xml version="1.0" ?><bom xmlns="http://cyclonedx.org/schema/bom/1.6"><x/></bom>'),
        ("spdx-json", '{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"}'),
        ("json", '{"reference": 1}'),
    ],
)
def test_invalid_document_is_one_line_error(fmt: str, broken: str) -> None:
    with pytest.raises(ProvenantError, match=f"the {fmt} document does not validate") as info:
        validate_document(fmt, broken)
    assert "\n" not in info.value.diagnostics()


def _layout(tmp_path: Path) -> str:
    tree = {
        "etc/os-release": File(b'ID=debian\nVERSION_ID="12"\n'),
        "app/node_modules/left-pad/package.json": File(b'{"name": "left-pad", "version": "1.3.0", "license": "MIT"}'),
    }
    image = build_image(
        ImageSpec(platform=Platform("linux", "amd64"), steps=[Step("COPY . /", build_layer(tree))], config={})
    )
    write_layout(tmp_path / "img", [("1", image.manifest)], image.blobs())
    return f"oci:{tmp_path / 'img'}:1"


def test_cli_validate_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from provenant.cli.main import cli

    ref = _layout(tmp_path)
    args = ["sbom", "--no-cache", "--cache-dir", str(tmp_path / "c"), ref, "-o", "cyclonedx-json"]
    ok = CliRunner().invoke(cli, [*args, "--validate"])
    assert ok.exit_code == 0, ok.output
    assert "pkg:npm/left-pad@1.3.0" in ok.stdout

    monkeypatch.setitem(formats.FORMATS, "cyclonedx-json", lambda result, images, merged: '{"bomFormat": 1}')
    unchecked = CliRunner().invoke(cli, args)
    assert unchecked.exit_code == 0  # not validated unless asked
    checked = CliRunner().invoke(cli, [*args, "--validate"])
    assert checked.exit_code == 2
    assert "the cyclonedx-json document does not validate" in checked.stderr


# --- CycloneDX JSON written directly: byte for byte what cyclonedx-python-lib writes ---------------


def _edge_packages() -> list[Package]:
    """What package metadata holds in the wild: empty fields, odd URLs, control characters, duplicates."""
    loc = Location(path="usr/lib/x", layer_index=0, layer_digest=LAYER, diff_id=DIFF)
    return [
        Package(name="empty", version="", type="deb", description="", supplier="", found_by="dpkg"),
        Package(
            name="odd-url",
            version="1",
            type="npm",
            purl="pkg:npm/odd-url@1",
            homepage="https://example.org/a[b]'c?q=1#frag",
            licenses=["MIT ", "MIT", "", "Custom"],
            metadata={"empty": "", "k": "v"},
            found_by="npm",
            locations=[loc, loc],
        ),
        Package(
            name="пакет-ü\x1b[31m",
            version="2.0\u202e",
            type="pypi",
            purl="pkg:pypi/paket@2.0",
            description='quote " backslash \\ tab \t nul \x00',
            supplier="Ünïcode <u@example.org>",
            homepage="https://example.org/%zz",  # the library refuses it: left out
            license_expression="GPL-2.0-or-later WITH Classpath-exception-2.0",
            found_by="python",
        ),
        Package(
            name="hello",
            version="(devel)",
            type="golang",
            purl="pkg:golang/example.com/hello@(devel)",
            metadata={"main_package": "true"},
            found_by="go",
            introduced_in=IntroducedIn(layer_index=1, layer_digest=LAYER, diff_id=DIFF, created_by=None),
        ),
        Package(
            name="Same",
            version="1",
            type="npm",
            purl="pkg:npm/same@1",
            license_expression="mit or apache-2.0",
            found_by="npm",
        ),
        Package(name="same", version="1", type="npm", purl="pkg:npm/same@1?x=y", found_by="npm"),
        Package(
            name="python",
            version="3.12.1",
            type="binary",
            purl="pkg:generic/python@3.12.1",
            cpes=[*PYTHON_CPES, PYTHON_CPES[0]],  # syft's two, and a repeat
            found_by="binary",
        ),
        Package(name="cpe-edge", version="1", type="binary", cpes=HOSTILE_CPES, found_by="binary"),
    ]


PYTHON_CPES = [
    "cpe:2.3:a:python_software_foundation:python:3.12.1:*:*:*:*:*:*:*",
    "cpe:2.3:a:python:python:3.12.1:*:*:*:*:*:*:*",
]
# Well-formed names with characters XML and JSON escape (quoted, as CPE 2.3 allows), and malformed ones.
WELL_FORMED_CPES = [
    'cpe:2.3:a:ve\\&ndor:pro\\<duct\\"\\>:1.0\\+deb12:-:*:en-us:*:*:*:*',
    "cpe:2.3:o:*:?prod*:1.*:*:*:*:*:*:*:*",
]
MALFORMED_CPES = [
    "cpe:2.3:a:x:y:1.0:*:*:*:*:*:*:*\n",  # a trailing line end (a `$` pattern would let it through)
    "cpe:2.3:a:x:y:1.0\r\n:*:*:*:*:*:*:*",
    "cpe:2.3:a:\x1b[31mx:y:1.0:*:*:*:*:*:*:*",
    "cpe:2.3:a:x:y:1.0+deb:*:*:*:*:*:*:*",  # '+' unquoted
    "cpe:2.3:a:x:y:1.0:*:*:english:*:*:*:*",  # not a language tag
    "cpe:2.3:a:x:y:1.0:*:*:*:*:*:*",  # one attribute short
    "cpe:2.3:a:x:y:1.0:*:*:*:*:*:*:*:*",  # one too many
    "cpe:/a:x:y:1.0",  # CPE 2.2 URI binding
    "cpe:2.3:a:x:y::*:*:*:*:*:*:*",  # an empty attribute
    "cpe:2.3:a:x:y:1\u00fc:*:*:*:*:*:*:*",
    "",
]
HOSTILE_CPES = [MALFORMED_CPES[0], *WELL_FORMED_CPES, *MALFORMED_CPES[1:], WELL_FORMED_CPES[0]]


def _variants() -> list[tuple[str, list[ImageSbom], tuple[str, str] | None]]:
    from provenant.sbom.result import ScanIssue
    from tests.unit.test_sbom_encoders import ARM64
    from tests.unit.test_sbom_encoders import _image as sample

    issue = ScanIssue(reason="bad\nfile", path="a/b", layer_index=1, layer_digest=LAYER, cataloger="npm")
    edge = _image(0).model_copy(
        update={
            "packages": _edge_packages(),
            "issues": [issue, issue],
            "tag": "v1",
            "distro": Distro(id="wolfi", version_id=None, pretty_name=None),
        }
    )
    index = ("registry.example.com/team/app:1.0", "sha256:" + "e" * 64)
    return [
        ("sample", [sample()], None),
        ("sample without distro", [sample(distro=False)], None),
        ("sample merged", [sample(), sample("linux/arm64", ARM64)], index),
        ("edge cases", [edge], None),
        ("edge cases merged", [edge, sample("linux/arm64", ARM64)], index),
        ("synthetic", [_image(45)], None),
        ("no packages", [_image(0).model_copy(update={"distro": None})], None),
    ]


@pytest.mark.parametrize("case", range(7))
def test_direct_cyclonedx_json_is_the_librarys_bytes(case: int) -> None:
    from uuid import UUID

    from provenant.sbom.cyclonedx_json import cyclonedx_json

    _, images, index = _variants()[case]
    serial = UUID("3e671687-395b-41f5-a30f-a58921a69b79")
    library = encode_cyclonedx(cyclonedx_bom(images, TOOL, merged_index=index, serial=serial, timestamp=WHEN), "json")
    assert cyclonedx_json(images, TOOL, merged_index=index, serial=serial, timestamp=WHEN) == library


@pytest.mark.parametrize("case", range(7))
@pytest.mark.parametrize("seed", [None, "seed"])
def test_direct_spdx_json_is_spdx_tools_bytes(case: int, seed: str | None) -> None:
    from provenant.sbom.spdx_json import spdx_json

    _, images, index = _variants()[case]
    library = encode_spdx_json(spdx_document(images, TOOL, merged_index=index, namespace_seed=seed, created=WHEN))
    assert spdx_json(images, TOOL, merged_index=index, namespace_seed=seed, created=WHEN) == library


def test_direct_spdx_json_of_local_time() -> None:
    """A naive or non-UTC creation time is written as spdx-tools writes it."""
    from datetime import timedelta, timezone

    from provenant.sbom.spdx_json import spdx_json

    for when in (
        datetime(2025, 1, 2, 3, 4, 5, 678),
        datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=5))),
    ):
        library = encode_spdx_json(spdx_document([_image(3)], TOOL, created=when))
        assert spdx_json([_image(3)], TOOL, created=when) == library


def _cpe_image() -> ImageSbom:
    edge = [p for p in _edge_packages() if p.cpes]
    plain = Package(name="plain", version="1", type="npm", purl="pkg:npm/plain@1", found_by="npm")
    return _image(0).model_copy(update={"packages": [*edge, plain]})


def test_cpes_in_every_sbom_format() -> None:
    """syft's shape: CycloneDX ``cpe`` is the first CPE, each other one a ``provenant:cpe23`` property;
    SPDX has one SECURITY ``cpe23Type`` reference per CPE, before the purl. Malformed names are left
    out of both, repeats written once, and every document still validates."""
    import json
    from xml.dom.minidom import parseString

    from provenant.sbom.cyclonedx_json import cyclonedx_json
    from provenant.sbom.cyclonedx_xml import cyclonedx_xml
    from provenant.sbom.spdx_json import spdx_json

    images = [_cpe_image()]
    cdx = json.loads(text := cyclonedx_json(images, TOOL, timestamp=WHEN))
    validate_document("cyclonedx-json", text)
    by_name = {c["name"]: c for c in cdx["components"]}
    expected = {"python": PYTHON_CPES, "cpe-edge": WELL_FORMED_CPES, "plain": []}
    for name, names in expected.items():
        component = by_name[name]
        extra = [p["value"] for p in component.get("properties", []) if p["name"] == "provenant:cpe23"]
        assert (component.get("cpe"), sorted(extra)) == (names[0] if names else None, sorted(names[1:])), name

    xml = cyclonedx_xml(images, TOOL, timestamp=WHEN)
    validate_document("cyclonedx-xml", xml)
    written = {
        _text(c.getElementsByTagName("name")[0]): _text(c.getElementsByTagName("cpe")[0])
        for c in parseString(xml).getElementsByTagName("component")
        if c.getElementsByTagName("cpe")
    }
    assert written == {"python": PYTHON_CPES[0], "cpe-edge": WELL_FORMED_CPES[0]}

    spdx = json.loads(text := spdx_json(images, TOOL, created=WHEN))
    validate_document("spdx-json", text)
    refs = {p["name"]: p.get("externalRefs", []) for p in spdx["packages"]}
    security = [
        {"referenceCategory": "SECURITY", "referenceLocator": c, "referenceType": "cpe23Type"} for c in PYTHON_CPES
    ]
    purl = {
        "referenceCategory": "PACKAGE_MANAGER",
        "referenceLocator": "pkg:generic/python@3.12.1",
        "referenceType": "purl",
    }
    assert refs["python"] == [*security, purl]
    assert [r["referenceLocator"] for r in refs["cpe-edge"]] == WELL_FORMED_CPES
    assert [r["referenceType"] for r in refs["plain"]] == ["purl"]


def test_well_formed_cpes_are_what_spdx_tools_accepts() -> None:
    """The formats' rule for a CPE 2.3 name agrees with spdx-tools' cpe23Type pattern (and is stricter
    only where that pattern's ``$`` lets a trailing line end through)."""
    import re

    from spdx_tools.spdx.validation.external_package_ref_validator import CPE23TYPE_REGEX

    from provenant.sbom.fields import cpes

    for name in [*WELL_FORMED_CPES, *MALFORMED_CPES, *PYTHON_CPES, "cpe:2.3:a:golang:go:1.21:rc2:*:*:*:*:*:*"]:
        ours = cpes(Package(name="x", version="1", type="binary", cpes=[name], found_by="t")) == [name]
        theirs = re.match(CPE23TYPE_REGEX, name) is not None
        assert ours == (theirs and not name.endswith("\n")), repr(name)


# --- CycloneDX XML written directly: byte for byte what the library path writes ---------------------

_NASTY = ["a", " ", "  ", "\r", "\n", "\r\n", "\t", "&", "<", ">", '"', "'", "]]>", "\x00", "\x1b", "\x0b", "\x7f"]
_NASTY += ["\x85", "\u202e", "\ufffe", "\uffff", "\U0001f600", "ü", "=", "/", "@", "?", "#", "%"]


def _nasty(r: Any, n: int = 8) -> str:
    return "".join(r.choice(_NASTY) for _ in range(r.randint(0, n)))


def _hostile_image(seed: int) -> ImageSbom:
    """Every value a package or image carries into the XML, drawn from line ends, controls and markup."""
    import random

    from provenant.sbom.result import ScanIssue

    r = random.Random(seed)
    packages = [
        Package(
            name="n" + _nasty(r),
            version=_nasty(r),
            type=r.choice(["deb", "npm", "pypi", "golang"]),
            purl=r.choice([None, f"pkg:npm/x{i}@1"]),
            description=r.choice([None, _nasty(r)]),
            supplier=r.choice([None, _nasty(r)]),
            homepage=r.choice([None, "https://example.org/" + _nasty(r)]),
            licenses=[_nasty(r) for _ in range(r.randint(0, 3))],
            license_expression=r.choice([None, _nasty(r), "MIT", "mit OR " + _nasty(r)]),
            metadata={_nasty(r): _nasty(r) for _ in range(r.randint(0, 3))},
            found_by=_nasty(r),
            locations=[Location(path=_nasty(r), layer_index=0, layer_digest=LAYER, diff_id=DIFF)] * r.randint(0, 2),
            introduced_in=IntroducedIn(layer_index=0, layer_digest=LAYER, diff_id=DIFF, created_by=_nasty(r)),
            cpes=r.sample([*HOSTILE_CPES, *PYTHON_CPES], r.randint(0, 4)),
        )
        for i in range(6)
    ]
    issue = ScanIssue(reason=_nasty(r), path=_nasty(r), layer_index=1, layer_digest=LAYER, cataloger=_nasty(r))
    distro = Distro(id="d" + _nasty(r), version_id=_nasty(r) or None, pretty_name=_nasty(r) or None)
    return _image(0).model_copy(
        update={"packages": packages, "issues": [issue], "tag": r.choice([None, "v1"]), "distro": distro}
    )


def _both_xml(images: list[ImageSbom], index: tuple[str, str] | None = None) -> tuple[str, str]:
    from uuid import UUID

    from provenant.sbom.cyclonedx_xml import cyclonedx_xml

    serial = UUID("3e671687-395b-41f5-a30f-a58921a69b79")
    library = encode_cyclonedx(cyclonedx_bom(images, TOOL, merged_index=index, serial=serial, timestamp=WHEN), "xml")
    return cyclonedx_xml(images, TOOL, merged_index=index, serial=serial, timestamp=WHEN), library


@pytest.mark.parametrize("case", range(7))
def test_direct_cyclonedx_xml_is_the_librarys_bytes(case: int) -> None:
    _, images, index = _variants()[case]
    direct, library = _both_xml(images, index)
    assert direct == library


def test_direct_cyclonedx_xml_of_hostile_values() -> None:
    """Line ends, tabs, controls, markup and non-characters in every field: the library's bytes, well-formed."""
    from xml.dom.minidom import parseString

    for seed in range(60):
        direct, library = _both_xml([_hostile_image(seed)])
        assert direct == library, f"seed {seed}"
        parseString(direct)
        assert "\x1b" not in direct and "\x00" not in direct
    one = _hostile_image(0)
    other = one.model_copy(update={"platform": "linux/arm64", "manifest_digest": "sha256:" + "e" * 64})
    direct, library = _both_xml([one, other], ("r:1", "sha256:" + "f" * 64))
    assert direct == library


@pytest.mark.parametrize("n", [100, 1000])
def test_direct_cyclonedx_xml_of_generated_images(tmp_path: Path, n: int) -> None:
    """The benchmark's image of ``n`` deb, npm and pypi packages, scanned: the library's bytes."""
    from benchmarks.pkgimage import write_package_image
    from provenant.sbom.generate import generate_sbom
    from provenant.session import Session

    with Session() as session:
        result = generate_sbom(session, write_package_image(tmp_path / "img", n))
    assert sum(len(img.packages) for img in result.images) == n
    direct, library = _both_xml(list(result.images))
    assert direct == library


@pytest.mark.parametrize("fmt", ["cyclonedx-json", "cyclonedx-xml"])
def test_cyclonedx_formats_need_no_cyclonedx_library(tmp_path: Path, fmt: str) -> None:
    """The CLI's CycloneDX formats neither build the library's model nor import it (~0.2 s of a cold run)."""
    import subprocess
    import sys

    saved = tmp_path / "result.json"
    saved.write_text(_result(300).model_dump_json())
    code = (
        "import sys, pathlib\n"
        "from provenant.sbom.formats import encode\n"
        "from provenant.sbom.result import SbomResult\n"
        f"r = SbomResult.model_validate_json(pathlib.Path({str(saved)!r}).read_text())\n"
        f"(doc,) = encode(r, {fmt!r}, merge=False)\n"
        "print(doc.text.count('ref'), sorted(m for m in sys.modules if m.split('.')[0] == 'cyclonedx'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split(" ", 1)
    # every package (bom-ref and graph entry) and the image and OS in the graph; no cyclonedx module
    assert int(out[0]) >= 2 * 300 + 2
    assert out[1] == "[]\n"


@pytest.mark.parametrize("indent", [2, 4])
def test_dumps_indented_is_json_dumps(indent: int) -> None:
    """Both paths (pydantic-core's encoder, the pure-Python one a lone surrogate sends values to) give json.dumps,
    with and without ASCII escapes."""
    import json

    from provenant.jsontext import dumps_indented

    values: list[Any] = [
        {"a": 'ü\x7f\x00\x1b\u202e\U0001f600"\\/\t\n\r\b\f', "e": {}, "l": [], "n": None, "t": True, "f": False},
        {"nested": [{"k": [1, -2, 3]}, [[]], {"z": {"y": "x"}}], "": ""},
        {"path": "usr/lib/\udcff\udcfe.so", "ok": "ascii"},  # a file name that was not UTF-8
        [],
        {},
        "text",
        12,
    ]
    for value in values:
        assert dumps_indented(value, " " * indent) == json.dumps(value, indent=indent)
        assert dumps_indented(value, " " * indent, ensure_ascii=False) == json.dumps(
            value, indent=indent, ensure_ascii=False
        )
        if isinstance(value, dict):
            assert dumps_indented(value, " " * indent, sort_keys=True) == json.dumps(
                value, indent=indent, sort_keys=True
            )


def test_encoding_pauses_the_cycle_collector_and_restores_it() -> None:
    """Full collections walk the whole model: they made encoding superlinear in packages."""
    import gc

    seen: list[bool] = []
    original = formats.FORMATS["table"]

    def spy(result: SbomResult, images: Any, merged: bool) -> str:
        seen.append(gc.isenabled())
        return original(result, images, merged)

    assert gc.isenabled()
    try:
        formats.FORMATS["table"] = spy
        formats.encode(_result(3), "table", merge=False)
        gc.disable()
        formats.encode(_result(3), "table", merge=False)
        assert not gc.isenabled()  # left as it was
    finally:
        gc.enable()
        formats.FORMATS["table"] = original
    assert seen == [False, False]


def _reference_table_rows(img: ImageSbom) -> list[str]:
    """The package rows as the table defines them, spelled plainly (sorted packages, escaped cells)."""
    from provenant.sbom.table import _created_by
    from provenant.textsafe import printable

    def cell(text: str) -> str:
        return printable(" ".join(text.split()))

    rows = [["NAME", "VERSION", "TYPE", "INTRODUCED"]]
    for p in sorted(img.packages, key=lambda p: (p.type, p.name, p.version, p.key())):
        where = "-"
        if p.introduced_in is not None:
            made = _created_by(p.introduced_in.created_by)
            where = f"{p.introduced_in.layer_index} {made}".strip() if made else str(p.introduced_in.layer_index)
        rows.append([cell(p.name), cell(p.version), cell(p.type), where])
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def test_table_rows_are_the_plain_definition_for_odd_values() -> None:
    """Each package read once into a keyed row (then sorted) renders what sorting the packages rendered,
    including names that need escaping or folding (controls, bidi, runs of blanks, a brace)."""
    img = _image(40)
    odd = ["a\x1b[31mb", "  lead", "trail ", "two  spaces", "tab\tname", "bidi\u202eevil", "nbsp\u00a0x", "{0}", "é"]
    for i, text in enumerate(odd):
        img.packages[i].name = text
        img.packages[i + 10].version = text
    img.packages[20].introduced_in = None
    img.packages[21].introduced_in = IntroducedIn(layer_index=3, layer_digest=LAYER, diff_id=DIFF, created_by=None)
    from provenant.sbom.table import render_table

    lines = render_table([img]).splitlines()
    assert lines[1 : 2 + len(img.packages)] == _reference_table_rows(img)


@pytest.mark.parametrize("arrangement", ["table order", "reversed", "shuffled"])
def test_table_order_is_checked_not_assumed(arrangement: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The table trusts the model's order only after checking it: packages in any order, with ties on
    type/name/version broken by purl (or its absence), render the reference rows; in table order the
    packages are read once (no sort key made)."""
    import random

    from provenant.sbom import table

    img = _image(60)
    ties = [
        img.packages[3].model_copy(update={"purl": None}),
        img.packages[3].model_copy(update={"purl": "pkg:deb/pkg3@1.3?arch=arm64"}),
        img.packages[4].model_copy(update={"type": "apk", "purl": None}),
    ]
    packages = sorted([*img.packages, *ties], key=lambda p: (p.type, p.name, p.version, p.key()))
    if arrangement == "reversed":
        packages.reverse()
    elif arrangement == "shuffled":
        random.Random(7).shuffle(packages)
    img.packages = packages
    keyed: list[str] = []
    original = table._order

    def counting(p: Package) -> tuple[str, str, str, str]:
        keyed.append(p.name)
        return original(p)

    monkeypatch.setattr(table, "_order", counting)
    lines = table.render_table([img]).splitlines()
    assert lines[1 : 2 + len(packages)] == _reference_table_rows(img)
    assert lines[2 + len(packages)] == f"{len(packages)} packages: 1 apk, 22 deb, 20 npm, 20 pypi"
    assert len(keyed) == (0 if arrangement == "table order" else len(packages))


def test_table_makes_each_layers_column_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The INTRODUCED cell is made per layer, not per package (the history line is cut and escaped once)."""
    from provenant.sbom import table

    calls: list[str | None] = []
    original = table._created_by

    def counting(line: str | None) -> str:
        calls.append(line)
        return original(line)

    monkeypatch.setattr(table, "_created_by", counting)
    table.render_table([_image(300)])
    assert calls == ["RUN x"]  # before: 300 calls


def test_encode_benchmark_prints_times_ratios_and_the_walk() -> None:
    """benchmarks/encode_formats.py runs end to end: a row per size, the walk beside the formats, a ratio per N
    (of the best times, and paired by round), and each measure's split-half precision."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "encode_formats.py"
    out = subprocess.run(
        [sys.executable, str(script), "--sizes", "3", "--repeat", "2", "--formats", "table,json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout.splitlines()
    header = next(line for line in out if line.lstrip().startswith("N "))
    assert header.split()[-3:] == ["table", "json", "walk"]
    at = out.index("time(2N)/time(N), wall / CPU:")
    rows = {line.split()[0]: line.split() for line in out[:at] if line.split() and line.split()[0] in ("3", "6")}
    assert rows["3"][1] == "3" and rows["6"][1] == "6"  # packages found
    ratio_line = out[at + 1].split()
    assert ratio_line[0] == "3" and len(ratio_line) == 4  # N, then wall/CPU per format and the walk
    for cell in ratio_line[1:]:
        wall, cpu = cell.split("/")
        assert float(wall) > 0 and float(cpu) >= 0
    paired = out.index("median over rounds of wall(2N)/wall(N), the two processes of a round run back to back:")
    paired_line = out[paired + 1].split()
    assert paired_line[0] == "3" and len(paired_line) == 4 and all(float(cell) > 0 for cell in paired_line[1:])
    twice = out.index("the same measure twice: best wall time of the odd rounds / best of the even rounds, per size:")
    assert [line.split()[0] for line in out[twice + 1 : twice + 3]] == ["3", "6"]
    assert all(float(cell) > 0 for line in out[twice + 1 : twice + 3] for cell in line.split()[1:])


def _parser_to_spdx(text: str) -> str | None:
    """What ``to_spdx`` answers for one symbol through the parser (its last step)."""
    try:
        parsed = licenses.spdx_licensing().parse(text, validate=True, strict=False)
    except license_expression.ExpressionError:
        return None
    return None if parsed is None else str(parsed)


def _parser_spdx_expression(text: str) -> str | None:
    """``spdx_expression`` through the parser only (as it was before the fast path)."""
    licensing = licenses.spdx_licensing()
    try:
        parsed = licensing.parse(text)
    except license_expression.ExpressionError:
        return None
    if parsed is None:
        return None
    if any(not licenses.LICENSE_REF.fullmatch(s) for s in licensing.validate(parsed).invalid_symbols):
        return None
    try:
        licensing.parse(str(parsed), validate=True, strict=True)
    except license_expression.ExpressionParseError:
        return None
    except license_expression.ExpressionError:
        pass
    return str(parsed)


def test_flat_license_expressions_read_without_the_parser_as_the_parser_reads_them() -> None:
    """Every id of the index (any case) and chains of them: the fast path answers as the parser, or defers."""
    import random

    keys = list(licenses._spdx_keys())
    assert len(keys) > 2000
    texts = [v for k in keys for v in (k, k.upper())]
    rnd = random.Random(16)
    for _ in range(2000):
        syms = [rnd.choice([*keys[:400], "LicenseRef-x", "LicenseRef-a.b-1", "licenseref-x", "NotALicense"])]
        syms += [rnd.choice(keys) for _ in range(rnd.randint(1, 4))]
        texts.append(f" {rnd.choice(['AND', 'OR', 'and', 'or'])} ".join([*syms, syms[0]]))
    texts += ["MIT AND Apache-2.0 OR BSD-3-Clause", "MIT WITH Classpath-exception-2.0", "Classpath-exception-2.0"]
    answered = 0
    for text in texts:
        for license_refs, parser in ((False, _parser_to_spdx), (True, _parser_spdx_expression)):
            fast = licenses._flat(text, license_refs=license_refs)
            if fast is not None:
                answered += 1
                assert fast == parser(text), text
    assert answered > len(texts)  # most of them did not need the parser


def test_flat_expressions_build_no_licensing_index(fresh_licensing: list[int]) -> None:
    """Cataloging and encoding licenses that are ids joined by AND (most packages' licenses) builds no parser."""
    result = _result(40)
    for p in result.images[0].packages:
        p.license_expression = p.license_expression.replace(" OR ", " AND ") if p.license_expression else None
    assert licenses.expression(["MIT", "gpl-2+", "BSD-3-Clause AND ISC"]) == (
        "MIT AND GPL-2.0-or-later AND (BSD-3-Clause AND ISC)"
    )
    for fmt in ("cyclonedx-json", "spdx-json"):
        formats.encode(result, fmt, merge=False)
    assert fresh_licensing == []  # before: built once per process, ~30 ms of a small image's cold run
    licenses.to_spdx("(MIT OR Apache-2.0) AND ISC")
    assert fresh_licensing == [1]  # a grouped expression still goes through the parser


def test_one_declared_symbol_read_without_the_parser_as_the_parser_reads_it(fresh_licensing: list[int]) -> None:
    """A declared license of one word: its id if the index knows it, else None, as the parser says, and no parser
    built for it (Debian's ``LGPL`` built one only to refuse it). Exceptions alone are left to the parser."""
    keys = list(licenses._spdx_keys())
    words = {"LGPL", "GPL-1", "GPL", "BSD", "PD", "MIT/X11", "LicenseRef-foo", "licenseref-x", "none", "GPL-2.0+"}
    for k in keys[::7]:
        words.update((k, k.upper(), k + "+", k + "-only", k.replace("-", ""), k + ",", k + "/x"))
    words = {w for w in words if len(w.split()) == 1 and w.lower() not in licenses._ALIASES}
    answers = {w: licenses.to_spdx(w) for w in words}
    assert fresh_licensing == []
    assert {w for w, a in answers.items() if a} and {w for w, a in answers.items() if a is None}
    for word, answer in answers.items():
        assert answer == _parser_to_spdx(word), word
    assert licenses.to_spdx("Classpath-exception-2.0") == _parser_to_spdx("Classpath-exception-2.0")
