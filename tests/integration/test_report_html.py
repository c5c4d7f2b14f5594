"""``report``: the HTML page rendered by headless Chromium, checked on the text it shows."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures import FixtureSet, Registry, recipes
from fixtures.hygieneimages import hidden_files
from provenant.attest.keys import load_private_key, load_public_key
from provenant.attest.push import sign_image
from provenant.cli.main import cli
from provenant.compare.report import build_report
from provenant.compare.report_html import render_html
from provenant.oci.platform import PlatformSpec
from provenant.session import Session
from provenant.sizes import human_size
from tests.attestdata import artifacts, crypto
from tests.layoutfacts import blob, expected_type_counts, platform_facts

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PLATFORMS = ["linux/amd64", "linux/arm64/v8"]
SLSA_TYPES = {"v0.2": "https://slsa.dev/provenance/v0.2", "v1": "https://slsa.dev/provenance/v1"}


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("Chromium is not installed (scripts/setup.sh installs Debian's chromium package)")


def _run_chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    cmd = [_chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=True)


def _overflow(page: Path, tmp: Path) -> int:
    """Pixels the page is wider than a 1280 px window, with every ``<details>`` open.

    A copy of the page gets a script that writes ``scrollWidth - innerWidth`` into the DOM, which
    ``--dump-dom`` then returns (the report itself has no scripts).
    """
    probe = tmp / f"probe-{page.name}"
    script = (
        "<script>document.body.insertAdjacentHTML('beforeend','<p id=overflow>'+"
        "(document.documentElement.scrollWidth-window.innerWidth)+'</p>')</script>"
    )
    probe.write_text(page.read_text().replace("<details>", "<details open>").replace("</body>", script + "</body>"))
    dom = _run_chromium(["--window-size=1280,2000", "--dump-dom", probe.as_uri()], tmp / "profile-probe").stdout
    found = re.search(r'<p id="overflow">(-?\d+)</p>', dom)
    assert found, "the probe script did not run"
    return max(0, int(found.group(1)))


class Tables(HTMLParser):
    """The rendered DOM's tables, by the ``id`` of the section holding them, as rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, list[list[str]]] = {}
        self.text: dict[str, str] = {}
        self._ids: list[str | None] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    @property
    def _section(self) -> str | None:
        return next((i for i in reversed(self._ids) if i), None)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            self._ids.append(dict(attrs).get("id"))
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._ids.pop()
        elif tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._section:
            self.sections.setdefault(self._section, []).append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._section:
            self.text[self._section] = self.text.get(self._section, "") + data


@pytest.fixture(scope="module")
def rendered(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Tables, Path]:
    out = tmp_path_factory.mktemp("report")
    page = out / "report.html"
    result = CliRunner().invoke(
        cli,
        ["report", f"{registry.host}/debian-multiarch:12", "-o", str(page), "--no-cache", "--require", "linux/amd64"],
    )
    assert result.exit_code == 0, result.output
    dom = _run_chromium(["--dump-dom", page.as_uri()], out / "profile").stdout
    shot = out / "report.png"
    _run_chromium(["--window-size=1280,3000", f"--screenshot={shot}", page.as_uri()], out / "profile")
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "report-debian-multiarch-12.png")
    parser = Tables()
    parser.feed(dom)
    return page.read_text(), parser, shot


def test_page_is_self_contained(rendered: tuple[str, Tables, Path]) -> None:
    source = rendered[0]
    for needle in ("<script", "<link", "src=", "href=", "url(", "@import"):
        assert needle not in source


def test_secret_values_stay_off_the_page(rendered: tuple[str, Tables, Path]) -> None:
    """The recipe's ENV line sets API_TOKEN; history lines are shown with secret values masked."""
    source = rendered[0]
    assert "API_TOKEN=****" in source
    assert "s3cr3t-value" not in source


def test_screenshot_is_kept(rendered: tuple[str, Tables, Path]) -> None:
    shot = rendered[2]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (ARTIFACTS / "report-debian-multiarch-12.png").stat().st_size == shot.stat().st_size


