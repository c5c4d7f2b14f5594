"""Discovery, labels, creation and verification against the in-memory registry (referrers API on and off)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provenant.attest import constants as c
from provenant.attest.keyless import KeylessPolicy
from provenant.attest.keys import PrivateKey, PublicKey, load_private_key_pem
from provenant.attest.push import attest_image, sign_image
from provenant.attest.result import AttestationsResult, list_attestations
from provenant.attest.verify import verify_image
from provenant.cli.attest_cmds import render_verify
from provenant.errors import UsageError
from provenant.oci.platform import PlatformSpec
from provenant.session import Session
from provenant.sources.registry import RegistryOptions
from tests.attestdata import artifacts, crypto
from tests.fakeregistry import FakeRegistry

REPO = "team/app"


@pytest.fixture
def keys() -> dict[str, Any]:
    a, b = crypto.new_key(), crypto.new_key()
    return {
        "a": a,
        "b": b,
        "A": PublicKey.from_pem(crypto.public_pem(a), "a.pub"),
        "B": PublicKey.from_pem(crypto.public_pem(b), "b.pub"),
        "privA": load_private_key_pem(crypto.private_pem(a, None), None, "a.key"),
    }


def _image(fake: FakeRegistry) -> tuple[str, dict[str, Any]]:
    amd = fake.put_image(REPO, layers=[b"amd"], architecture="amd64")
    arm = fake.put_image(REPO, layers=[b"arm"], architecture="arm64", variant="v8")
    index = fake.put_index(REPO, [amd, arm], tag="v1")
    return index, {"amd": amd, "arm": arm}


def _session(fake: FakeRegistry) -> Session:
    return Session(
        RegistryOptions(
            transport=fake.transport(),
            sleep=lambda _s: None,
            docker_config=Path("/nonexistent/provenant-test/config.json"),
        )
    )


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    yield FakeRegistry(referrers=True)


def _ref(fake: FakeRegistry) -> str:
    return f"{fake.host}/{REPO}:v1"


def _list(fake: FakeRegistry, **kw: Any) -> AttestationsResult:
    with _session(fake) as s:
        return list_attestations(s, _ref(fake), **kw)


def _subject_desc(fake: FakeRegistry, digest: str) -> dict[str, Any]:
    data, media_type = fake.manifest(REPO, digest)  # type: ignore[misc]
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def test_referrers_api_with_pagination_is_used_without_tag_fallback(fake: FakeRegistry, keys: dict[str, Any]) -> None:
    index, _ = _image(fake)
    fake.referrers_page_size = 1
    with _session(fake) as s:
        r1 = attest_image(s, _ref(fake), {"spdxVersion": "SPDX-2.3"}, "spdx", keys["privA"], "referrers")
        r2 = attest_image(s, _ref(fake), {"bomFormat": "CycloneDX"}, "cyclonedx", keys["privA"], "referrers")
    assert [i.referrers_tag for i in (*r1.items, *r2.items)] == [None, None]
    store = artifacts.FakeStore(fake, REPO)
    artifacts.write_referrer(store, _subject_desc(fake, index), artifacts.message_signature_bundle(index, keys["a"]))
    fake.requests.clear()
    result = _list(fake, keys=[keys["A"]])
    top = result.subject(index)
    assert result.referrers == "api"
    assert sorted((a.source, a.kind, a.predicate_type, a.trust) for a in top.attachments) == sorted(
        [
            ("oci-referrers", "attestation", c.SPDX, f"signed:key={keys['A'].fingerprint}"),
            ("oci-referrers", "attestation", c.CYCLONEDX, f"signed:key={keys['A'].fingerprint}"),
            ("oci-referrers", "signature", None, f"signed:key={keys['A'].fingerprint}"),
        ]
    )
    assert all(a.subject_check.status == "match" for a in top.attachments)
    # three referrers, one per page: the client followed Link twice
    assert fake.count("GET", path=f"/referrers/{index}") == 3
    fallback = f"/manifests/{c.tag_for(index)}"
    assert not [r for r in fake.requests if r.path.endswith(fallback)]


def test_artifact_type_filter_on_the_api_and_by_hand(fake: FakeRegistry, keys: dict[str, Any]) -> None:
    index, _ = _image(fake)
    with _session(fake) as s:
        attest_image(s, _ref(fake), {"a": 1}, "custom", keys["privA"], "referrers")
    store = artifacts.FakeStore(fake, REPO)
    artifacts.write_referrer(store, _subject_desc(fake, index), b'{"spdxVersion":"SPDX-2.3"}', "application/spdx+json")
    assert len(_list(fake).subject(index).attachments) == 2
    for server_filters in (True, False):
        fake.referrers_filter = server_filters
        only = _list(fake, artifact_type=c.SIGSTORE_BUNDLE_03).subject(index).attachments
        assert [a.format for a in only] == ["sigstore-bundle"]
    assert any("artifactType=" in str(r.url) for r in fake.matching("GET", path="/referrers/"))


def test_tag_fallback_is_written_and_read_when_the_api_is_missing(keys: dict[str, Any]) -> None:
    fake = FakeRegistry(referrers=False)
    index, imgs = _image(fake)
    with _session(fake) as s:
        res = attest_image(s, _ref(fake), {"a": 1}, "custom", keys["privA"], "both", None)
        attest_image(s, _ref(fake), {"b": 2}, "https://example.com/p/v1", keys["privA"], "referrers", None)
    assert res.items[1].referrers_tag == c.tag_for(index)
    tag_index = json.loads(fake.manifest(REPO, c.tag_for(index))[0])  # type: ignore[index]
    assert [m["artifactType"] for m in tag_index["manifests"]] == [c.SIGSTORE_BUNDLE_03] * 2
    assert tag_index["manifests"][0]["annotations"][c.BUNDLE_PREDICATE_ANNOTATION] == c.COSIGN_CUSTOM
    result = _list(fake, keys=[keys["A"]])
    assert result.referrers == "tag-fallback"
    got = [(a.source, a.predicate_type, a.trust.split("=")[0]) for a in result.subject(index).attachments]
    assert got == [
        ("cosign-tag", c.COSIGN_CUSTOM, "signed:key"),
        ("oci-referrers-tag", c.COSIGN_CUSTOM, "signed:key"),
        ("oci-referrers-tag", "https://example.com/p/v1", "signed:key"),
    ]
    assert result.subject(imgs["amd"].digest).attachments == []


def test_signatures_are_appended_and_labelled_per_key(fake: FakeRegistry, keys: dict[str, Any]) -> None:
    index, imgs = _image(fake)
    store = artifacts.FakeStore(fake, REPO)
    artifacts.write_signature(store, index, keys["b"], docker_reference=f"{fake.host}/{REPO}")
    with _session(fake) as s:
        pushed = sign_image(s, _ref(fake), keys["privA"])
        again = sign_image(s, _ref(fake), keys["privA"])  # the same signature is not added twice
    assert pushed.items[0].layers_in_manifest == 2 and again.items[0].layers_in_manifest == 2
    sigs = _list(fake, keys=[keys["A"]]).subject(index).attachments
    assert [a.trust for a in sigs] == ["signature-invalid", f"signed:key={keys['A'].fingerprint}"]
    assert "does not verify with the given key" in sigs[0].problems[0]
    both = _list(fake, keys=[keys["A"], keys["B"]]).subject(index).attachments
    assert [a.signer for a in both] == [keys["B"].fingerprint, keys["A"].fingerprint]
    nokeys = _list(fake).subject(index).attachments
    assert {a.trust for a in nokeys} == {"signed-unverified"}
    assert [a.problems for a in nokeys] == [
        ["signature not checked: no --key was given (pass the signer's public key)"]
    ] * 2
    assert all(a.signed_reference == f"{fake.host}/{REPO}" for a in nokeys)
    # per-platform signing goes to the platform's tag
    with _session(fake) as s:
        plat = sign_image(
            s,
            _ref(fake),
            keys["privA"],
            platforms=[PlatformSpec.parse("linux/arm64")],
        )
    assert [i.subject for i in plat.items] == [imgs["arm"].digest]


def test_tampered_mismatched_and_attached_sbom(fake: FakeRegistry, keys: dict[str, Any]) -> None:
    index, imgs = _image(fake)
    amd, arm = imgs["amd"].digest, imgs["arm"].digest
    store = artifacts.FakeStore(fake, REPO)
    artifacts.write_signature(store, amd, keys["a"], tamper=True)
    artifacts.write_signature(store, arm, keys["a"], payload_digest=amd)
    stmt = artifacts.statement(amd, c.SLSA_V1, {"x": 1})
    artifacts.write_attestation(store, arm, stmt, keys["a"], c.SLSA_V1)
    artifacts.write_attestation(store, amd, artifacts.statement(amd, c.SPDX, {"s": 1}), keys["a"], c.SPDX, tamper=True)
    artifacts.write_sbom(store, index, b'{"bomFormat":"CycloneDX"}')
    result = _list(fake, keys=[keys["A"]])
    sbom = result.subject(index).attachments
    assert [(a.kind, a.trust, a.predicate_family, a.subject_check.status) for a in sbom] == [
        ("sbom", "unsigned", "cyclonedx", "not-checked")
    ]
    a_amd = result.subject(amd).attachments
    assert [(a.kind, a.trust) for a in a_amd] == [
        ("signature", "signature-invalid"),
        ("attestation", "signature-invalid"),
    ]
    a_arm = result.subject(arm).attachments
    assert [(a.kind, a.trust, a.subject_check.status) for a in a_arm] == [
        ("signature", f"signed:key={keys['A'].fingerprint}", "mismatch"),
        ("attestation", f"signed:key={keys['A'].fingerprint}", "mismatch"),
    ]
    assert a_arm[0].subject_check.found == [amd]
    with _session(fake) as s:
        v = verify_image(s, _ref(fake), [keys["A"]])
    assert not v.passed
    reasons = {x.platform or x.kind: " | ".join(x.reasons) for x in v.subjects}
    assert reasons["index"].startswith("no signature found (1 unsigned item(s) only)")
    assert "signature-invalid" in reasons["linux/amd64"] and "payload was altered" in reasons["linux/amd64"]
    assert "subject mismatch" in reasons["linux/arm64/v8"] and amd in reasons["linux/arm64/v8"]
    # once the index is signed every platform passes through it, but the text still points at the bad items
    with _session(fake) as s:
        sign_image(s, _ref(fake), keys["privA"])
        v = verify_image(s, _ref(fake), [keys["A"]])
    assert v.passed
    text = "\n".join(render_verify(v))
    assert text.count("warning: signature at tag ") == 2 and text.count("warning: attestation at tag ") == 2
    assert f"warning: signature at tag {c.tag_for(amd)}.sig: signature-invalid" in text
    assert f"warning: attestation at tag {c.tag_for(arm)}.att: subject mismatch" in text


def test_keyless_bundles(fake: FakeRegistry, keys: dict[str, Any]) -> None:
    index, _ = _image(fake)
    key = keys["a"]
    cert = crypto.fulcio_like_cert(key, "dev@example.com", "https://accounts.example.com")
    stmt = artifacts.statement(index, c.SLSA_V1, {"x": 1}, v1=True)
    store = artifacts.FakeStore(fake, REPO)
    artifacts.write_referrer(store, _subject_desc(fake, index), artifacts.bundle_with_cert(stmt, key, cert))
    artifacts.write_referrer(
        store, _subject_desc(fake, index), artifacts.bundle_with_cert(stmt, key, cert, tamper=True)
    )
    items = _list(fake, keys=[keys["A"]]).subject(index).attachments
    assert sorted((a.trust, a.signer, a.signer_issuer) for a in items) == [
        ("keyless-unverified", "dev@example.com", "https://accounts.example.com"),
        ("signature-invalid", "dev@example.com", "https://accounts.example.com"),
    ]
    import sigstore

    root = Path(sigstore.__file__).parent / "_store" / "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev" / "trusted_root.json"
    policy = KeylessPolicy(root, "dev@example.com", "https://accounts.example.com")
    verified = _list(fake, keyless=policy).subject(index).attachments
    assert [a.trust for a in verified] == ["signature-invalid", "signature-invalid"]
    # no transparency-log entry: checked from the specs (attest/bundle_verify.py), and no verified time is found
    assert "verification failed (timestamp-only bundle" in verified[0].problems[0]
    with _session(fake) as s:
        v = verify_image(s, _ref(fake), [], keyless=policy)
    assert not v.passed


def test_buildkit_oci_artifact_variant_and_wrong_statement_subject(fake: FakeRegistry) -> None:
    amd = fake.put_image(REPO, layers=[b"amd"], architecture="amd64")
    good = artifacts.statement(amd.digest, c.SLSA_V02, {"builder": {"id": "b"}, "buildType": "t"})
    wrong = artifacts.statement("sha256:" + "0" * 64, c.SPDX, {"spdxVersion": "SPDX-2.3"})
    store = artifacts.FakeStore(fake, REPO)
    layers = [
        artifacts.desc(artifacts.IN_TOTO, good, {c.IN_TOTO_PREDICATE_ANNOTATION: c.SLSA_V02}),
        artifacts.desc(artifacts.IN_TOTO, wrong, {c.IN_TOTO_PREDICATE_ANNOTATION: c.SPDX}),
    ]
    for blob in (good, wrong, b"{}"):
        store.put_blob(blob)
    manifest = artifacts.cjson(
        {
            "schemaVersion": 2,
            "mediaType": artifacts.OCI_MANIFEST,
            "artifactType": c.DOCKER_ATTESTATION_MANIFEST,
            "config": artifacts.desc(artifacts.OCI_EMPTY, b"{}"),
            "layers": layers,
            "subject": {"mediaType": artifacts.OCI_MANIFEST, "digest": amd.digest, "size": amd.size},
        }
    )
    att = store.put_manifest(manifest, artifacts.OCI_MANIFEST, artifacts.sha256(manifest))
    fake.put_manifest(
        REPO,
        {
            "schemaVersion": 2,
            "mediaType": artifacts.OCI_INDEX,
            "manifests": [
                {"mediaType": artifacts.OCI_MANIFEST, "digest": amd.digest, "size": amd.size,
                 "platform": {"os": "linux", "architecture": "amd64"}},
                {"mediaType": artifacts.OCI_MANIFEST, "digest": att, "size": len(manifest),
                 "artifactType": c.DOCKER_ATTESTATION_MANIFEST,
                 "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                                 "vnd.docker.reference.digest": amd.digest},
                 "platform": {"os": "unknown", "architecture": "unknown"}},
            ],
        },
        tag="v1",
    )  # fmt: skip
    result = _list(fake)
    assert [s.platform or s.kind for s in result.subjects] == ["index", "linux/amd64"]
    items = result.subject(amd.digest).attachments
    assert [(a.source, a.predicate_type, a.trust, a.subject_check.status) for a in items] == [
        ("buildkit-index", c.SLSA_V02, "unsigned", "match"),
        ("buildkit-index", c.SPDX, "unsigned", "mismatch"),
    ]
    assert items[0].provenance is not None and items[0].provenance.builder_id == "b"


def test_push_needs_a_registry(tmp_path: Path, keys: dict[str, Any]) -> None:
    (tmp_path / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (tmp_path / "index.json").write_text('{"schemaVersion":2,"manifests":[]}')
    with Session() as s, pytest.raises(UsageError, match="not a registry reference"):
        sign_image(s, str(tmp_path), keys["privA"])


def test_private_key_is_not_in_results(fake: FakeRegistry, keys: dict[str, Any]) -> None:
    _image(fake)
    priv: PrivateKey = keys["privA"]
    with _session(fake) as s:
        res = attest_image(s, _ref(fake), {"a": 1}, "custom", priv, "tag")
    text = res.model_dump_json()
    assert "PRIVATE" not in text and res.key == keys["A"].fingerprint


def test_sign_and_attest_default_to_the_index_and_say_so(fake: FakeRegistry, keys: dict[str, Any]) -> None:
    """Without --platform only the index is signed; the help must not claim "all platforms"."""
    from click.testing import CliRunner

    from provenant.cli.attest_cmds import attest_cmd, sign_cmd

    index, _ = _image(fake)
    with _session(fake) as s:
        res = sign_image(s, _ref(fake), keys["privA"])
    assert [i.subject for i in res.items] == [index]
    for cmd in (sign_cmd, attest_cmd):
        text = " ".join(CliRunner().invoke(cmd, ["--help"]).output.split())
        assert "default: all platforms" not in text
        assert "default: the image REF names (the index of a multi-arch tag)" in text


def test_verify_with_type_names_the_missing_predicate_type(fake: FakeRegistry, keys: dict[str, Any]) -> None:
    """Per-platform SBOM attestations, a signed index: --type spdx fails the index with the documented reason."""
    _, digests = _image(fake)
    with _session(fake) as s:
        sign_image(s, _ref(fake), keys["privA"])
        attest_image(
            s,
            _ref(fake),
            {"spdxVersion": "SPDX-2.3"},
            "spdx",
            keys["privA"],
            "tag",
            [PlatformSpec.parse("linux/amd64")],
        )
        v = verify_image(s, _ref(fake), [keys["A"]], predicate_type=c.SPDX)
        only_amd = verify_image(
            s, _ref(fake), [keys["A"]], predicate_type=c.SPDX, platforms=[PlatformSpec.parse("linux/amd64")]
        )
    verdicts = {x.platform or x.kind: x for x in v.subjects}
    assert {k: x.passed for k, x in verdicts.items()} == {"index": False, "linux/amd64": True, "linux/arm64/v8": False}
    index_reasons = verdicts["index"].reasons
    assert index_reasons[0] == f"no signed attestation of predicate type {c.SPDX}"
    assert "not a signature" in index_reasons[1] and "predicate type is None" not in " ".join(index_reasons)
    assert "--platform" in index_reasons[-1]
    assert verdicts["linux/arm64/v8"].reasons == [
        f"no signed attestation of predicate type {c.SPDX} (nothing attached)"
    ]
    assert only_amd.passed and [x.digest for x in only_amd.subjects] == [digests["amd"].digest]


def test_a_referrers_tag_index_longer_than_the_referrers_limit_is_refused_unwalked() -> None:
    from provenant import limits as limits_mod
    from provenant.limits import LimitExceededError, Limits
    from tests.fakeregistry import OCI_INDEX, OCI_MANIFEST, sha256

    fake = FakeRegistry(referrers=False)
    img = fake.put_image(REPO, tag="v1", layers=[b"l"])
    entries = [{"mediaType": OCI_MANIFEST, "digest": sha256(str(i).encode()), "size": 100} for i in range(4)]
    fake.put_manifest(
        REPO, {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}, tag=c.tag_for(img.digest)
    )
    limits_mod.activate(Limits(referrers=3), start_deadline=False)
    try:
        with pytest.raises(LimitExceededError, match="4 manifests listed: over the referrers limit of 3"):
            _list(fake)
    finally:
        limits_mod.reset()
    assert not [r for r in fake.requests if any(e["digest"] in str(r.url) for e in entries)]
