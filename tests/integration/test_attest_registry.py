"""Attestations and signatures against the real CNCF distribution registry (no referrers API: tag fallback).

Each scenario lives in its own repository holding a copy of ``debian-multiarch:12`` (made by
cross-repository blob mounts). Signatures are made both by provenant and by the independent helpers
in tests/attestdata, which write the cosign / in-toto / Sigstore layouts straight from the specs.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from fixtures import FixtureSet, Registry
from fixtures.recipes import BUILDER_ID, RELEASES, SOURCE_REPO
from provenant.attest import constants as c
from provenant.attest.keys import load_private_key
from provenant.attest.push import sign_image
from provenant.attest.result import list_attestations
from provenant.cli.attest_cmds import attest_cmd, attestations_cmd, keygen_cmd, sign_cmd, verify_cmd
from provenant.session import Session
from tests.attestdata import artifacts, crypto

pytestmark = pytest.mark.integration
PASSWORD = "test-passphrase"
SPDX_DOC = {"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "debian-multiarch", "packages": []}


@dataclass
class World:
    host: str
    keys: dict[str, Any]
    files: dict[str, Path]
    digests: dict[str, str]  # repo -> top digest
    amd: str
    arm: str

    def ref(self, repo: str) -> str:
        return f"{self.host}/attest/{repo}:12"


@pytest.fixture(scope="module")
def world(registry: Registry, fixture_set: FixtureSet, tmp_path_factory: pytest.TempPathFactory) -> World:
    fx = fixture_set.image("debian-multiarch:12")
    amd, arm = fx.platforms["linux/amd64"], fx.platforms["linux/arm64/v8"]
    tmp = tmp_path_factory.mktemp("attest-keys")
    a, b = crypto.new_key(), crypto.new_key()
    files = {}
    files["a.key"], files["a.pub"] = crypto.write_keys(a, tmp, "a", PASSWORD.encode())
    files["b.key"], files["b.pub"] = crypto.write_keys(b, tmp, "b", PASSWORD.encode())
    host = registry.host
    digests = {}
    for repo in ("signed", "otherkey", "unsigned", "tampered", "mismatch", "roundtrip"):
        digests[repo] = artifacts.copy_image(host, "debian-multiarch", "12", f"attest/{repo}", "12")
    store = {repo: artifacts.HttpStore(host, f"attest/{repo}") for repo in digests}
    priv_a = load_private_key(files["a.key"], PASSWORD.encode())
    priv_b = load_private_key(files["b.key"], PASSWORD.encode())

    # signed: the fixture's own BuildKit statements (SLSA + SPDX per platform), then signatures of every kind
    index = digests["signed"]
    name = f"{host}/attest/signed"
    artifacts.write_signature(store["signed"], index, b, docker_reference=name)  # by the helper, key B
    with Session() as s:
        sign_image(s, f"{name}:12", priv_a)  # by provenant, key A: appended to the same .sig manifest
    slsa = artifacts.statement(
        arm, c.SLSA_V1, {"buildDefinition": {"buildType": "x"}, "runDetails": {"builder": {"id": "y"}}}
    )
    artifacts.write_attestation(store["signed"], arm, slsa, a, c.SLSA_V1)
    amd_desc = {"mediaType": artifacts.OCI_MANIFEST, "digest": amd, "size": 0}
    amd_desc["size"] = len(store["signed"].get_manifest(amd) or b"")
    bundle = artifacts.bundle_with_key(artifacts.statement(amd, c.CYCLONEDX, {"bomFormat": "CycloneDX"}, v1=True), a)
    artifacts.write_referrer(store["signed"], amd_desc, bundle, fallback_tag=True)

    with Session() as s:
        sign_image(s, world_ref(host, "otherkey"), priv_b)
    artifacts.write_signature(store["tampered"], digests["tampered"], a, tamper=True)
    artifacts.write_signature(store["mismatch"], digests["mismatch"], a, payload_digest=amd)
    artifacts.write_attestation(store["mismatch"], amd, artifacts.statement(arm, c.SPDX, SPDX_DOC), a, c.SPDX)
    return World(host, {"a": a, "b": b}, files, digests, amd, arm)


def world_ref(host: str, repo: str) -> str:
    return f"{host}/attest/{repo}:12"


def _run(cmd: Any, args: list[str], **env: str) -> Any:
    return CliRunner().invoke(cmd, args, env={"PROVENANT_KEY_PASSWORD": PASSWORD, **env}, catch_exceptions=False)


def _invoke_main(args: list[str]) -> Any:
    """Through the top-level group, so ProvenantError becomes exit code 2 as in production."""
    import click

    from provenant.cli.main import ProvenantGroup

    @click.group(cls=ProvenantGroup)
    def group() -> None:
        pass

    for cmd in (attestations_cmd, verify_cmd, attest_cmd, sign_cmd, keygen_cmd):
        group.add_command(cmd)
    return CliRunner().invoke(group, args, env={"PROVENANT_KEY_PASSWORD": PASSWORD})


def test_attestations_tree_shows_every_item_under_its_subject(world: World, fixture_set: FixtureSet) -> None:
    fa = crypto.fingerprint(world.keys["a"])
    res = _run(attestations_cmd, [world.ref("signed"), "--key", str(world.files["a.pub"]), "-o", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["digest"] == world.digests["signed"]
    assert doc["referrers"] == "tag-fallback"
    by = {(s["platform"] or s["kind"]): s["attachments"] for s in doc["subjects"]}
    assert list(by) == ["index", "linux/amd64", "linux/arm64/v8"]

    def rows(label: str) -> list[tuple[Any, ...]]:
        return [
            (a["source"], a["kind"], a["predicate_type"], a["trust"], a["subject_check"]["status"]) for a in by[label]
        ]

    assert rows("index") == [
        ("cosign-tag", "signature", None, "signature-invalid", "match"),
        ("cosign-tag", "signature", None, f"signed:key={fa}", "match"),
    ]
    assert rows("linux/amd64") == [
        ("buildkit-index", "attestation", c.SLSA_V02, "unsigned", "match"),
        ("buildkit-index", "attestation", c.SPDX, "unsigned", "match"),
        ("oci-referrers-tag", "attestation", c.CYCLONEDX, f"signed:key={fa}", "match"),
    ]
    assert rows("linux/arm64/v8") == [
        ("buildkit-index", "attestation", c.SLSA_V1, "unsigned", "match"),
        ("buildkit-index", "attestation", c.SPDX, "unsigned", "match"),
        ("cosign-tag", "attestation", c.SLSA_V1, f"signed:key={fa}", "match"),
    ]
    prov = by["linux/amd64"][0]["provenance"]
    release = next(r for r in RELEASES if r.tag == "12")
    assert prov["builder_id"] == BUILDER_ID
    assert (prov["source"]["repository"], prov["source"]["commit"]) == (SOURCE_REPO, release.revision)
    base = fixture_set.image("debian-base:12").digest
    assert [b["digest"]["sha256"] for b in prov["base_images"]] == [base.removeprefix("sha256:")]
    assert (prov["buildkit_mode"], prov["build_args"]) == ("min", {"BUILDKIT_SBOM_SCAN_STAGE": "false"})
    assert by["linux/arm64/v8"][0]["provenance"]["slsa_version"] == "v1"

    text = _run(attestations_cmd, [world.ref("signed"), "--key", str(world.files["a.pub"])]).output
    assert f"linux/amd64  {world.amd}" in text
    assert f"signed:key={fa}  subject ok" in text
    assert "https://spdx.dev/Document  [buildkit-index" in text
    assert f"commit {release.revision}" in text


def test_attestations_filtered_by_platform_and_without_keys(world: World) -> None:
    with Session() as s:
        from provenant.oci.platform import PlatformSpec

        r = list_attestations(s, world.ref("signed"), platforms=[PlatformSpec.parse("linux/arm64")])
    assert [x.platform or x.kind for x in r.subjects] == ["index", "linux/arm64/v8"]
    assert [a.trust for a in r.subjects[1].attachments] == ["unsigned", "unsigned", "signed-unverified"]


def test_verify_passes_with_the_right_key(world: World) -> None:
    res = _run(verify_cmd, [world.ref("signed"), "--key", str(world.files["a.pub"])])
    assert res.exit_code == 0, res.output
    assert res.output.count("PASS") == 3 and "verified" in res.output
    # either key may be given; the index carries signatures by both
    res = _run(
        verify_cmd, [world.ref("signed"), "--key", str(world.files["b.pub"]), "--key", str(world.files["a.pub"])]
    )
    assert res.exit_code == 0
    # a platform's own signed attestation of the required type
    res = _run(
        verify_cmd,
        [
            world.ref("signed"),
            "--key",
            str(world.files["a.pub"]),
            "--platform",
            "linux/arm64",
            "--type",
            "slsaprovenance1",
        ],
    )
    assert res.exit_code == 0, res.output
    res = _run(
        verify_cmd,
        [world.ref("signed"), "--key", str(world.files["a.pub"]), "--platform", "linux/arm64", "--type", "spdx"],
    )
    assert res.exit_code == 1
    assert "no signature found" in res.output or "predicate type" in res.output


@pytest.mark.parametrize(
    ("repo", "reason"),
    [
        ("otherkey", "does not verify with the given key"),
        ("unsigned", "no signature found (nothing attached)"),
        ("tampered", "signature-invalid"),
        ("mismatch", "subject mismatch"),
    ],
)
def test_verify_fails_with_the_reason(world: World, repo: str, reason: str) -> None:
    res = _run(verify_cmd, [world.ref(repo), "--key", str(world.files["a.pub"])])
    assert res.exit_code == 1, res.output
    index_block = res.output.split("FAIL  index")[1].split("FAIL  linux/amd64")[0]
    assert reason in index_block, res.output
    assert "verification FAILED" in res.output
    doc = json.loads(_run(verify_cmd, [world.ref(repo), "--key", str(world.files["a.pub"]), "-o", "json"]).output)
    assert doc["passed"] is False and not any(s["passed"] for s in doc["subjects"])


def test_subject_mismatch_of_an_attestation_is_shown(world: World) -> None:
    with Session() as s:
        r = list_attestations(s, world.ref("mismatch"))
    amd = r.subject(world.amd).attachments
    att = next(a for a in amd if a.source == "cosign-tag")
    assert (att.trust, att.subject_check.status, att.subject_check.found) == (
        "signed-unverified",
        "mismatch",
        [world.arm],
    )


def test_errors_exit_2_in_one_line(world: World, tmp_path: Path) -> None:
    res = _invoke_main(["verify", world.ref("signed")])
    assert res.exit_code == 2 and "needs at least one --key" in res.output
    bad = tmp_path / "bad.pub"
    bad.write_text("not a key")
    res = _invoke_main(["verify", world.ref("signed"), "--key", str(bad)])
    assert res.exit_code == 2 and "not a PEM public key" in res.output and len(res.output.strip().splitlines()) == 1
    res = _invoke_main(["verify", f"{world.host}/attest/nope:1", "--key", str(world.files["a.pub"])])
    assert res.exit_code == 2
    # a bad trusted root is reported even when no keyless bundle is attached (it would otherwise go unnoticed)
    root = tmp_path / "trusted_root.json"
    for content in ("{}", "not json"):
        root.write_text(content)
        keyless = ["--certificate-identity", "me@example.com", "--certificate-oidc-issuer", "https://issuer"]
        res = _invoke_main(["verify", world.ref("unsigned"), "--trusted-root", str(root), *keyless])
        assert res.exit_code == 2, res.output
        assert f"cannot load trusted root {root}" in res.output and len(res.output.strip().splitlines()) == 1


def test_keygen_attest_sign_round_trip(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = _run(keygen_cmd, ["--output-key-prefix", "rt"])
    assert res.exit_code == 0, res.output
    assert PASSWORD not in res.output and "BEGIN" not in res.output
    assert (tmp_path / "rt.key").stat().st_mode & 0o777 == 0o600
    assert _invoke_main(["keygen", "--output-key-prefix", "rt"]).exit_code == 2  # no silent overwrite
    pred = tmp_path / "sbom.spdx.json"
    pred.write_text(json.dumps(SPDX_DOC))
    ref = world.ref("roundtrip")
    res = _run(
        attest_cmd,
        [
            ref,
            "--predicate",
            str(pred),
            "--type",
            "spdx",
            "--key",
            "rt.key",
            "--mode",
            "both",
            "--platform",
            "linux/amd64",
        ],
    )
    assert res.exit_code == 0, res.output
    assert f"{c.tag_for(world.amd, 'att')}" in res.output and f"referrers tag {c.tag_for(world.amd)}" in res.output

    res = _run(verify_cmd, [ref, "--key", "rt.pub", "--platform", "linux/amd64", "--type", "spdx"])
    assert res.exit_code == 0, res.output
    assert _run(verify_cmd, [ref, "--key", "rt.pub"]).exit_code == 1  # index and arm64 are not signed yet
    res = _run(sign_cmd, [ref, "--key", "rt.key", "-a", "team=qa"])
    assert res.exit_code == 0, res.output
    res = _run(verify_cmd, [ref, "--key", "rt.pub"])
    assert res.exit_code == 0, res.output

    # read back independently: raw HTTP + plain cryptography, per the cosign and DSSE specs
    http = httpx.Client()
    base = f"http://{world.host}/v2/attest/roundtrip"
    accept = {"Accept": artifacts.ACCEPT}
    att = http.get(f"{base}/manifests/{c.tag_for(world.amd, 'att')}", headers=accept).json()
    (layer,) = att["layers"]
    assert layer["mediaType"] == "application/vnd.dsse.envelope.v1+json"
    assert layer["annotations"] == {"dev.cosignproject.cosign/signature": "", "predicateType": c.SPDX}
    env = http.get(f"{base}/blobs/{layer['digest']}").json()
    payload = base64.b64decode(env["payload"])
    pub = load_pem_public_key((tmp_path / "rt.pub").read_bytes())
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    pub.verify(
        base64.b64decode(env["signatures"][0]["sig"]),
        crypto.pae(env["payloadType"], payload),
        ec.ECDSA(hashes.SHA256()),
    )
    stmt = json.loads(payload)
    assert stmt["_type"] == "https://in-toto.io/Statement/v1"
    assert stmt["subject"][0]["digest"] == {"sha256": world.amd.removeprefix("sha256:")}
    assert stmt["predicate"] == SPDX_DOC
    sig = http.get(f"{base}/manifests/{c.tag_for(world.digests['roundtrip'], 'sig')}", headers=accept).json()
    (sl,) = sig["layers"]
    signed = http.get(f"{base}/blobs/{sl['digest']}").content
    pub.verify(
        base64.b64decode(sl["annotations"]["dev.cosignproject.cosign/signature"]), signed, ec.ECDSA(hashes.SHA256())
    )
    assert json.loads(signed)["critical"]["image"]["docker-manifest-digest"] == world.digests["roundtrip"]
    assert json.loads(signed)["optional"] == {"team": "qa"}
    fallback = http.get(f"{base}/manifests/{c.tag_for(world.amd)}", headers=accept).json()
    (entry,) = fallback["manifests"]
    assert entry["artifactType"] == c.SIGSTORE_BUNDLE_03
    referrer = http.get(f"{base}/manifests/{entry['digest']}", headers=accept).json()
    assert referrer["subject"]["digest"] == world.amd
    assert referrer["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"


def test_layout_source_lists_in_index_attestations_only(fixture_set: FixtureSet) -> None:
    fx = fixture_set.image("debian-multiarch:12")
    with Session() as s:
        r = list_attestations(s, f"oci:{fx.layout}:12")
    assert r.referrers == "not-applicable" and r.notes
    assert [len(x.attachments) for x in r.subjects] == [0, 2, 2]


def test_verify_of_a_layout_says_why_nothing_signed_was_found(fixture_set: FixtureSet, tmp_path: Path) -> None:
    """Nothing signed in the layout: the text output says where attachments were looked for next to the FAIL."""
    fx = fixture_set.image("debian-multiarch:12")
    _, pub = crypto.write_keys(crypto.new_key(), tmp_path, "layout")
    res = _invoke_main(["verify", f"oci:{fx.layout}:12", "--key", str(pub)])
    assert res.exit_code == 1, res.output
    assert "note: OCI layout: attachments were looked for in index.json (cosign save entries" in res.output


def test_cosign_format_keys_sign_what_verify_accepts(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`keygen --format cosign` and a key cosign itself wrote (its testdata, password "hello") both sign."""
    monkeypatch.chdir(tmp_path)
    artifacts.copy_image(world.host, "debian-multiarch", "12", "attest/cosignkey", "12")
    ref = world.ref("cosignkey")
    res = _run(keygen_cmd, ["--output-key-prefix", "ck", "--format", "cosign"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "ck.key").read_bytes().startswith(b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----")
    assert _run(verify_cmd, [ref, "--key", "ck.pub"]).exit_code == 1  # nothing signed yet
    res = _run(sign_cmd, [ref, "--key", "ck.key"])
    assert res.exit_code == 0, res.output
    res = _run(verify_cmd, [ref, "--key", "ck.pub"])
    assert res.exit_code == 0, res.output
    # a key written by cosign, read with cosign's variable (provenant's own is unset)
    real = Path(__file__).parent.parent / "data" / "bundles" / "cosign-sigstore.key"
    (tmp_path / "real.pub").write_bytes(load_private_key(real, b"hello").public.pem)
    no_own = {"PROVENANT_KEY_PASSWORD": None, "COSIGN_PASSWORD": "hello"}
    res = CliRunner().invoke(sign_cmd, [ref, "--key", str(real)], env=no_own, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert _run(verify_cmd, [ref, "--key", "real.pub", "--key", "ck.pub"]).exit_code == 0
    wrong = _invoke_main_env(["sign", ref, "--key", str(real)], {"PROVENANT_KEY_PASSWORD": "nope"})
    assert wrong.exit_code == 2 and "wrong password or corrupt key" in wrong.output


def _invoke_main_env(args: list[str], env: dict[str, str]) -> Any:
    import click

    from provenant.cli.main import ProvenantGroup

    @click.group(cls=ProvenantGroup)
    def group() -> None:
        pass

    group.add_command(sign_cmd)
    return CliRunner().invoke(group, args, env=env)