def test_sizes_and_platforms_on_the_page(rendered: tuple[str, Tables, Path], fixture_set: FixtureSet) -> None:
    tables = rendered[1]
    fx = fixture_set.image("debian-multiarch:12")
    facts = platform_facts(fx)
    header, *rows = tables.sections["platforms"]
    assert header[:4] == ["Platform", "Manifest", "Compressed", "Uncompressed"]
    assert [r[0] for r in rows] == PLATFORMS
    for row in rows:
        f = facts[row[0]]
        assert row[1] == f.digest
        assert row[2].endswith(f"({f.compressed:,} bytes)")
        assert row[3].endswith(f"({f.uncompressed:,} bytes)")
        assert row[4] == str(len(f.diff_ids))
        assert row[6] == str(len(fx.expected_packages(row[0])))
        # Attestation status: BuildKit provenance + SPDX SBOM per platform, unsigned.
        assert row[8] == "provenance: yes SBOM: yes signature: no unsigned"
    sizes = tables.text["sizes"]
    for p in PLATFORMS:
        assert p in sizes


def test_package_counts_by_type(rendered: tuple[str, Tables, Path], fixture_set: FixtureSet) -> None:
    fx = fixture_set.image("debian-multiarch:12")
    header, *rows = rendered[1].sections["package-types"]
    types = sorted({t for p in PLATFORMS for t in expected_type_counts(fx, p)})
    assert header == ["Platform", *types, "total"]
    expected = []
    for p in PLATFORMS:
        counts = expected_type_counts(fx, p)
        expected.append([p, *(str(counts.get(t, 0)) for t in types), str(sum(counts.values()))])
    assert rows == expected


def test_compare_results_on_the_page(rendered: tuple[str, Tables, Path], fixture_set: FixtureSet) -> None:
    tables = rendered[1]
    extra = recipes.ARM64_PACKAGES[0]
    assert ["deb", extra, f"linux/arm64/v8 {fixture_set.versions[extra]}", "linux/amd64"] in tables.sections[
        "differences"
    ]
    text = tables.text["differences"]
    assert "No version skew" in text
    assert "Required platforms present: linux/amd64" in text


def test_layers_history_and_attestations_per_platform(
    rendered: tuple[str, Tables, Path], fixture_set: FixtureSet
) -> None:
    tables = rendered[1]
    fx = fixture_set.image("debian-multiarch:12")
    facts = platform_facts(fx)
    slsa = dict(recipes.RELEASES[0].slsa)
    for platform in PLATFORMS:
        section = "platform-" + platform.replace("/", "-")
        rows = tables.sections[section]
        f = facts[platform]
        layer_rows = [r for r in rows if len(r) == 8 and r[0].isdigit()]
        assert [r[0] for r in layer_rows] == [str(i) for i in range(len(f.diff_ids))]
        for r, size, usize in zip(layer_rows, f.layer_sizes, f.uncompressed_sizes, strict=True):
            assert r[2].endswith(f"({size:,} bytes)") and r[3].endswith(f"({usize:,} bytes)")
        manifest = json.loads(blob(fx.layout, f.digest))
        history = json.loads(blob(fx.layout, manifest["config"]["digest"]))["history"]
        assert f"History ({len(history)} lines)" in tables.text[section]
        arch = "amd64" if platform == "linux/amd64" else "arm64"
        predicate_types = sorted(r[1] for r in rows if len(r) == 6 and r[0] == "attestation")
        assert predicate_types == sorted([SLSA_TYPES[slsa[arch]], "https://spdx.dev/Document"])
        assert f"debian-base:12 {fixture_set.image('debian-base:12').digest}" in tables.text[section]


def _layer_tars(fx_layout: Path, manifest_digest: str) -> list[bytes]:
    manifest = json.loads(blob(fx_layout, manifest_digest))
    return [gzip.decompress(blob(fx_layout, d["digest"])) for d in manifest["layers"]]


