"""``provenant policy`` against the real registry holding the fixture images.

Every check is shown passing and failing on real images, with the evidence asserted against values
taken from the fixture definitions (digests, builder, source, platforms, sizes read from the OCI
layouts), not from provenant's output. Signed provenance, pinned provenance and a provenance
statement about the wrong digest are pushed in the setup, each into its own repository.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from fixtures import FixtureSet, Registry
from fixtures.recipes import BUILDER_ID, SOURCE_REPO
from provenant.attest import constants as c
from provenant.attest.keys import load_private_key, load_public_key
from provenant.attest.push import attest_image
from provenant.cache import LayerCache
from provenant.cli.main import cli
from provenant.evidence import Evidence, gather
from provenant.oci.platform import PlatformSpec
from provenant.policy.engine import check_image, evaluate
from provenant.policy.model import PolicyReport
from provenant.policy.schema import ImagePolicy, policy_from_data
from provenant.session import Session
from provenant.sources.registry import RegistryOptions
from tests.attestdata import artifacts, crypto

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
PASSWORD = b"policy-pass"
TODAY = dt.date(2026, 6, 1)
AMD, ARM = "linux/amd64", "linux/arm64/v8"


@dataclass
class World:
    host: str
    fx: FixtureSet
    pub_a: Path
    pub_b: Path
    fp_a: str
    base_digest: str  # debian-base:12 index

    def ref(self, repo_tag: str) -> str:
        return f"{self.host}/{repo_tag}"


def _slsa_v1(base_ref: str, pinned: bool) -> dict[str, Any]:
    """A SLSA v1 predicate like a GitHub Actions builder writes (pinned or tag base)."""
    name, _, rest = base_ref.partition("@")
    version = rest if pinned else "12"
    digest = rest.removeprefix("sha256:")
    return {
        "buildDefinition": {
            "buildType": "https://actions.github.io/buildtypes/workflow/v1",
            "externalParameters": {
                "workflow": {"ref": "refs/heads/main", "repository": SOURCE_REPO, "path": ".github/workflows/b.yml"}
            },
            "resolvedDependencies": [{"uri": f"pkg:docker/{name}@{version}", "digest": {"sha256": digest}}],
        },
        "runDetails": {"builder": {"id": BUILDER_ID}},
    }


@pytest.fixture(scope="module")
def world(registry: Registry, fixture_set: FixtureSet, tmp_path_factory: pytest.TempPathFactory) -> World:
    tmp = tmp_path_factory.mktemp("policy-keys")
    a, b = crypto.new_key(), crypto.new_key()
    key_a, pub_a = crypto.write_keys(a, tmp, "a", PASSWORD)
    _, pub_b = crypto.write_keys(b, tmp, "b", PASSWORD)
    host = registry.host
    base_digest = fixture_set.image("debian-base:12").digest
    amd = fixture_set.image("debian-multiarch:12").platforms[AMD]
    arm = fixture_set.image("debian-multiarch:12").platforms[ARM]
    # signed: debian-multiarch:12 plus SLSA v1 provenance per platform, signed with key A (cosign .att tags)
    artifacts.copy_image(host, "debian-multiarch", "12", "policy/signed", "12")
    # pinned: the single-platform image with signed provenance whose base is pinned by digest
    artifacts.copy_image(host, "debian-amd64", "12", "policy/pinned", "12")
    # mismatch: the amd64 image with a provenance statement about the arm64 manifest
    artifacts.copy_image(host, "debian-amd64", "12", "policy/mismatch", "12")
    # latest: debian-base under the tag latest
    artifacts.copy_image(host, "debian-base", "12", "policy/base", "latest")
    priv = load_private_key(key_a, PASSWORD)
    with Session() as s:
        base_ref = f"debian-base@{base_digest}"
        plats = [PlatformSpec.parse(AMD), PlatformSpec.parse(ARM)]
        attest_image(s, f"{host}/policy/signed:12", _slsa_v1(base_ref, pinned=False), c.SLSA_V1, priv, platforms=plats)
        attest_image(s, f"{host}/policy/pinned:12", _slsa_v1(base_ref, pinned=True), c.SLSA_V1, priv)
    stmt = artifacts.statement(arm, c.SLSA_V1, _slsa_v1(f"debian-base@{base_digest}", pinned=True))
    artifacts.write_attestation(artifacts.HttpStore(host, "policy/mismatch"), amd, stmt, a, c.SLSA_V1)
    return World(host, fixture_set, pub_a, pub_b, crypto.fingerprint(a), base_digest)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("policy-cache")


class Evidences:
    """Evidence gathered once per (image, keys), reused by many policies; the session stays open."""

    def __init__(self, world: World, cache: Path) -> None:
        self.world = world
        self.cache = LayerCache(cache)
        self.session = Session()
        self._seen: dict[tuple[str, str], Evidence] = {}

    def __call__(self, ref: str, key: Path | None = None) -> Evidence:
        k = (ref, str(key))
        if k not in self._seen:
            keys = [load_public_key(key)] if key else []
            self._seen[k] = gather(self.session, self.world.ref(ref), cache=self.cache, keys=keys)
        return self._seen[k]


@pytest.fixture(scope="module")
def ev(world: World, cache_dir: Path) -> Iterator[Evidences]:
    e = Evidences(world, cache_dir)
    yield e
    e.session.close()


def policy(checks: dict[str, Any], **top: Any) -> ImagePolicy:
    return policy_from_data({"apiVersion": "provenant/v1", "kind": "ImagePolicy", "checks": checks, **top}, "test")


def run(e: Evidence, checks: dict[str, Any], today: dt.date = TODAY, **top: Any) -> PolicyReport:
    return evaluate(e, policy(checks, **top), today=today)


# -- pinning -------------------------------------------------------------------------------------------


def test_pinning_digest(world: World, ev: Evidences) -> None:
    fx = world.fx.image("debian-multiarch:12")
    p = {"pinning": {"forbiddenTags": [], "requireBaseDigest": False}}
    by_tag = run(ev("debian-multiarch:12"), p).finding("pinning.digest")
    assert by_tag.status == "fail" and by_tag.effect == "deny"
    assert by_tag.evidence == {"reference": world.ref("debian-multiarch:12"), "resolved_digest": fx.digest}
    assert by_tag.fix == f"use {world.ref('debian-multiarch')}@{fx.digest}"
    by_digest = run(ev(f"debian-multiarch@{fx.digest}"), p).finding("pinning.digest")
    assert by_digest.status == "pass"
    assert by_digest.evidence == {"reference": world.ref(f"debian-multiarch@{fx.digest}"), "digest": fx.digest}


def test_pinning_forbidden_tags(world: World, ev: Evidences) -> None:
    p = {"pinning": {"requireDigest": False, "requireBaseDigest": False}}
    implied = run(ev("policy/base"), p).finding("pinning.forbidden-tags")
    assert implied.status == "fail"
    assert implied.message.endswith("uses the forbidden tag 'latest' (no tag given means latest)")
    assert implied.evidence == {"reference": world.ref("policy/base:latest"), "tag": "latest", "forbidden": ["latest"]}
    ok = run(ev("debian-multiarch:12"), p).finding("pinning.forbidden-tags")
    assert ok.status == "pass" and ok.evidence["tag"] == "12"
    p12 = {"pinning": {"requireDigest": False, "requireBaseDigest": False, "forbiddenTags": ["12"]}}
    assert run(ev("debian-multiarch:12"), p12).finding("pinning.forbidden-tags").status == "fail"


def test_pinning_base_digest_from_provenance(world: World, ev: Evidences) -> None:
    p = {"pinning": {"requireDigest": False, "forbiddenTags": []}}
    by_tag = run(ev("debian-multiarch:12"), p).finding("pinning.base-digest")
    assert by_tag.status == "fail"
    assert by_tag.evidence == {
        "source": "provenance",
        "base": "debian-base:12",
        "resolved_digest": world.base_digest,
        "platforms": [AMD, ARM],
    }
    assert by_tag.fix == f"use docker.io/library/debian-base@{world.base_digest}"
    pinned = run(ev("policy/pinned:12"), p).finding("pinning.base-digest")
    assert pinned.status == "pass"
    assert pinned.evidence == {
        "source": "provenance",
        "base": f"debian-base@{world.base_digest}",
        "resolved_digest": world.base_digest,
        "platforms": [AMD],
    }


def test_pinning_base_digest_from_annotations_and_no_data(world: World, ev: Evidences) -> None:
    p = {"pinning": {"requireDigest": False, "forbiddenTags": []}}
    ann = run(ev("debian-amd64:12"), p).finding("pinning.base-digest")  # no provenance: the manifest annotations
    assert ann.status == "fail"
    assert ann.evidence["source"] == "annotations"
    assert ann.evidence["base"] == "docker.io/library/debian-base:12"
    assert ann.evidence["resolved_digest"] == world.base_digest
    nothing = run(ev("debian-base:12"), p).finding("pinning.base-digest")
    assert nothing.status == "no-data" and nothing.effect == "deny"


DOCKERFILE = """\
ARG BASE=debian-base
ARG REG=registry:5000
FROM --platform=$BUILDPLATFORM golang:1.22@sha256:{d} AS build
FROM $REG/tools AS tools
FROM build AS test
FROM ${{BASE}}:12
FROM scratch
"""


def test_dockerfile_pinned_and_unpinned_stages(world: World, ev: Evidences, tmp_path: Path) -> None:
    from provenant.policy.dockerfile import parse_dockerfile

    digest = "sha256:" + "1" * 64
    df = parse_dockerfile(DOCKERFILE.format(d="1" * 64), "Dockerfile", {"BASE": "debian-base"})
    e = ev("debian-multiarch:12")
    e_df = Evidence(**{**e.__dict__, "dockerfile": df})
    rep = run(e_df, {"pinning": {"requireDigest": False}})
    base = [f for f in rep.findings() if f.check == "pinning.base-digest"]
    assert [(f.location.line if f.location else None, f.status) for f in base] == [
        (3, "pass"),
        (4, "fail"),
        (6, "fail"),
    ]
    assert base[0].evidence == {"source": "dockerfile", "base": f"golang:1.22@{digest}", "line": 3}
    assert "registry:5000/tools:latest" in base[1].message  # the port is not a tag
    tags = [f for f in rep.findings() if f.check == "pinning.forbidden-tags" and f.location is not None]
    assert [(f.location.line if f.location else 0, f.evidence["tag"]) for f in tags] == [(4, "latest")]
    assert tags[0].message.endswith("(no tag means latest)")


def test_dockerfile_through_the_cli(world: World, tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE.format(d="2" * 64))
    pol = _policy_file(tmp_path, {"pinning": {"requireDigest": False}})
    res = _cli(
        world.ref("debian-multiarch:12"), pol, cache_dir, "--dockerfile", str(tmp_path / "Dockerfile"),
        "--build-arg", "BASE=ghcr.io/acme/base", "--format", "github",
    )  # fmt: skip
    assert res.exit_code == 1, res.output
    lines = res.output.splitlines()
    assert any(
        ln.startswith(f"::error file={tmp_path / 'Dockerfile'},line=6,title=pinning.base-digest (image)::")
        and "ghcr.io/acme/base:12" in ln
        for ln in lines
    ), res.output


def test_junit_names_are_unique_with_several_base_images(world: World, tmp_path: Path, cache_dir: Path) -> None:
    """Three FROM bases: one pinning.base-digest finding each on ``image``; each JUnit case has its own name."""
    (tmp_path / "Dockerfile").write_text(DOCKERFILE.format(d="4" * 64))
    pol = _policy_file(tmp_path, {"pinning": {"requireDigest": False}, "user": {}})
    res = _cli(
        world.ref("debian-multiarch:12"), pol, cache_dir, "--dockerfile", str(tmp_path / "Dockerfile"),
        "--format", "junit",
    )  # fmt: skip
    assert res.exit_code == 1, res.output
    cases = list(ET.fromstring(res.stdout).iter("testcase"))
    pairs = [(tc.get("classname"), tc.get("name")) for tc in cases]
    assert len(set(pairs)) == len(pairs), Counter(pairs).most_common(2)
    assert sorted(name for cls, name in pairs if cls == "image") == [
        "pinning.base-digest[dockerfile:3]",
        "pinning.base-digest[dockerfile:4]",
        "pinning.base-digest[dockerfile:6]",
        "pinning.forbidden-tags",  # the reference itself (no key)
        "pinning.forbidden-tags[dockerfile:4]",
    ]
    assert sorted(pairs[-2:]) == [(AMD, "user.non-root"), (ARM, "user.non-root")]  # a lone finding: the bare id
    located = {tc.get("name"): tc.get("line") for tc in cases if tc.get("file")}
    assert located["pinning.base-digest[dockerfile:6]"] == "6"


# -- base image -----------------------------------------------------------------------------------------


def test_base_image_from_provenance(world: World, ev: Evidences) -> None:
    good = run(ev("debian-multiarch:12"), {"baseImage": {"allowed": ["**/debian-base"], "registries": ["docker.io"]}})
    for plat in (AMD, ARM):
        f = good.finding("base-image.allowed", plat)
        assert f.status == "pass"
        assert f.evidence == {
            "source": "provenance",
            "base": "docker.io/library/debian-base:12",
            "digest": world.base_digest,
            "registry": "docker.io",
            "matched": "**/debian-base",
        }
    bad = run(ev("debian-multiarch:12"), {"baseImage": {"allowed": ["ghcr.io/acme/**"], "registries": ["ghcr.io"]}})
    f = bad.finding("base-image.allowed", AMD)
    assert f.status == "fail"
    assert f.message == (
        "base image docker.io/library/debian-base:12 (from provenance) is not allowed: "
        "registry docker.io is not in ghcr.io; it matches none of ghcr.io/acme/**"
    )


def test_base_image_from_annotations(world: World, ev: Evidences) -> None:
    f = run(ev("debian-amd64:12"), {"baseImage": {"allowed": ["debian-base"]}}).finding("base-image.allowed", AMD)
    assert f.status == "pass"
    assert f.evidence["source"] == "annotations"
    assert f.evidence["digest"] == world.base_digest


def test_base_image_from_layer_prefix(world: World, ev: Evidences) -> None:
    trusted = world.ref("debian-base:12")
    base_amd = world.fx.image("debian-base:12").platforms[AMD]
    e = ev("sbom-python:1")  # base layer of debian-base, no provenance, no base annotations
    found = run(e, {"baseImage": {"trusted": [trusted], "allowed": ["**/debian-base"]}}).finding(
        "base-image.allowed", AMD
    )
    assert found.status == "pass"
    assert found.evidence == {"source": "layers", "base": trusted, "digest": base_amd, "matched": "**/debian-base"}
    unknown = run(e, {"baseImage": {"allowed": ["**/debian-base"]}}).finding("base-image.allowed", AMD)
    assert unknown.status == "no-data"
    other = run(e, {"baseImage": {"trusted": [world.ref("sbom-go:1")]}}).finding("base-image.allowed", AMD)
    assert other.status == "no-data"
    assert "no trusted base image's layers are a prefix" in other.message


# -- provenance -------------------------------------------------------------------------------------------


def test_provenance_present(world: World, ev: Evidences) -> None:
    rep = run(ev("debian-multiarch:12"), {"provenance": {}})
    assert rep.finding("provenance.present", AMD).evidence == {
        "statements": ["https://slsa.dev/provenance/v0.2 (buildkit-index, unsigned)"]
    }
    assert rep.finding("provenance.present", ARM).evidence == {
        "statements": ["https://slsa.dev/provenance/v1 (buildkit-index, unsigned)"]
    }
    only_v1 = run(ev("debian-multiarch:12"), {"provenance": {"predicateTypes": [c.SLSA_V1]}})
    assert only_v1.finding("provenance.present", AMD).status == "fail"
    assert only_v1.finding("provenance.present", AMD).evidence["found"] == [
        "https://slsa.dev/provenance/v0.2 (buildkit-index)"
    ]
    none = run(ev("debian-base:12"), {"provenance": {}})
    assert none.finding("provenance.present", AMD).status == "fail"
    assert none.finding("provenance.present", AMD).evidence == {"accepted": [c.SLSA_V02, c.SLSA_V1], "found": []}


def test_provenance_attached_to_the_index_is_named(world: World, ev: Evidences, tmp_path: Path) -> None:
    """Provenance about the index digest is found, and the finding says why it does not count per platform."""
    key, _ = crypto.write_keys(crypto.new_key(), tmp_path, "idx", PASSWORD)
    artifacts.copy_image(world.host, "debian-base", "12", "policy/indexprov", "12")
    with Session() as s:
        attest_image(
            s, world.ref("policy/indexprov:12"), _slsa_v1("debian-base@" + world.base_digest, pinned=True), c.SLSA_V1,
            load_private_key(key, PASSWORD),
        )  # fmt: skip
    e = ev("policy/indexprov:12")
    f = run(e, {"provenance": {}}).finding("provenance.present", ARM)
    assert f.status == "fail"
    assert f.evidence["on_index"] == [f"{c.SLSA_V1} (cosign-tag)"]
    assert f.message == (
        "no SLSA provenance is attached to this platform manifest; 1 statement(s) are attached to the index "
        f"{world.base_digest} instead, not to this platform"
    )


def test_provenance_signed(world: World, ev: Evidences, tmp_path: Path, cache_dir: Path) -> None:
    p = {"provenance": {"requireSigned": True}}
    unsigned = run(ev("debian-multiarch:12"), p).finding("provenance.signed", AMD)
    assert unsigned.status == "fail"
    assert unsigned.message == "provenance is present but unsigned"
    signed = run(ev("policy/signed:12", world.pub_a), p)
    for plat in (AMD, ARM):
        f = signed.finding("provenance.signed", plat)
        assert f.status == "pass"
        assert f.evidence["signer"] == world.fp_a
    other_key = run(ev("policy/signed:12", world.pub_b), p).finding("provenance.signed", AMD)
    assert other_key.status == "fail"
    assert other_key.message == "no provenance signature verifies with the given keys"
    keys_in_policy = tmp_path / "policy-with-key.yaml"
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "a.pub").write_bytes(world.pub_a.read_bytes())
    keys_in_policy.write_text(
        yaml.safe_dump(
            {"apiVersion": "provenant/v1", "kind": "ImagePolicy",
             "checks": {"provenance": {"requireSigned": True, "keys": ["keys/a.pub"]}}}
        )
    )  # fmt: skip
    res = _cli(world.ref("policy/signed:12"), keys_in_policy, cache_dir, "--format", "json")
    by_policy_key = json.loads(res.stdout)
    assert {f["status"] for r in by_policy_key["results"] for f in r["findings"]} == {"pass"}
    no_key = run(ev("policy/signed:12"), p).finding("provenance.signed", AMD)
    assert no_key.status == "no-data"
    assert no_key.message == "provenance is signed, but no public key was given to verify it"
    nothing = run(ev("debian-base:12"), p).finding("provenance.signed", AMD)
    assert nothing.status == "no-data"


def test_provenance_builder_and_source(world: World, ev: Evidences) -> None:
    e = ev("debian-multiarch:12")
    ok = run(e, {"provenance": {"builders": [BUILDER_ID.rsplit("/", 3)[0] + "/*"], "sources": [SOURCE_REPO + ".git"]}})
    for plat in (AMD, ARM):
        assert ok.finding("provenance.builder", plat).status == "pass"
        assert ok.finding("provenance.builder", plat).evidence["builder_ids"] == [BUILDER_ID]
        src = ok.finding("provenance.source", plat)
        assert src.status == "pass"
        assert src.evidence["repositories"] == [SOURCE_REPO]
    bad = run(e, {"provenance": {"builders": ["https://ci.example.com/*"], "sources": ["https://github.com/acme/*"]}})
    b = bad.finding("provenance.builder", ARM)
    assert b.status == "fail" and b.message == f"builder {BUILDER_ID} is not allowed"
    s = bad.finding("provenance.source", ARM)
    assert s.status == "fail" and s.message == f"source repository {SOURCE_REPO} is not allowed"
    absent = run(ev("debian-base:12"), {"provenance": {"builders": ["*"]}}).finding("provenance.builder", AMD)
    assert absent.status == "no-data"


def test_provenance_subject(world: World, ev: Evidences) -> None:
    fx = world.fx.image("debian-multiarch:12")
    ok = run(ev("debian-multiarch:12"), {"provenance": {}})
    assert ok.finding("provenance.subject", ARM).evidence == {"expected": fx.platforms[ARM], "statements": 1}
    bad = run(ev("policy/mismatch:12"), {"provenance": {}}).finding("provenance.subject", AMD)
    assert bad.status == "fail"
    assert bad.evidence["expected"] == fx.platforms[AMD]
    assert bad.evidence["found"] == [fx.platforms[ARM]]


# -- platforms ----------------------------------------------------------------------------------------------


def test_platforms_required(world: World, ev: Evidences) -> None:
    e = ev("debian-multiarch:12")
    ok = run(e, {"platforms": {"required": ["linux/amd64", "linux/arm64"]}}).finding("platforms.required")
    assert ok.status == "pass"
    # the index holds two attestation manifests (unknown/unknown); they are not platforms
    assert ok.evidence["present"] == [AMD, ARM]
    assert len(world.fx.image("debian-multiarch:12").attestations) == 2
    missing = run(e, {"platforms": {"required": [AMD, ARM, "linux/s390x"]}}).finding("platforms.required")
    assert missing.status == "fail"
    assert missing.evidence == {
        "required": [AMD, ARM, "linux/s390x"],
        "present": [AMD, ARM],
        "missing": ["linux/s390x"],
    }
    assert missing.message == "the index lacks linux/s390x"
    single = run(ev("debian-amd64:12"), {"platforms": {"required": [AMD, ARM]}}).finding("platforms.required")
    assert single.status == "fail" and single.evidence["missing"] == [ARM]


def test_platforms_provenance(world: World, ev: Evidences) -> None:
    p = {"platforms": {"required": [AMD, ARM], "requireProvenance": True}}
    ok = run(ev("debian-multiarch:12"), p).finding("platforms.provenance")
    assert ok.status == "pass" and ok.evidence == {"with_provenance": [AMD, ARM]}
    bad = run(ev("debian-base:12"), p).finding("platforms.provenance")
    assert bad.status == "fail" and bad.evidence == {"with_provenance": [], "without_provenance": [AMD, ARM]}
    # --platform left amd64 out: its provenance was not read, so the check cannot claim coverage
    arm_only = gather(ev.session, world.ref("debian-multiarch:12"), platforms=[PlatformSpec.parse(ARM)], cache=ev.cache)
    f = run(arm_only, p).finding("platforms.provenance")
    assert (f.status, f.effect) == ("no-data", "deny")
    assert f.evidence == {"with_provenance": [ARM], "not_checked": [AMD]}
    assert f.message == f"provenance of {AMD} was not checked: --platform left it out"


# -- size, SBOM, licenses -----------------------------------------------------------------------------------


def _sizes(layout: Path, manifest_digest: str) -> tuple[int, int]:
    """(compressed, uncompressed) of one platform manifest, read straight from the OCI layout."""

    def blob(d: str) -> bytes:
        return (layout / "blobs" / "sha256" / d.removeprefix("sha256:")).read_bytes()

    m = json.loads(blob(manifest_digest))
    compressed = m["config"]["size"] + sum(layer["size"] for layer in m["layers"])
    uncompressed = 0
    for layer in m["layers"]:
        data = blob(layer["digest"])
        uncompressed += len(gzip.decompress(data)) if layer["mediaType"].endswith("gzip") else len(data)
    return compressed, uncompressed


def test_size_budget(world: World, ev: Evidences) -> None:
    fx = world.fx.image("debian-multiarch:12")
    comp, uncomp = _sizes(fx.layout, fx.platforms[ARM])
    e = ev("debian-multiarch:12")
    ok = run(e, {"size": {"maxCompressed": comp, "maxUncompressed": uncomp}}).finding("size.budget", ARM)
    assert ok.status == "pass"
    assert ok.evidence == {
        "compressed": comp,
        "uncompressed": uncomp,
        "max_compressed": comp,
        "max_uncompressed": uncomp,
    }
    over = run(e, {"size": {"maxCompressed": comp - 1}}).finding("size.budget", ARM)
    assert over.status == "fail"
    assert over.message.startswith("over budget: compressed ") and f"({comp} bytes) > " in over.message


def test_sbom_attested(world: World, ev: Evidences) -> None:
    ok = run(ev("debian-multiarch:12"), {"sbom": {}}).finding("sbom.attested", ARM)
    assert ok.status == "pass"
    assert ok.evidence == {"sboms": ["https://spdx.dev/Document (buildkit-index, unsigned)"]}
    bad = run(ev("debian-base:12"), {"sbom": {}}).finding("sbom.attested", AMD)
    assert bad.status == "fail" and bad.evidence == {"attachments": 0}


def test_licenses_denied(world: World, ev: Evidences) -> None:
    expected = world.fx.image("sbom-python:1").expected_packages()
    certifi = next(p for p in expected if p["name"] == "certifi")
    e = ev("sbom-python:1")
    bad = run(e, {"licenses": {"denied": ["MPL-2.0", "AGPL-3.0-only"]}}).finding("licenses.denied", AMD)
    assert bad.status == "fail"
    # certifi is the one package of the image under the MPL (its wheel metadata says so)
    assert bad.evidence["packages"] == {"MPL-2.0": [f"certifi@{certifi['version']} (pypi)"]}
    ok = run(e, {"licenses": {"denied": ["AGPL-3.0-only"]}}).finding("licenses.denied", AMD)
    assert ok.status == "pass" and ok.evidence["packages"] == len(expected)


def test_licenses_no_data_when_no_package_declares_one(world: World, ev: Evidences) -> None:
    """The same image with every declared license removed: nothing to judge, so no data, not a pass."""
    import dataclasses

    e = ev("sbom-python:1")
    (plat,) = e.platforms
    sbom = plat.analysis.sbom
    stripped = sbom.model_copy(
        update={"packages": [p.model_copy(update={"licenses": [], "license_expression": None}) for p in sbom.packages]}
    )
    bare = dataclasses.replace(plat, analysis=dataclasses.replace(plat.analysis, sbom=stripped))
    f = run(dataclasses.replace(e, platforms=[bare]), {"licenses": {"denied": ["MPL-2.0"]}}).finding(
        "licenses.denied", AMD
    )
    n = len(world.fx.image("sbom-python:1").expected_packages())
    assert (f.status, f.effect) == ("no-data", "deny")
    assert f.message == f"none of the {n} packages declares a license"
    assert f.evidence == {"packages": n, "without_license": n, "denied": ["MPL-2.0"]}


# -- engine: actions, missing data, waivers -----------------------------------------------------------------


def test_no_data_under_both_settings(world: World, ev: Evidences) -> None:
    e = ev("debian-base:12")
    deny = run(e, {"provenance": {"requireSigned": True}}, rules={"provenance.present": {"action": "off"}})
    f = deny.finding("provenance.signed", AMD)
    assert (f.status, f.effect) == ("no-data", "deny")
    assert deny.finding("provenance.present", AMD).status == "off"
    assert (deny.verdict, deny.exit_code) == ("deny", 1)
    warn = run(
        e,
        {"provenance": {"requireSigned": True, "onMissingData": "warn"}},
        rules={"provenance.present": {"action": "off"}},
    )
    f = warn.finding("provenance.signed", AMD)
    assert (f.status, f.effect) == ("no-data", "warn")
    assert (warn.verdict, warn.exit_code) == ("warn", 0)
    strict = evaluate(
        e,
        policy({"provenance": {"requireSigned": True}}, defaults={"onMissingData": "warn"},
               rules={"provenance.present": {"action": "off"}}),
        today=TODAY,
        fail_on_warn=True,
    )  # fmt: skip
    assert (strict.verdict, strict.exit_code) == ("warn", 1)


def test_action_warn_and_rule_precedence(world: World, ev: Evidences) -> None:
    e = ev("debian-base:12")
    checks = {"sbom": {"action": "warn"}, "provenance": {"action": "deny", "requireSubjectMatch": False}}
    rep = run(e, checks, rules={"provenance.present": {"action": "warn"}})
    assert rep.finding("sbom.attested", AMD).status == "warn"
    assert rep.finding("provenance.present", AMD).status == "warn"
    assert (rep.verdict, rep.exit_code) == ("warn", 0)


def test_waiver_before_and_after_expiry(world: World, ev: Evidences) -> None:
    e = ev("debian-multiarch:12")
    waiver = {"check": "pinning.digest", "images": "**/debian-multiarch", "reason": "INC-42", "expires": "2026-06-30"}
    p = {"pinning": {"forbiddenTags": [], "requireBaseDigest": False}}
    before = run(e, p, today=dt.date(2026, 6, 30), waivers=[waiver])
    f = before.finding("pinning.digest")
    assert (f.status, f.effect) == ("waived", "none")
    assert f.waiver is not None and f.waiver.reason == "INC-42" and not f.waiver.expired
    assert (before.verdict, before.exit_code, before.warnings) == ("pass", 0, [])
    after = run(e, p, today=dt.date(2026, 7, 1), waivers=[waiver])
    f = after.finding("pinning.digest")
    assert (f.status, f.effect) == ("fail", "deny")
    assert f.waiver is not None and f.waiver.expired
    assert after.warnings == [
        "pinning.digest on image: the waiver expired on 2026-06-30 (INC-42); the finding is active again"
    ]
    assert after.exit_code == 1
    other_image = run(ev("debian-base:12"), p, today=dt.date(2026, 6, 1), waivers=[waiver])
    assert other_image.finding("pinning.digest").status == "fail"


def test_waiver_limited_to_a_platform(world: World, ev: Evidences) -> None:
    waiver = {"check": "sbom.attested", "images": "**", "reason": "x", "expires": "2030-01-01", "platforms": [ARM]}
    rep = run(ev("debian-base:12"), {"sbom": {}}, waivers=[waiver])
    assert rep.finding("sbom.attested", ARM).status == "waived"
    assert rep.finding("sbom.attested", AMD).status == "fail"
    # A waiver limited to platforms never waives a finding about the image as a whole.
    image_waiver = {**waiver, "check": "platforms.required"}
    rep = run(ev("debian-base:12"), {"platforms": {"required": [ARM, "linux/s390x"]}}, waivers=[image_waiver])
    assert (rep.finding("platforms.required").status, rep.finding("platforms.required").evidence["missing"]) == (
        "fail",
        ["linux/s390x"],
    )


def test_renewed_waiver_wins_over_the_expired_one(world: World, ev: Evidences) -> None:
    old = {"check": "sbom.attested", "images": "**", "reason": "old", "expires": "2026-01-01"}
    renewed = {**old, "reason": "renewed", "expires": "2026-12-31"}
    rep = run(ev("debian-base:12"), {"sbom": {}}, waivers=[old, renewed])
    f = rep.finding("sbom.attested", AMD)
    assert (f.status, f.waiver.reason if f.waiver else None, rep.warnings) == ("waived", "renewed", [])
    assert "expired" not in f.message
    assert (rep.verdict, rep.exit_code) == ("pass", 0)


def test_unused_waivers_are_reported_without_changing_the_verdict(world: World, ev: Evidences) -> None:
    e = ev("debian-base:12")  # no SBOM attached on either platform; only linux/amd64 and linux/arm64/v8
    until = "2030-01-01"
    applied = {"check": "sbom.attested", "images": "**", "reason": "pending", "expires": until}
    superseded = {**applied, "reason": "first", "expires": "2026-01-01"}  # expired, next to its renewal
    stale = [
        {**applied, "images": "ghcr.io/other/**", "reason": "other team"},
        {**applied, "check": "user.non-root", "reason": "no user section"},
        {**applied, "platforms": ["linux/s390x"], "reason": "mainframe"},
        {**applied, "check": "platforms.required", "platforms": [ARM], "reason": "arm later"},
        {**applied, "check": "pinning.forbidden-tags", "expires": "2026-05-01", "reason": "old"},
    ]
    checks = {
        "sbom": {},
        "platforms": {"required": [AMD, "linux/s390x"]},
        "pinning": {"requireDigest": False, "requireBaseDigest": False},  # forbidden-tags passes: tag 12
    }
    lean = run(e, checks, waivers=[applied, superseded])
    rep = run(e, checks, waivers=[applied, superseded, *stale])
    assert lean.unused_waivers == []
    assert [(u.location, u.check, u.detail) for u in rep.unused_waivers] == [
        ("waivers[2]", "sbom.attested", "this image does not match ghcr.io/other/**"),
        ("waivers[3]", "user.non-root", "user.non-root does not run with this policy"),
        ("waivers[4]", "sbom.attested", "none of its platforms was evaluated"),
        ("waivers[5]", "platforms.required",
         "platforms.required is about the image as a whole, which a waiver with platforms never waives"),
        ("waivers[6]", "pinning.forbidden-tags", "no pinning.forbidden-tags finding denied or warned"),
    ]  # fmt: skip
    assert rep.unused_waivers[0].entry == f"sbom.attested for ghcr.io/other/**, until {until}: other team"
    assert rep.unused_waivers[2].entry == f"sbom.attested for ** on linux/s390x, until {until}: mainframe"
    assert rep.unused_waivers[4].entry == "pinning.forbidden-tags for **, until 2026-05-01 (expired): old"
    # Reporting them changes nothing else: same findings, warnings and verdict as without them.
    assert (
        (rep.verdict, rep.exit_code, rep.warnings) == (lean.verdict, lean.exit_code, lean.warnings) == ("deny", 1, [])
    )
    assert [f.model_dump() for f in rep.findings()] == [f.model_dump() for f in lean.findings()]
    assert rep.finding("sbom.attested", AMD).status == "waived"
    assert rep.finding("platforms.required").status == "fail"


def test_expired_waiver_that_matched_is_not_also_unused(world: World, ev: Evidences) -> None:
    """An expired waiver that would have matched is reported once, by its expiry warning."""
    waiver = {"check": "sbom.attested", "images": "**/debian-base", "reason": "INC-7", "expires": "2026-05-31"}
    rep = run(ev("debian-base:12"), {"sbom": {}}, waivers=[waiver])
    assert len(rep.warnings) == 2 and rep.unused_waivers == []
    other = run(ev("debian-multiarch:12"), {"sbom": {}}, waivers=[waiver])  # has SBOMs, and another name
    assert other.warnings == []
    assert [(u.location, u.entry, u.detail) for u in other.unused_waivers] == [
        ("waivers[0]", "sbom.attested for **/debian-base, until 2026-05-31 (expired): INC-7",
         "this image does not match **/debian-base"),
    ]  # fmt: skip
    off = run(ev("debian-base:12"), {"sbom": {"action": "off"}}, waivers=[{**waiver, "expires": "2030-01-01"}])
    assert [u.detail for u in off.unused_waivers] == ["sbom.attested is off in this policy"]


def test_policy_for_other_images_is_a_usage_error(world: World, ev: Evidences) -> None:
    from provenant.errors import UsageError

    with pytest.raises(UsageError, match=r"applies to images matching ghcr\.io/acme/\*\*"):
        run(ev("debian-base:12"), {"sbom": {}}, images=["ghcr.io/acme/**"])


# -- strict.yaml through the CLI, every format ---------------------------------------------------------------


def _policy_file(tmp: Path, checks: dict[str, Any], **top: Any) -> Path:
    path = tmp / "policy.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "provenant/v1", "kind": "ImagePolicy", "checks": checks, **top}))
    return path


def _cli(ref: str, policy_path: Path, cache: Path, *args: str) -> Any:
    return CliRunner().invoke(
        cli, ["policy", "check", ref, "--policy", str(policy_path), "--cache-dir", str(cache), *args]
    )


STRICT_MULTIARCH = {
    ("pinning.digest", "image"): "fail",
    ("pinning.forbidden-tags", "image"): "pass",
    ("pinning.base-digest", "image"): "fail",
    ("platforms.required", "image"): "pass",
    ("platforms.provenance", "image"): "pass",
    **{
        (check, plat): status
        for plat in (AMD, ARM)
        for check, status in (
            ("base-image.allowed", "pass"),
            ("provenance.present", "pass"),
            ("provenance.signed", "fail"),
            ("provenance.builder", "pass"),
            ("provenance.source", "pass"),
            ("provenance.subject", "pass"),
            ("size.budget", "pass"),
            ("sbom.attested", "pass"),
            ("licenses.denied", "pass"),
            ("user.non-root", "pass"),  # USER 65534:65534
            ("secrets.none", "fail"),  # ENV API_TOKEN=s3cr3t-value
            ("tooling.build-tools", "pass"),  # no compilers or -dev packages among the fixture's packages
            ("caches.package-manager", "pass"),  # installed from .debs, no apt lists
            ("size.wasted", "pass"),  # only usr/share/doc/mawk/examples is hidden
        )
    },
}


def test_strict_policy_on_multiarch_in_every_format(world: World, tmp_path: Path, cache_dir: Path) -> None:
    strict = ROOT / "policies" / "strict.yaml"
    out = {fmt: tmp_path / f"report.{fmt}" for fmt in ("text", "sarif", "junit", "github")}
    res = _cli(
        world.ref("debian-multiarch:12"), strict, cache_dir, "--format", "json",
        *[a for fmt, path in out.items() for a in ("-o", f"{fmt}={path}")],
    )  # fmt: skip
    assert res.exit_code == 1, res.output
    doc = json.loads(res.stdout)
    got = {(f["check"], f["subject"]): f["status"] for r in doc["results"] for f in r["findings"]}
    assert got == STRICT_MULTIARCH
    assert doc["verdict"] == "deny" and doc["exit_code"] == 1

    sarif = json.loads(out["sarif"].read_text())
    jsonschema.validate(sarif, SCHEMA)
    run_ = sarif["runs"][0]
    assert [r["id"] for r in run_["tool"]["driver"]["rules"]] == [d["id"] for d in doc["checks"]]
    assert all(r["help"]["text"] for r in run_["tool"]["driver"]["rules"])
    failing = sorted((r["ruleId"], r["locations"][0]["logicalLocations"][0]["name"]) for r in run_["results"])
    assert failing == sorted(k for k, v in STRICT_MULTIARCH.items() if v == "fail")
    assert all(r["level"] == "error" and r["partialFingerprints"] for r in run_["results"])

    junit = ET.fromstring(out["junit"].read_text())
    cases = {(tc.get("classname"), tc.get("name")): tc for tc in junit.iter("testcase")}
    assert len(cases) == len(STRICT_MULTIARCH)
    assert junit.get("failures") == str(sum(1 for v in STRICT_MULTIARCH.values() if v == "fail"))
    assert cases[(ARM, "provenance.signed")].find("failure") is not None
    assert cases[(ARM, "provenance.builder")].find("failure") is None

    gh = out["github"].read_text().splitlines()
    errors = [ln for ln in gh if ln.startswith("::error ")]
    assert len(errors) == sum(1 for v in STRICT_MULTIARCH.values() if v == "fail")
    assert f"::error title=provenance.signed ({ARM})::provenance is present but unsigned Fix: " in "\n".join(gh)

    text = out["text"].read_text()
    assert "provenance.signed  [deny, no data: deny]" in text
    assert text.rstrip().splitlines()[-1].startswith("verdict: DENY")


def test_strict_policy_on_signed_pinned_reference(world: World, tmp_path: Path, cache_dir: Path) -> None:
    """Pinned by digest, signed provenance: the BuildKit base tag and the API_TOKEN env still deny."""
    ref = world.ref(f"policy/signed@{world.fx.image('debian-multiarch:12').digest}")
    res = _cli(ref, ROOT / "policies" / "strict.yaml", cache_dir, "--format", "json", "--key", str(world.pub_a))
    doc = json.loads(res.stdout)
    denied = sorted(
        {(f["check"], f["subject"]) for r in doc["results"] for f in r["findings"] if f["effect"] == "deny"}
    )
    assert denied == [("pinning.base-digest", "image"), ("secrets.none", AMD), ("secrets.none", ARM)]
    assert res.exit_code == 1
    sarif = json.loads(
        _cli(ref, ROOT / "policies" / "strict.yaml", cache_dir, "--format", "sarif", "--key", str(world.pub_a)).stdout
    )
    jsonschema.validate(sarif, SCHEMA)


def test_strict_policy_with_a_waiver_passes(world: World, tmp_path: Path, cache_dir: Path) -> None:
    strict = yaml.safe_load((ROOT / "policies" / "strict.yaml").read_text())
    strict["waivers"] = [
        {"check": "pinning.base-digest", "images": "**/policy/signed", "reason": "base bump", "expires": "2999-01-01"},
        {"check": "secrets.none", "images": "**/policy/signed", "reason": "fixture token", "expires": "2999-01-01"},
    ]
    path = tmp_path / "strict-waived.yaml"
    path.write_text(yaml.safe_dump(strict))
    ref = world.ref(f"policy/signed@{world.fx.image('debian-multiarch:12').digest}")
    res = _cli(ref, path, cache_dir, "--format", "sarif", "--key", str(world.pub_a))
    assert res.exit_code == 0, res.output
    sarif = json.loads(res.stdout)
    jsonschema.validate(sarif, SCHEMA)
    waived, *secrets = sarif["runs"][0]["results"]
    assert [s["ruleId"] for s in secrets] == ["secrets.none", "secrets.none"]
    assert waived["ruleId"] == "pinning.base-digest"
    assert waived["level"] == "error"  # what it would have been
    assert waived["suppressions"][0]["justification"] == "base bump (until 2999-01-01)"


def test_strict_policy_on_unattested_base(world: World, tmp_path: Path, cache_dir: Path) -> None:
    res = _cli(world.ref("debian-base:12"), ROOT / "policies" / "strict.yaml", cache_dir, "--format", "junit")
    assert res.exit_code == 1
    suites = ET.fromstring(res.stdout)
    failed = {
        (tc.get("classname"), tc.get("name"), tc.find("failure").get("type"))  # type: ignore[union-attr]
        for tc in suites.iter("testcase")
        if tc.find("failure") is not None
    }
    for plat in (AMD, ARM):
        assert (plat, "provenance.present", "deny") in failed
        assert (plat, "provenance.signed", "no-data") in failed
        assert (plat, "base-image.allowed", "no-data") in failed
        assert (plat, "sbom.attested", "deny") in failed
    assert ("image", "pinning.base-digest", "no-data") in failed
    assert ("image", "platforms.provenance", "deny") in failed
    assert ("image", "platforms.required", "deny") not in failed


def test_sarif_fingerprints_are_stable_across_tags(world: World, ev: Evidences) -> None:
    from provenant.policy.reports.sarif import to_sarif

    p = {"pinning": {"forbiddenTags": [], "requireBaseDigest": False}}
    a = to_sarif(run(ev("debian-multiarch:12"), p))["runs"][0]["results"]
    b = to_sarif(run(ev("debian-multiarch:12-r2"), p))["runs"][0]["results"]
    assert a[0]["partialFingerprints"] == b[0]["partialFingerprints"]


def test_exit_2_on_runtime_error(world: World, tmp_path: Path, cache_dir: Path) -> None:
    pol = _policy_file(tmp_path, {"sbom": {}})
    res = _cli(world.ref("no-such-image:1"), pol, cache_dir)
    assert res.exit_code == 2
    assert res.output.startswith("provenant: error: ")


# -- each blob fetched at most once ---------------------------------------------------------------------------


class CountingTransport(httpx.BaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.blobs: Counter[str] = Counter()
        self.manifests: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "GET" and "/blobs/" in path:
            self.blobs[path.rsplit("/", 1)[-1]] += 1
        if request.method == "GET" and "/manifests/" in path:
            self.manifests[path.rsplit("/", 1)[-1]] += 1
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_multiarch_evaluation_fetches_each_blob_once(world: World, tmp_path: Path) -> None:
    fx = world.fx.image("debian-multiarch:12")
    counter = CountingTransport()
    strict = ROOT / "policies" / "strict.yaml"
    from provenant.policy.schema import load_policy

    with Session(RegistryOptions(transport=counter)) as s:
        rep = check_image(
            s, world.ref("policy/signed:12"), load_policy(strict), policy_path=strict,
            keys=[load_public_key(world.pub_a)], cache=LayerCache(tmp_path / "empty-cache"), today=TODAY,
        )  # fmt: skip
    assert rep.finding("provenance.signed", ARM).status == "pass"
    # every layer, config and attestation blob of the index, each exactly once
    layout_blobs = set()
    for plat_digest in fx.platforms.values():
        m = json.loads((fx.layout / "blobs" / "sha256" / plat_digest.removeprefix("sha256:")).read_bytes())
        layout_blobs |= {m["config"]["digest"], *(layer["digest"] for layer in m["layers"])}
    assert layout_blobs <= set(counter.blobs)
    assert max(counter.blobs.values()) == 1, counter.blobs.most_common(3)
    assert max(counter.manifests.values()) == 1, counter.manifests.most_common(3)
    # a second run reuses the layer cache: no layer blob is fetched again
    again = CountingTransport()
    with Session(RegistryOptions(transport=again)) as s:
        check_image(
            s, world.ref("policy/signed:12"), load_policy(strict), policy_path=strict,
            cache=LayerCache(tmp_path / "empty-cache"), today=TODAY,
        )  # fmt: skip
    layers = {layer for d in fx.platforms.values() for layer in _layer_digests(fx.layout, d)}
    assert not layers & set(again.blobs)


def test_trusted_bases_are_resolved_once_for_all_platforms(world: World, tmp_path: Path) -> None:
    """Layer-prefix matching on a multi-arch image: each trusted base's index is read once, not per platform;
    the image itself as a trusted base is not fetched again; an unresolvable base is tried once."""

    class PathCounter(CountingTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "GET" and "/manifests/" in request.url.path:
                self.manifests[request.url.path.removeprefix("/v2/")] += 1
            return self.inner.handle_request(request)

    counter = PathCounter()
    own, other, missing = world.ref("debian-base:12"), world.ref("debian-multiarch:12"), world.ref("no-such-base:1")
    pol = policy({"baseImage": {"trusted": [missing, other, own]}})
    with Session(RegistryOptions(transport=counter)) as s:
        rep = check_image(s, own, pol, cache=LayerCache(tmp_path / "cache"), today=TODAY)
    for plat in (AMD, ARM):
        f = rep.finding("base-image.allowed", plat)
        assert (f.status, f.evidence["source"], f.evidence["base"]) == ("pass", "layers", own)
        assert f.evidence["digest"] == world.fx.image("debian-base:12").platforms[plat]
    assert counter.manifests["debian-base/manifests/12"] == 1
    assert counter.manifests["debian-multiarch/manifests/12"] == 1
    assert counter.manifests["no-such-base/manifests/1"] == 1
    assert max(counter.manifests.values()) == 1, counter.manifests.most_common(3)


def _layer_digests(layout: Path, manifest_digest: str) -> list[str]:
    m = json.loads((layout / "blobs" / "sha256" / manifest_digest.removeprefix("sha256:")).read_bytes())
    return [layer["digest"] for layer in m["layers"]]


# -- reports of warnings and expired waivers; local sources -----------------------------------------------------


def test_expired_waiver_and_warnings_in_text_github_junit(world: World, ev: Evidences) -> None:
    from provenant.policy.reports import render

    waiver = {"check": "sbom.attested", "images": "**", "reason": "SBOM pipeline pending", "expires": "2026-05-31"}
    rep = evaluate(
        ev("debian-base:12"),
        policy({"sbom": {"action": "warn"}}, waivers=[waiver]),
        today=TODAY,
        fail_on_warn=True,
    )
    assert (rep.verdict, rep.exit_code) == ("warn", 1)
    text = render(rep, "text")
    assert (
        f"WARN             {AMD}: no SBOM is attached to this platform manifest [the waiver expired on 2026-05-31"
        in text
    )
    assert f"warning: sbom.attested on {AMD}: the waiver expired on 2026-05-31 (SBOM pipeline pending)" in text
    gh = render(rep, "github").splitlines()
    assert f"::warning title=sbom.attested ({AMD})::no SBOM is attached" in gh[0]
    assert any(ln.startswith("::warning title=expired waiver::sbom.attested on ") for ln in gh)
    junit = ET.fromstring(render(rep, "junit"))
    types = [f.get("type") for f in junit.iter("failure")]
    assert types == ["warning", "warning"]  # --fail-on-warn: warnings fail the JUnit cases too
    lenient = evaluate(ev("debian-base:12"), policy({"sbom": {"action": "warn"}}), today=TODAY)
    assert list(ET.fromstring(render(lenient, "junit")).iter("failure")) == []


def test_unused_waivers_in_every_format(world: World, tmp_path: Path, cache_dir: Path) -> None:
    waivers = [
        {"check": "sbom.attested", "images": "**", "reason": "SBOM pipeline pending", "expires": "2999-01-01"},
        {"check": "sbom.attested", "images": "ghcr.io/other/**", "reason": "other team", "expires": "2999-01-01"},
    ]
    pol = _policy_file(tmp_path, {"sbom": {}, "secrets": {"ignoreRules": ["npm-token"]}}, waivers=waivers)
    out = {fmt: tmp_path / f"report.{fmt}" for fmt in ("text", "sarif", "junit", "github")}
    res = _cli(
        world.ref("debian-base:12"), pol, cache_dir, "--format", "json",
        *[a for fmt, path in out.items() for a in ("-o", f"{fmt}={path}")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output  # unused waivers never change the verdict
    doc = json.loads(res.stdout)
    assert doc["verdict"] == "pass"
    assert doc["unused_waivers"] == [
        {
            "location": "waivers[1]",
            "check": "sbom.attested",
            "entry": "sbom.attested for ghcr.io/other/**, until 2999-01-01: other team",
            "detail": "this image does not match ghcr.io/other/**",
        },
        {
            "location": "checks.secrets.ignoreRules[0]",
            "check": "secrets.none",
            "entry": "npm-token",
            "detail": "secrets.none found nothing it matches",
        },
    ]
    text = out["text"].read_text()
    assert (
        "unused waivers (matched nothing in this run):\n"
        "  waivers[1]: sbom.attested for ghcr.io/other/**, until 2999-01-01: other team "
        "(this image does not match ghcr.io/other/**)\n"
        "  checks.secrets.ignoreRules[0]: npm-token (secrets.none found nothing it matches)\n"
    ) in text
    gh = out["github"].read_text().splitlines()
    assert [ln for ln in gh if ln.startswith("::notice title=unused waiver::")] == [
        "::notice title=unused waiver::waivers[1]: sbom.attested for ghcr.io/other/**, until 2999-01-01: other team "
        "(this image does not match ghcr.io/other/**)",
        "::notice title=unused waiver::checks.secrets.ignoreRules[0]: npm-token "
        "(secrets.none found nothing it matches)",
    ]
    assert gh[-1].startswith("::notice title=provenant policy::")
    sarif = json.loads(out["sarif"].read_text())
    jsonschema.validate(sarif, SCHEMA)
    run_ = sarif["runs"][0]
    assert all(r.get("suppressions") for r in run_["results"])  # only the waived sbom.attested findings
    (invocation,) = run_["invocations"]
    notes = invocation["toolConfigurationNotifications"]
    assert [(n["level"], n["properties"]["location"]) for n in notes] == [
        ("note", "waivers[1]"),
        ("note", "checks.secrets.ignoreRules[0]"),
    ]
    rule_ids = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    assert rule_ids[notes[1]["associatedRule"]["index"]] == "secrets.none"
    assert notes[0]["message"]["text"].startswith("unused waiver waivers[1]: sbom.attested for ghcr.io/other/**")
    junit = ET.fromstring(out["junit"].read_text())
    assert junit.get("failures") == "0" and "ghcr.io/other" not in out["junit"].read_text()  # JUnit leaves them out


def test_local_layout_has_no_reference_to_pin(world: World, tmp_path: Path, cache_dir: Path) -> None:
    fx = world.fx.image("debian-multiarch:12")
    pol = _policy_file(tmp_path, {"pinning": {"requireBaseDigest": False}, "platforms": {"required": [AMD, ARM]}})
    res = _cli(str(fx.layout), pol, cache_dir, "--format", "json")
    doc = json.loads(res.stdout)
    got = {f["check"]: (f["status"], f["effect"]) for r in doc["results"] for f in r["findings"]}
    assert got == {
        "pinning.digest": ("no-data", "deny"),
        "pinning.forbidden-tags": ("no-data", "deny"),
        "platforms.required": ("pass", "none"),
    }
    assert res.exit_code == 1
    assert doc["notes"] == [
        "OCI layout: attachments were looked for in index.json (cosign save entries, sha256-<hex>.sig/.att/.sbom "
        "names, manifests with a subject)"
    ]


def test_unresolvable_trusted_base_is_reported(world: World, ev: Evidences) -> None:
    e = ev("sbom-go:1")
    f = run(e, {"baseImage": {"trusted": [world.ref("no-such-base:1")]}}).finding("base-image.allowed", AMD)
    assert f.status == "no-data"
    (problem,) = f.evidence["problems"]
    assert problem.startswith(f"{world.ref('no-such-base:1')}: ")


def test_platform_selection_keeps_the_index_view(world: World, tmp_path: Path, cache_dir: Path) -> None:
    pol = _policy_file(tmp_path, {"platforms": {"required": [AMD, ARM, "linux/riscv64"]}, "sbom": {}})
    res = _cli(world.ref("debian-multiarch:12"), pol, cache_dir, "--platform", "linux/arm64", "--format", "json")
    doc = json.loads(res.stdout)
    assert [r["subject"] for r in doc["results"]] == ["image", ARM]
    req = doc["results"][0]["findings"][0]
    assert (req["check"], req["evidence"]["present"], req["evidence"]["missing"]) == (
        "platforms.required",
        [AMD, ARM],
        ["linux/riscv64"],
    )
    assert res.exit_code == 1


def test_sarif_with_dockerfile_locations_is_valid(world: World, tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE.format(d="3" * 64))
    pol = _policy_file(tmp_path, {"pinning": {}})
    res = _cli(
        world.ref("debian-multiarch:12"),
        pol,
        cache_dir,
        "--dockerfile",
        str(tmp_path / "Dockerfile"),
        "--format",
        "sarif",
    )
    assert res.exit_code == 1
    sarif = json.loads(res.stdout)
    jsonschema.validate(sarif, SCHEMA)
    image = world.ref("debian-multiarch").replace(":", "%3A")
    dockerfile = str(tmp_path / "Dockerfile").lstrip("/")
    physical = [(r["ruleId"], r["locations"][0]["physicalLocation"]) for r in sarif["runs"][0]["results"]]
    located = [(rule, loc["region"]["startLine"]) for rule, loc in physical if loc["artifactLocation"]["uri"] != image]
    assert sorted(located) == [("pinning.base-digest", 4), ("pinning.base-digest", 6), ("pinning.forbidden-tags", 4)]
    assert all(
        loc["artifactLocation"]["uri"].lstrip("/") == dockerfile for rule, loc in physical if rule != "pinning.digest"
    )
    # every result has a physical location (GitHub code scanning requires one): the image for the reference
    (digest_loc,) = [loc for rule, loc in physical if rule == "pinning.digest"]
    assert digest_loc == {"artifactLocation": {"uri": image}, "region": {"startLine": 1}}


# -- stored evidence (what fleet scan keeps): the same report as the live evidence -------------------------


@pytest.mark.parametrize(
    ("ref", "signed"),
    [("policy/signed:12", True), ("policy/pinned:12", True), ("policy/mismatch:12", True),
     ("policy/base:latest", False), ("debian-multiarch:12", False), ("hygiene-bad:1", False)],
)  # fmt: skip
def test_stored_evidence_gives_the_live_report(world: World, ev: Evidences, ref: str, signed: bool) -> None:
    """Every family (strict.yaml, plus a trusted base) over the evidence serialised to JSON and read back."""
    import yaml

    from provenant.evidence.stored import ImageFacts, facts_of, from_facts

    e = ev(ref, world.pub_a if signed else None)
    data = yaml.safe_load((ROOT / "policies" / "strict.yaml").read_text())
    data["checks"]["baseImage"]["trusted"] = [world.ref("debian-base:12")]
    pol = policy_from_data(data, "strict")
    facts = ImageFacts.model_validate_json(facts_of(e).model_dump_json())
    assert e.analysis is not None
    stored = from_facts(
        facts,
        {img.sbom.manifest_digest: img.sbom for img in e.analysis.images},
        target=e.target,
        reference=e.reference,
        resolver=lambda _stored, base, platform: e.trusted_base(base, platform),
    )
    live_report = evaluate(e, pol, today=TODAY).model_dump(mode="json")
    assert evaluate(stored, pol, today=TODAY).model_dump(mode="json") == live_report
    statuses = {f["status"] for r in live_report["results"] for f in r["findings"]}
    assert "fail" in statuses and len(live_report["results"]) >= 2
