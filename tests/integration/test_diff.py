"""``diff`` between the two fixture releases, in the registry and across sources."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from fixtures import FixtureSet, Registry, recipes
from provenant.cache import LayerCache
from provenant.cli.main import cli
from provenant.compare.diff import DiffResult, PlatformDiff, diff_images
from provenant.evidence import RunCache, gather
from provenant.oci.platform import PlatformSpec
from provenant.session import Session
from tests.layoutfacts import expected_versions, platform_facts

pytestmark = pytest.mark.integration

R1, R2 = recipes.RELEASES
PLATFORMS = ["linux/amd64", "linux/arm64/v8"]


def _expected_config_changes() -> list[tuple[str, str | None, str | None, str | None]]:
    """(field, key, old, new) the recipe's second release makes, in provenant's documented order
    (scalars, env, labels, exposed ports; keys sorted)."""
    labels_old = {"org.opencontainers.image.revision": R1.revision, "org.opencontainers.image.version": R1.tag}
    labels_new = {
        "org.opencontainers.image.revision": R2.revision,
        "org.opencontainers.image.version": R2.tag,
        **dict(R2.extra_labels),
    }
    out: list[tuple[str, str | None, str | None, str | None]] = []
    if R1.app_version != R2.app_version:
        out.append(("env", "APP_VERSION", R1.app_version, R2.app_version))
    for key in sorted(labels_old.keys() | labels_new.keys()):
        if labels_old.get(key) != labels_new.get(key):
            out.append(("labels", key, labels_old.get(key), labels_new.get(key)))
    for port in sorted(set(R1.ports) ^ set(R2.ports)):
        out.append(
            ("exposed_ports", port, "present" if port in R1.ports else None, "present" if port in R2.ports else None)
        )
    return out


def _check_release_diff(p: PlatformDiff, fixture_set: FixtureSet) -> None:
    fx1, fx2 = fixture_set.image("debian-multiarch:12"), fixture_set.image("debian-multiarch:12-r2")
    f1, f2 = platform_facts(fx1)[p.platform], platform_facts(fx2)[p.platform]
    # Packages: exactly what the release adds (R2_PACKAGES), at the pinned version; dpkg-query agrees.
    added = [(a.type, a.name, a.version) for a in p.packages_added]
    assert added == [("deb", n, fixture_set.versions[n]) for n in sorted(recipes.R2_PACKAGES)]
    v1, v2 = expected_versions(fx1, p.platform), expected_versions(fx2, p.platform)
    assert added == [(t, n, v2[(t, n)]) for t, n in sorted(v2.keys() - v1.keys())]
    assert p.packages_removed == [] and p.packages_changed == []
    # Config: exactly the recipe's changes.
    assert [(c.field, c.key, c.old, c.new) for c in p.config_changes] == _expected_config_changes()
    # Layers by diff_id, sizes from the manifests.
    assert [r.diff_id for r in p.layers_reused] == [d for d in f2.diff_ids if d in f1.diff_ids]
    assert [r.diff_id for r in p.layers_added] == [d for d in f2.diff_ids if d not in f1.diff_ids]
    assert [r.diff_id for r in p.layers_removed] == [d for d in f1.diff_ids if d not in f2.diff_ids]
    assert [r.diff_id for r in p.layers_reused] == [f1.diff_ids[0]]  # the shared debian-base layer
    assert (p.a.manifest_digest, p.b.manifest_digest) == (f1.digest, f2.digest)
    assert p.compressed_delta == f2.compressed - f1.compressed
    assert p.uncompressed_delta == f2.uncompressed - f1.uncompressed
    assert not p.identical
    # Both releases are built FROM the same debian-base:12.
    assert p.a.base_image is not None and p.b.base_image is not None
    assert p.a.base_image.digest == p.b.base_image.digest == fixture_set.image("debian-base:12").digest
    assert p.base_image_changed is False


@pytest.fixture(scope="module")
def releases(registry: Registry) -> DiffResult:
    with Session() as session:
        return diff_images(session, f"{registry.host}/debian-multiarch:12", f"{registry.host}/debian-multiarch:12-r2")


def test_release_diff_in_the_registry(releases: DiffResult, fixture_set: FixtureSet) -> None:
    assert [p.platform for p in releases.platforms] == PLATFORMS
    assert releases.only_in_a == [] and releases.only_in_b == []
    assert releases.a_digest == fixture_set.image("debian-multiarch:12").digest
    assert releases.b_digest == fixture_set.image("debian-multiarch:12-r2").digest
    for p in releases.platforms:
        _check_release_diff(p, fixture_set)


def test_secret_env_values_are_masked(releases: DiffResult) -> None:
    dumped = releases.model_dump_json()
    assert "s3cr3t" not in dumped  # API_TOKEN is unchanged, and would be masked if it changed


def test_cross_source_registry_tag_vs_oci_layout(registry: Registry, fixture_set: FixtureSet) -> None:
    layout = fixture_set.image("debian-multiarch:12-r2").layout
    with Session() as session:
        result = diff_images(
            session,
            f"{registry.host}/debian-multiarch:12",
            f"oci:{layout}:12-r2",
            platforms=[PlatformSpec.parse("linux/arm64")],
        )
    assert result.b_source.startswith("OCI layout")
    assert [p.platform for p in result.platforms] == ["linux/arm64/v8"]
    _check_release_diff(result.platforms[0], fixture_set)


def test_layers_both_images_share_are_scanned_once(registry: Registry, fixture_set: FixtureSet) -> None:
    """Even without the on-disk cache, B's layers that A has were scanned for A and are not fetched again."""
    facts = [platform_facts(fixture_set.image(ref)) for ref in ("debian-multiarch:12", "debian-multiarch:12-r2")]
    digests = [{d for f in fs.values() for d in f.layer_digests} for fs in facts]
    common = digests[0] & digests[1]
    assert len(common) == 2  # the amd64 and arm64 debian-base layers
    cache = RunCache(LayerCache(enabled=False))
    with Session() as session:
        ea = gather(session, f"{registry.host}/debian-multiarch:12", cache=cache)
        eb = gather(session, f"{registry.host}/debian-multiarch:12-r2", cache=cache)
    assert ea.analysis.cached == set()
    assert eb.analysis.cached == common