def test_wasted_bytes_per_layer(rendered: tuple[str, Tables, Path], fixture_set: FixtureSet) -> None:
    """Against the fixtures' own tarfile walk (whiteouts, opaque dirs, rewritten dpkg status files)."""
    tables = rendered[1]
    fx = fixture_set.image("debian-multiarch:12")
    for platform in PLATFORMS:
        section = "platform-" + platform.replace("/", "-")
        hidden = hidden_files(_layer_tars(fx.layout, fx.platforms[platform]))
        assert hidden  # the tools layer deletes mawk's examples and rewrites the dpkg status
        total = sum(w["size"] for w in hidden)
        assert f"Wasted: {human_size(total)} ({total:,} bytes) in {len(hidden)} file(s)" in tables.text[section]
        layer_rows = [r for r in tables.sections[section] if len(r) == 8 and r[0].isdigit()]
        for row in layer_rows:
            wasted = sum(w["size"] for w in hidden if w["layer_index"] == int(row[0]))
            assert row[6] == (f"{human_size(wasted)} ({wasted:,} bytes)" if wasted else "0")
        listed = [r for r in tables.sections[section] if len(r) == 4 and r[0].startswith("/")]
        assert [(r[0], int(r[1])) for r in listed] == [(w["path"], w["layer_index"]) for w in hidden[:20]]


def test_text_from_the_image_is_escaped(registry: Registry, tmp_path: Path) -> None:
    with Session() as session:
        report = build_report(session, f"{registry.host}/debian-skew:1")
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    layer = report.compare.platforms[0].layers[0]
    report.compare.platforms[0].layers[0] = layer.model_copy(update={"created_by": hostile})
    page = render_html(report)
    assert "<script" not in page and "<img" not in page
    path = tmp_path / "hostile.html"
    path.write_text(page)
    dom = _run_chromium(["--dump-dom", path.as_uri()], tmp_path / "profile").stdout
    parser = Tables()
    parser.feed(dom)
    assert hostile in parser.text["platform-linux-amd64"]  # shown as text, not run


def test_signature_status_on_the_page(registry: Registry, tmp_path: Path) -> None:
    priv, pub = crypto.write_keys(crypto.new_key(), tmp_path, "report")
    artifacts.copy_image(registry.host, "debian-multiarch", "12", "report/signed", "12")
    ref = f"{registry.host}/report/signed:12"
    with Session() as session:
        sign_image(session, ref, load_private_key(priv, None), platforms=[PlatformSpec.parse("linux/amd64")])
    page = tmp_path / "signed.html"
    result = CliRunner().invoke(cli, ["report", ref, "-o", str(page), "--no-cache", "--key", str(pub)])
    assert result.exit_code == 0, result.output
    parser = Tables()
    parser.feed(_run_chromium(["--dump-dom", page.as_uri()], tmp_path / "profile").stdout)
    rows = {r[0]: r[8] for r in parser.sections["platforms"][1:]}
    assert rows == {
        "linux/amd64": "provenance: yes SBOM: yes signature: yes verified",
        "linux/arm64/v8": "provenance: yes SBOM: yes signature: no unsigned",
    }
    fingerprint = load_public_key(pub).fingerprint
    signatures = [r for r in parser.sections["platform-linux-amd64"] if len(r) == 6 and r[0] == "signature"]
    assert [(r[2], r[3], r[5]) for r in signatures] == [("cosign-tag", f"signed:key={fingerprint}", "match")]
    # 71-character fingerprints in the Trust and Signer cells must not push the table off the page
    assert _overflow(page, tmp_path) == 0
    _, other = crypto.write_keys(crypto.new_key(), tmp_path, "other")
    wrong = tmp_path / "wrong-key.html"
    result = CliRunner().invoke(cli, ["report", ref, "-o", str(wrong), "--no-cache", "--key", str(other)])
    assert result.exit_code == 0, result.output
    parser = Tables()
    parser.feed(_run_chromium(["--dump-dom", wrong.as_uri()], tmp_path / "profile").stdout)
    rows = {r[0]: r[8] for r in parser.sections["platforms"][1:]}
    assert rows["linux/amd64"] == ("provenance: yes SBOM: yes signature: invalid does not verify with the given key(s)")
