"""``compare`` against the real registry: sizes from the manifests, shared layers, package skew."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures import FixtureSet, Registry, recipes, skewimages
from provenant.attest.keys import load_private_key, load_public_key
from provenant.attest.push import sign_image
from provenant.cli.main import cli
from provenant.compare.platforms import CompareResult, compare_platforms
from provenant.oci.platform import PlatformSpec
from provenant.session import Session
from tests.attestdata import artifacts, crypto
from tests.layoutfacts import expected_type_counts, expected_versions, platform_facts

pytestmark = pytest.mark.integration

AMD64, ARM64 = "linux/amd64", "linux/arm64/v8"


@pytest.fixture(scope="module")
def multiarch(registry: Registry) -> CompareResult:
    with Session() as session:
        return compare_platforms(
            session,
            f"{registry.host}/debian-multiarch:12",
            require=[PlatformSpec.parse("linux/amd64"), PlatformSpec.parse("linux/arm64")],
        )


def test_platforms_sizes_and_layers_match_the_manifests(multiarch: CompareResult, fixture_set: FixtureSet) -> None:
    fx = fixture_set.image("debian-multiarch:12")
    facts = platform_facts(fx)
    # The index also holds two attestation manifests (unknown/unknown): they are not platforms.
    assert len(fx.attestations) == 2
    assert [p.platform for p in multiarch.platforms] == [AMD64, ARM64]
    assert multiarch.digest == fx.digest
    for p in multiarch.platforms:
        f = facts[p.platform]
        assert p.manifest_digest == f.digest == fx.platforms[p.platform]
        assert p.manifest_size == f.manifest_size
        assert p.config_size == f.config_size
        assert p.compressed_size == f.compressed
        assert p.uncompressed_size == f.uncompressed
        assert p.layer_count == len(f.diff_ids)
        assert [layer.diff_id for layer in p.layers] == f.diff_ids
        assert [layer.size for layer in p.layers] == f.layer_sizes
        assert [layer.uncompressed_size for layer in p.layers] == f.uncompressed_sizes
    # arm64 has one layer more (libatomic1); the recipe builds every layer per arch.
    assert (len(facts[AMD64].layer_sizes), len(facts[ARM64].layer_sizes)) == (2, 3)


def test_shared_versus_unique_layers_by_diff_id(multiarch: CompareResult, fixture_set: FixtureSet) -> None:
    facts = platform_facts(fixture_set.image("debian-multiarch:12"))
    common = set(facts[AMD64].diff_ids) & set(facts[ARM64].diff_ids)
    for p in multiarch.platforms:
        other = ARM64 if p.platform == AMD64 else AMD64
        ids = facts[p.platform].diff_ids
        assert p.shared_layers == sum(1 for d in ids if d in common)
        assert p.unique_layers == sum(1 for d in ids if d not in common)
        assert [layer.shared_with for layer in p.layers] == [[other] if d in common else [] for d in ids]
    assert multiarch.common_layers == len(common)


def test_a_layer_shared_by_both_platforms(registry: Registry, fixture_set: FixtureSet) -> None:
    """debian-skew:1 ends with a byte-identical COPY layer on both platforms; the rest is per arch."""
    facts = platform_facts(fixture_set.image("debian-skew:1"))
    common = set(facts[AMD64].diff_ids) & set(facts[ARM64].diff_ids)
    assert len(common) == 1 and facts[AMD64].diff_ids[-1] in common
    with Session() as session:
        result = compare_platforms(session, f"{registry.host}/debian-skew:1")
    assert result.common_layers == 1
    for p in result.platforms:
        other = ARM64 if p.platform == AMD64 else AMD64
        f = facts[p.platform]
        assert (p.shared_layers, p.unique_layers) == (1, len(f.diff_ids) - 1)
        assert [layer.shared_with for layer in p.layers] == [[other] if d in common else [] for d in f.diff_ids]
        assert p.compressed_size == f.compressed
        assert p.uncompressed_size == f.uncompressed


def test_package_presence_and_counts(multiarch: CompareResult, fixture_set: FixtureSet) -> None:
    fx = fixture_set.image("debian-multiarch:12")
    for p in multiarch.platforms:
        assert p.packages_by_type == expected_type_counts(fx, p.platform)
        assert p.package_count == len(fx.expected_packages(p.platform))
    # The recipe's deliberate skew: arm64 only gets ARM64_PACKAGES.
    assert [(pp.type, pp.name, pp.present_on, pp.missing_on) for pp in multiarch.partial_packages] == [
        ("deb", name, [ARM64], [AMD64]) for name in recipes.ARM64_PACKAGES
    ]
    assert multiarch.partial_packages[0].versions == {ARM64: fixture_set.versions[recipes.ARM64_PACKAGES[0]]}
    # Every package is pinned to one version on every arch: no version skew in this image.
    assert multiarch.version_skew == []


def test_attestation_coverage_and_base_image(multiarch: CompareResult, fixture_set: FixtureSet) -> None:
    base_digest = fixture_set.image("debian-base:12").digest
    slsa = dict(recipes.RELEASES[0].slsa)
    for p in multiarch.platforms:
        cov = p.attestations
        assert (cov.provenance, cov.sbom, cov.signed, cov.verified) == (True, True, False, False)
        assert cov.trust == ["unsigned"]
        assert p.base_image is not None
        assert p.base_image.digest == base_digest
        assert p.base_image.evidence == "provenance"
        arch = "amd64" if p.platform == AMD64 else "arm64"
        v1 = slsa[arch] == "v1"
        assert p.base_image.detail == ("buildDefinition.resolvedDependencies" if v1 else "materials")
        assert p.base_image.name == recipes.BASE_NAME
    assert multiarch.required == ["linux/amd64", "linux/arm64/v8"]
    assert multiarch.missing_required == []
    assert multiarch.ok


def _skew(fixture_set: FixtureSet) -> tuple[tuple[str, str], str, str]:
    """(type, name), amd64 version, arm64 version of the package dpkg-query finds at two versions."""
    fx = fixture_set.image("debian-skew:1")
    amd, arm = expected_versions(fx, AMD64), expected_versions(fx, ARM64)
    skewed = [key for key in sorted(amd.keys() & arm.keys()) if amd[key] != arm[key]]
    assert len(skewed) == 1  # the fixture really does ship one package at two versions
    assert skewed[0][1] in skewimages.CANDIDATES
    return skewed[0], amd[skewed[0]], arm[skewed[0]]


def test_version_skew_of_the_skew_image(registry: Registry, fixture_set: FixtureSet) -> None:
    key, amd_version, arm_version = _skew(fixture_set)
    with Session() as session:
        result = compare_platforms(session, f"{registry.host}/debian-skew:1")
    assert [(s.type, s.name, s.versions) for s in result.version_skew] == [
        (*key, {AMD64: amd_version, ARM64: arm_version})
    ]
    assert result.partial_packages == []
    # Base image from annotations? This image has none and no provenance: no evidence, no claim.
    assert all(p.base_image is None for p in result.platforms)
    assert all(not p.attestations.provenance and not p.attestations.sbom for p in result.platforms)


def test_single_manifest_and_oci_layout(fixture_set: FixtureSet) -> None:
    fx = fixture_set.image("debian-amd64:12")
    facts = platform_facts(fx)
    with Session() as session:
        result = compare_platforms(session, f"oci:{fx.layout}:12")
    assert not result.is_index
    assert [p.platform for p in result.platforms] == [AMD64]
    assert result.platforms[0].compressed_size == facts[AMD64].compressed
    assert result.platforms[0].manifest_size == facts[AMD64].manifest_size
    assert result.platforms[0].base_image is not None
    assert result.platforms[0].base_image.evidence == "annotations"  # no attestations on a plain manifest
    assert result.platforms[0].base_image.digest == fixture_set.image("debian-base:12").digest
    assert result.notes == ["a single platform: nothing to compare it with"]


def test_cli_require_exit_codes(registry: Registry) -> None:
    ref = f"{registry.host}/debian-multiarch:12"
    ok = CliRunner().invoke(cli, ["compare", ref, "--no-cache", "--require", "linux/amd64,linux/arm64"])
    assert ok.exit_code == 0, ok.output
    assert "Required platforms present: linux/amd64, linux/arm64/v8" in ok.stdout
    missing = CliRunner().invoke(cli, ["compare", ref, "--no-cache", "--require", "linux/amd64,linux/s390x"])
    assert missing.exit_code == 1
    assert "required platforms missing: linux/s390x" in missing.stderr
    # Attestation manifests are unknown/unknown in the index, and never count as a platform.
    unknown = CliRunner().invoke(cli, ["compare", ref, "--no-cache", "--require", "unknown/unknown"])
    assert unknown.exit_code == 1
    bad = CliRunner().invoke(cli, ["compare", ref, "--require", "linux"])
    assert bad.exit_code == 2
    assert bad.stderr.startswith("provenant: error: invalid platform 'linux'")


def test_cli_json_and_markdown(registry: Registry, fixture_set: FixtureSet) -> None:
    ref = f"{registry.host}/debian-skew:1"
    fx = fixture_set.image("debian-skew:1")
    out = CliRunner().invoke(cli, ["compare", ref, "--no-cache", "-o", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert {p["platform"]: p["manifest_digest"] for p in doc["platforms"]} == dict(fx.platforms)
    (kind, name), amd_version, arm_version = _skew(fixture_set)
    assert [s["name"] for s in doc["version_skew"]] == [name]
    md = CliRunner().invoke(cli, ["compare", ref, "--no-cache", "-o", "markdown"])
    assert md.exit_code == 0, md.output
    row = f"| {kind} | `{name}` | {AMD64} {amd_version}; {ARM64} {arm_version} |"
    assert row in md.stdout.splitlines()
    assert "| Platform | Digest | Compressed |" in md.stdout


def test_signature_status_with_and_without_the_key(registry: Registry, tmp_path: Path) -> None:
    """A copy of the multi-arch tag with a cosign signature on its arm64 manifest only."""
    priv, pub = crypto.write_keys(crypto.new_key(), tmp_path, "compare")
    artifacts.copy_image(registry.host, "debian-multiarch", "12", "compare/signed", "12")
    ref = f"{registry.host}/compare/signed:12"
    with Session() as session:
        sign_image(session, ref, load_private_key(priv, None), platforms=[PlatformSpec.parse("linux/arm64")])
    with Session() as session:
        without_key = compare_platforms(session, ref)
        with_key = compare_platforms(session, ref, keys=[load_public_key(pub)])
    states = {
        p.platform: (p.attestations.signed, p.attestations.verified, p.attestations.summary)
        for p in without_key.platforms
    }
    assert states == {
        AMD64: (False, False, "provenance+sbom (unsigned)"),
        ARM64: (True, False, "provenance+sbom (signed)"),
    }
    states = {p.platform: (p.attestations.signed, p.attestations.verified) for p in with_key.platforms}
    assert states == {AMD64: (False, False), ARM64: (True, True)}
    fingerprint = load_public_key(pub).fingerprint
    assert f"signed:key={fingerprint}" in with_key.platforms[1].attestations.trust
    cli_out = CliRunner().invoke(cli, ["compare", ref, "--no-cache", "--key", str(pub), "-o", "json"])
    assert cli_out.exit_code == 0, cli_out.output
    assert [p["attestations"]["verified"] for p in json.loads(cli_out.stdout)["platforms"]] == [False, True]
    _, other = crypto.write_keys(crypto.new_key(), tmp_path, "other")
    with Session() as session:
        wrong_key = compare_platforms(session, ref, keys=[load_public_key(other)])
    # a signature that fails with the given key is not summarised as "signed"
    assert {p.platform: p.attestations.summary for p in wrong_key.platforms} == {
        AMD64: "provenance+sbom (unsigned)",
        ARM64: "provenance+sbom (signature invalid)",
    }


def test_text_from_the_image_is_printed_not_read_as_markup(multiarch: CompareResult) -> None:
    """Package names and versions are the image's text: rich must print "[/x]", not parse it."""
    from rich.console import Console

    from provenant.compare.table import render_compare

    hostile = "lib[bold]evil[/bold][/oops]"
    partial = multiarch.partial_packages[0].model_copy(update={"name": hostile})
    result = multiarch.model_copy(update={"partial_packages": [partial]})
    con = Console(record=True, width=400)
    render_compare(result, con)
    assert hostile in con.export_text()


def test_narrow_terminal_folds_long_cells_instead_of_cutting_every_column(multiarch: CompareResult) -> None:
    """At 100 columns rich used to cut each column to '…' (both platforms read 'linux/a…')."""
    from rich.console import Console

    from provenant.compare.table import render_compare

    con = Console(record=True, width=100)
    render_compare(multiarch, con)
    text = con.export_text()
    assert "…" not in text
    header = next(line for line in text.splitlines() if line.startswith("PLATFORM"))
    assert header.split() == [
        "PLATFORM", "DIGEST", "COMPRESSED", "UNCOMPRESSED", "LAYERS", "SHARED", "UNIQUE", "PACKAGES", "EVIDENCE"
    ]  # fmt: skip
    rows = [line.split()[0] for line in text.splitlines() if line.startswith("linux/")]
    assert rows == [AMD64, ARM64]
    # the folded digest is still all there, read down its column
    start = header.index("DIGEST")
    width = header.index("COMPRESSED") - start
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(AMD64))
    digest = ""
    for line in lines[first:]:
        if digest and not line.startswith(" "):
            break
        digest += line[start : start + width].strip()
    assert digest == multiarch.platforms[0].manifest_digest