def test_docker_archive_vs_registry_platform_is_unchanged(registry: Registry, fixture_set: FixtureSet) -> None:
    """debian-amd64:12 saved by `docker save` is the amd64 image of debian-multiarch:12."""
    facts = platform_facts(fixture_set.image("debian-multiarch:12"))["linux/amd64"]
    with Session() as session:
        result = diff_images(
            session,
            f"docker-archive:{fixture_set.docker_archive}",
            f"{registry.host}/debian-multiarch:12",
            platforms=[PlatformSpec.parse("linux/amd64")],
        )
    (p,) = result.platforms
    assert p.packages_added == p.packages_removed == p.packages_changed == []
    assert p.config_changes == []
    assert [r.diff_id for r in p.layers_reused] == facts.diff_ids
    assert p.layers_added == p.layers_removed == []
    assert p.uncompressed_delta == 0
    assert p.identical and not result.has_changes


def test_the_same_content_in_another_encoding_has_no_changes(registry: Registry, fixture_set: FixtureSet) -> None:
    """A classic `docker save` tarball stores the layers uncompressed and has no provenance: another manifest,
    another compressed size, a base image only the registry side names; the same layers and config."""
    with Session() as session:
        result = diff_images(
            session,
            f"docker-archive:{fixture_set.legacy_docker_archive}",
            f"{registry.host}/debian-multiarch:12",
            platforms=[PlatformSpec.parse("linux/amd64")],
        )
    (p,) = result.platforms
    assert not p.identical and p.compressed_delta != 0 and p.uncompressed_delta == 0
    assert p.a.base_image is None and p.b.base_image is not None and p.base_image_changed is None
    assert not result.has_changes


