"""``inspect`` and ``tags`` against the real CNCF distribution registry."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from fixtures import FixtureSet, Registry
from fixtures.registry import inspect_raw
from provenant.cli.main import cli
from provenant.inspect import inspect
from provenant.oci.platform import PlatformSpec
from provenant.session import Session

pytestmark = pytest.mark.integration


def _expected_sizes(ref: str) -> dict[str, int]:
    """Per-platform config+layers sizes, read with skopeo (independently of provenant)."""
    index = json.loads(inspect_raw(ref))
    base = ref.rsplit(":", 1)[0]
    sizes = {}
    for d in index["manifests"]:
        plat = d["platform"]
        if plat["architecture"] == "unknown":
            continue
        m = json.loads(inspect_raw(f"{base}@{d['digest']}"))
        sizes[d["digest"]] = m["config"]["size"] + sum(x["size"] for x in m["layers"])
    return sizes


def test_multiarch_platforms_sizes_and_request_count(registry: Registry, fixture_set: FixtureSet) -> None:
    fx = fixture_set.image("debian-multiarch:12")
    ref = f"{registry.host}/debian-multiarch:12"
    with Session() as session:
        result = inspect(session, ref)
        requests = session.client.request_count
    assert result.digest == fx.digest
    assert result.is_index
    assert [p.platform for p in result.platforms] == ["linux/amd64", "linux/arm64/v8"]
    assert {p.digest: p.compressed_size for p in result.platforms} == _expected_sizes(ref)
    assert [p.layer_count for p in result.platforms] == [2, 3]
    # one index + one manifest and one config per platform; attestation manifests are not fetched
    assert requests == 1 + 2 * len(result.platforms)
    assert result.registry is not None and result.registry.request_count == requests
    assert {(a.refers_to, a.refers_to_platform) for a in result.attestations} == {
        (fx.platforms["linux/amd64"], "linux/amd64"),
        (fx.platforms["linux/arm64/v8"], "linux/arm64/v8"),
    }
    amd = result.images[0]
    assert amd.config.env["API_TOKEN"] == "****"
    assert "s3cr3t-value" not in result.model_dump_json()
    non_empty = [h for h in amd.history if not h.empty_layer]
    assert [h.layer_digest for h in non_empty] == [
        json.loads(inspect_raw(f"{ref.rsplit(':', 1)[0]}@{amd.digest}"))["layers"][i]["digest"] for i in range(2)
    ]
    assert all(h.size == 0 for h in amd.history if h.empty_layer)


def test_platform_selection(registry: Registry, fixture_set: FixtureSet) -> None:
    fx = fixture_set.image("debian-multiarch:12")
    with Session() as session:
        result = inspect(session, f"{registry.host}/debian-multiarch:12", [PlatformSpec.parse("linux/aarch64")])
        assert session.client.request_count == 3
    assert [i.digest for i in result.images] == [fx.platforms["linux/arm64/v8"]]


def test_pinned_digest_and_single_manifest(registry: Registry, fixture_set: FixtureSet) -> None:
    fx = fixture_set.image("debian-multiarch:12")
    with Session() as session:
        pinned = inspect(session, f"{registry.host}/debian-multiarch:12@{fx.digest}")
        single = inspect(session, f"{registry.host}/debian-amd64:12")
    assert pinned.digest == fx.digest
    assert not single.is_index
    assert single.digest == fx.platforms["linux/amd64"]
    assert single.platforms[0].platform == "linux/amd64"


def test_cli_text_json_raw(registry: Registry, fixture_set: FixtureSet) -> None:
    fx = fixture_set.image("debian-multiarch:12")
    ref = f"{registry.host}/debian-multiarch:12"
    runner = CliRunner()
    text = runner.invoke(cli, ["inspect", ref])
    assert text.exit_code == 0, text.output
    assert "linux/amd64" in text.stdout and "linux/arm64/v8" in text.stdout
    assert fx.platforms["linux/arm64/v8"] in text.stdout
    assert "Attestation manifests" in text.stdout
    as_json = runner.invoke(cli, ["inspect", "-o", "json", ref])
    assert json.loads(as_json.stdout)["digest"] == fx.digest
    raw = runner.invoke(cli, ["inspect", "--raw", ref])
    assert raw.stdout_bytes == inspect_raw(ref)
    raw_arm = runner.invoke(cli, ["inspect", "--raw", "--platform", "linux/arm64", ref])
    assert raw_arm.stdout_bytes == inspect_raw(f"{registry.host}/debian-multiarch@{fx.platforms['linux/arm64/v8']}")


def test_tags(registry: Registry) -> None:
    out = CliRunner().invoke(cli, ["tags", "-o", "json", f"{registry.host}/debian-multiarch"])
    assert out.exit_code == 0, out.output
    assert sorted(json.loads(out.stdout)["tags"]) == ["12", "12-r2"]


@pytest.mark.parametrize(
    ("ref_suffix", "fragment"),
    [
        ("debian-multiarch:nope", "MANIFEST_UNKNOWN"),
        ("no-such-repo:12", "no-such-repo:12"),
        ("debian-multiarch@sha256:" + "0" * 64, "MANIFEST_UNKNOWN"),
    ],
)
def test_errors_are_one_line_exit_2(registry: Registry, ref_suffix: str, fragment: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "provenant", "inspect", f"{registry.host}/{ref_suffix}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert fragment in lines[0]
    assert "Traceback" not in proc.stderr


def test_unreachable_registry_is_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "provenant", "inspect", "127.0.0.1:9/img:1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "127.0.0.1:9" in proc.stderr