def test_only_common_platforms_are_compared(registry: Registry, fixture_set: FixtureSet) -> None:
    with Session() as session:
        result = diff_images(session, f"{registry.host}/debian-multiarch:12", f"{registry.host}/debian-skew:1")
    assert [p.platform for p in result.platforms] == PLATFORMS
    # debian-skew:1 has no provenance and no base annotations: no claim about the base image.
    assert all(p.base_image_changed is None for p in result.platforms)
    arm = result.platforms[1]
    assert ("deb", recipes.ARM64_PACKAGES[0]) in [(r.type, r.name) for r in arm.packages_removed]
    assert result.has_changes


def test_cli_outputs_and_errors(registry: Registry, fixture_set: FixtureSet) -> None:
    a, b = f"{registry.host}/debian-multiarch:12", f"{registry.host}/debian-multiarch:12-r2"
    md = CliRunner().invoke(cli, ["diff", a, b, "--no-cache", "--platform", "linux/arm64", "-o", "markdown"])
    assert md.exit_code == 0, md.output
    lines = md.stdout.splitlines()
    name = recipes.R2_PACKAGES[0]
    assert f"| added | deb | `{name}` |  | `{fixture_set.versions[name]}` |" in lines
    assert f"| env | `APP_VERSION` | `{R1.app_version}` | `{R2.app_version}` |" in lines
    assert "#### linux/arm64/v8" in lines and "#### linux/amd64" not in lines
    js = CliRunner().invoke(cli, ["diff", a, b, "--no-cache", "-o", "json"])
    assert js.exit_code == 0, js.output
    assert [p["platform"] for p in json.loads(js.stdout)["platforms"]] == PLATFORMS
    table = CliRunner().invoke(cli, ["diff", a, b, "--no-cache"])
    assert table.exit_code == 0, table.output
    assert f"added   deb   {name}" in table.stdout
    missing = CliRunner().invoke(cli, ["diff", a, b, "--platform", "linux/s390x"])
    assert missing.exit_code == 2
    assert "platform linux/s390x is not in this index" in missing.stderr


def test_text_from_the_image_is_printed_not_read_as_markup(releases: DiffResult) -> None:
    """Package names and versions are the image's text: rich must print "[/x]", not parse it."""
    from rich.console import Console

    from provenant.compare.table import render_diff

    hostile = "lib[bold]evil[/bold][/oops]"
    p = releases.platforms[0]
    added = p.packages_added[0].model_copy(update={"name": hostile, "version": "1.0[/v]"})
    result = releases.model_copy(update={"platforms": [p.model_copy(update={"packages_added": [added]})]})
    con = Console(record=True, width=400)
    render_diff(result, con)
    text = con.export_text()
    assert hostile in text and "1.0[/v]" in text


def test_exit_code(registry: Registry, fixture_set: FixtureSet) -> None:
    """--exit-code: 1 when the images differ (the document still printed in every format), 0 when not, 2 errors."""
    a, b = f"{registry.host}/debian-multiarch:12", f"{registry.host}/debian-multiarch:12-r2"
    name = recipes.R2_PACKAGES[0]
    printed = {"table": f"added   deb   {name}", "json": '"packages_added"', "markdown": f"| added | deb | `{name}` |"}
    for output, text in printed.items():
        res = CliRunner().invoke(cli, ["diff", a, b, "--no-cache", "--exit-code", "-o", output])
        assert res.exit_code == 1, res.output
        assert text in res.stdout and res.stderr == ""
    plain = CliRunner().invoke(cli, ["diff", a, b, "--no-cache"])
    assert plain.exit_code == 0, plain.output
    same = CliRunner().invoke(cli, ["diff", a, a, "--no-cache", "--exit-code"])
    assert same.exit_code == 0, same.output
    assert same.stdout.count("identical manifests") == len(PLATFORMS)
    # Another manifest of the same content (a classic `docker save` tarball) is no difference.
    legacy = f"docker-archive:{fixture_set.legacy_docker_archive}"
    recoded = CliRunner().invoke(cli, ["diff", legacy, a, "--no-cache", "--exit-code", "--platform", "linux/amd64"])
    assert recoded.exit_code == 0, recoded.output
    assert "identical manifests" not in recoded.stdout
    missing = CliRunner().invoke(cli, ["diff", a, b, "--exit-code", "--platform", "linux/s390x"])
    assert missing.exit_code == 2
