"""Keyless cosign signatures and attestations (tag-based, with SET), on real artifacts, offline.

The genuine artifacts are `cosign save` layouts of images slsa-github-generator built in GitHub Actions
(slsa-verifier's test data) and a cosign .sig of wolfi-base recorded in Rekor; tampered copies change one
real part each. See tests/data/cosign/SOURCE.md.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography import x509

from provenant.attest.discover import Found
from provenant.attest.evaluate import Trust, evaluate
from provenant.attest.fulcio import load_trust_root, verify_chain
from provenant.attest.identity import Expect, IdentityMatcher, compile_bounded
from provenant.attest.keyless import KeylessPolicy
from provenant.attest.rekor_set import parse_bundle_annotation
from provenant.cli.main import cli
from tests.cosigndata import (
    DATA,
    GENERATOR,
    GITHUB_ISSUER,
    PROD_ROOT,
    STAGING_ROOT,
    V120,
    V210,
    atts_manifest,
    blob,
    copy_layout,
    flip_b64,
    image_digest,
    put_blob,
    rewrite_atts,
)

CERT = "dev.sigstore.cosign/certificate"
BUNDLE = "dev.sigstore.cosign/bundle"
CHAIN = "dev.sigstore.cosign/chain"


def _verify(layout: Path | str, *extra: str, root: Path = PROD_ROOT) -> Any:
    args = ["verify", f"oci:{layout}", "--trusted-root", str(root), *extra]
    return CliRunner().invoke(cli, args)


def _generator(layout: Path | str, *extra: str, root: Path = PROD_ROOT) -> Any:
    return _verify(
        layout,
        "--certificate-identity-regexp",
        GENERATOR,
        "--certificate-oidc-issuer",
        GITHUB_ISSUER,
        *extra,
        root=root,
    )


# -- genuine -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [V120, V210])
def test_a_cosign_save_layout_of_a_generator_image_verifies(name: str) -> None:
    res = _generator(DATA / name)
    assert res.exit_code == 0, res.output
    assert "signer: https://github.com/slsa-framework/slsa-github-generator/.github/workflows/" in res.output
    assert "github-workflow-repository: slsa-framework/example-package" in res.output
    assert "(issuer https://token.actions.githubusercontent.com)" in res.output


def test_github_claims_are_matchable() -> None:
    ok = _generator(DATA / V120, "--certificate-github-workflow-repository", "slsa-framework/example-package")
    assert ok.exit_code == 0, ok.output
    ref = _generator(DATA / V120, "--certificate-github-workflow-ref", "refs/heads/main")
    assert ref.exit_code == 0, ref.output
    bad = _generator(DATA / V120, "--certificate-github-workflow-trigger", "push")
    assert bad.exit_code == 1
    assert "GitHub workflow trigger is workflow_dispatch, not push" in bad.output


def test_without_a_trusted_root_the_att_signer_is_shown_and_no_key_is_not_blamed() -> None:
    res = CliRunner().invoke(cli, ["attestations", f"oci:{DATA / V120}"])
    assert res.exit_code == 0, res.output
    assert "keyless-unverified" in res.output
    assert "signer: https://github.com/slsa-framework/slsa-github-generator/" in res.output
    assert "no --key was given" not in res.output


# -- identity and issuer -----------------------------------------------------------------------------


def test_a_non_matching_identity_regexp_fails_naming_the_mismatch() -> None:
    res = _verify(
        DATA / V120,
        "--certificate-identity-regexp",
        "^https://github.com/sigstore/",
        "--certificate-oidc-issuer",
        GITHUB_ISSUER,
    )
    assert res.exit_code == 1
    assert "identity mismatch: the certificate names https://github.com/slsa-framework/" in res.output
    assert "not /^https://github.com/sigstore//" in res.output


def test_exact_identity_must_be_the_whole_san() -> None:
    res = _verify(
        DATA / V120,
        "--certificate-identity",
        "https://github.com/slsa-framework/slsa-github-generator/",
        "--certificate-oidc-issuer",
        GITHUB_ISSUER,
    )
    assert res.exit_code == 1
    assert "identity mismatch" in res.output


@pytest.mark.parametrize(
    "flags",
    [
        ["--certificate-oidc-issuer", "https://accounts.google.com"],
        ["--certificate-oidc-issuer-regexp", "^https://accounts\\.google\\.com$"],
    ],
)
def test_a_wrong_issuer_fails(flags: list[str]) -> None:
    res = _verify(DATA / V120, "--certificate-identity-regexp", GENERATOR, *flags)
    assert res.exit_code == 1
    assert "issuer is https://token.actions.githubusercontent.com, not" in res.output


def test_issuer_regexp_matches() -> None:
    res = _verify(
        DATA / V120, "--certificate-identity-regexp", GENERATOR, "--certificate-oidc-issuer-regexp", "githubusercontent"
    )
    assert res.exit_code == 0, res.output


def test_a_bad_regexp_is_one_usage_line() -> None:
    res = _verify(DATA / V120, "--certificate-identity-regexp", "(unclosed", "--certificate-oidc-issuer", GITHUB_ISSUER)
    assert res.exit_code == 2
    assert "--certificate-identity-regexp: not a valid regexp" in res.output


# -- tampered copies ---------------------------------------------------------------------------------


def test_wrong_trusted_root_is_rejected() -> None:
    res = _generator(DATA / V120, root=STAGING_ROOT)
    assert res.exit_code == 1
    assert "is not a transparency log of" in res.output


def test_a_flipped_set_byte_is_rejected(tmp_path: Path) -> None:
    layout = copy_layout(V120, tmp_path)

    def change(m: dict[str, Any], _: Path) -> None:
        ann = m["layers"][0]["annotations"]
        doc = json.loads(ann[BUNDLE])
        doc["SignedEntryTimestamp"] = flip_b64(doc["SignedEntryTimestamp"], 20)
        ann[BUNDLE] = json.dumps(doc)

    rewrite_atts(layout, change)
    res = _generator(layout)
    assert res.exit_code == 1
    assert "signed entry timestamp does not verify" in res.output


def test_a_moved_integrated_time_breaks_the_set(tmp_path: Path) -> None:
    layout = copy_layout(V120, tmp_path)

    def change(m: dict[str, Any], _: Path) -> None:
        ann = m["layers"][0]["annotations"]
        doc = json.loads(ann[BUNDLE])
        doc["Payload"]["integratedTime"] += 3600  # after the 10-minute certificate expired
        ann[BUNDLE] = json.dumps(doc)

    rewrite_atts(layout, change)
    res = _generator(layout)
    assert res.exit_code == 1
    assert "signed entry timestamp does not verify" in res.output


def test_a_certificate_expired_at_the_integrated_time_is_rejected() -> None:
    m = atts_manifest(DATA / V120)
    ann = m["layers"][0]["annotations"]
    entry = parse_bundle_annotation(ann[BUNDLE])
    leaf = x509.load_pem_x509_certificate(ann[CERT].encode())
    root = load_trust_root(PROD_ROOT)
    assert verify_chain(leaf, [], root, entry.time) is None
    why = verify_chain(leaf, [], root, entry.time + timedelta(minutes=11))
    assert why is not None and "not valid at the log's integrated time" in why
    wrong = verify_chain(leaf, [], load_trust_root(STAGING_ROOT), entry.time)
    assert wrong is not None and "does not chain to a Fulcio CA" in wrong


def test_a_flipped_signature_byte_is_rejected(tmp_path: Path) -> None:
    layout = copy_layout(V120, tmp_path)

    def change(m: dict[str, Any], lay: Path) -> None:
        layer = m["layers"][0]
        env = json.loads(blob(lay, layer["digest"]))
        env["signatures"][0]["sig"] = flip_b64(env["signatures"][0]["sig"], 30)
        data = json.dumps(env).encode()
        layer["digest"], layer["size"] = put_blob(lay, data), len(data)

    rewrite_atts(layout, change)
    res = _generator(layout)
    assert res.exit_code == 1
    assert "does not match the key of its own certificate" in res.output


def test_another_real_certificate_is_rejected(tmp_path: Path) -> None:
    layout = copy_layout(V120, tmp_path)
    other = atts_manifest(DATA / V210)["layers"][0]["annotations"]

    def change(m: dict[str, Any], _: Path) -> None:
        m["layers"][0]["annotations"][CERT] = other[CERT]

    rewrite_atts(layout, change)
    res = _generator(layout)
    assert res.exit_code == 1
    assert "does not match the key of its own certificate" in res.output


def test_another_real_rekor_entry_is_rejected(tmp_path: Path) -> None:
    """A genuine SET of another entry: the log signed it, but it is not about this attestation."""
    layout = copy_layout(V120, tmp_path)
    other = atts_manifest(DATA / V210)["layers"][0]["annotations"]

    def change(m: dict[str, Any], _: Path) -> None:
        m["layers"][0]["annotations"][BUNDLE] = other[BUNDLE]

    rewrite_atts(layout, change)
    res = _generator(layout)
    assert res.exit_code == 1
    assert "the Rekor entry names another certificate" in res.output


def test_no_rekor_entry_is_rejected(tmp_path: Path) -> None:
    layout = copy_layout(V120, tmp_path)
    rewrite_atts(layout, lambda m, _: m["layers"][0]["annotations"].pop(BUNDLE))
    res = _generator(layout)
    assert res.exit_code == 1
    assert "no Rekor entry" in res.output


def test_an_attestation_about_another_image_is_a_subject_mismatch(tmp_path: Path) -> None:
    """The v1.2.0 attestation (genuine, verifies) placed beside the v2.1.0 image: about another digest."""
    layout = copy_layout(V210, tmp_path)
    foreign = atts_manifest(DATA / V120)
    for layer in [foreign["config"], *foreign["layers"]]:
        put_blob(layout, blob(DATA / V120, layer["digest"]))
    rewrite_atts(layout, lambda m, _: (m.clear(), m.update(foreign)))
    res = _generator(layout)
    assert res.exit_code == 1
    assert "subject mismatch" in res.output
    assert image_digest(DATA / V120) in res.output


# -- layouts: tags and referrers instead of cosign save kinds -------------------------------------------


def test_a_layout_with_a_cosign_att_tag_name_is_discovered(tmp_path: Path) -> None:
    layout = copy_layout(V120, tmp_path)
    doc = json.loads((layout / "index.json").read_text())
    subject = image_digest(layout)
    for e in doc["manifests"]:
        kind = e["annotations"].pop("kind")
        name = "example:v1" if kind.endswith("/image") else f"example:{subject.replace(':', '-')}.att"
        e["annotations"]["org.opencontainers.image.ref.name"] = name
    (layout / "index.json").write_text(json.dumps(doc))
    res = _generator(layout)
    assert res.exit_code == 0, res.output
    assert f"tag {subject.replace(':', '-')}.att" in res.output


def test_a_layout_referrer_with_a_subject_is_discovered(tmp_path: Path) -> None:
    """The same signed layer in an OCI 1.1 referrer manifest (manifests themselves are never signed)."""
    layout = copy_layout(V120, tmp_path)
    subject = image_digest(layout)
    index_doc = json.loads((layout / "index.json").read_text())
    image = next(e for e in index_doc["manifests"] if e["annotations"]["kind"].endswith("/image"))

    def change(m: dict[str, Any], _: Path) -> None:
        m["subject"] = {"mediaType": image["mediaType"], "digest": subject, "size": image["size"]}

    rewrite_atts(layout, change)
    doc = json.loads((layout / "index.json").read_text())
    for e in doc["manifests"]:
        e["annotations"].pop("kind")
    (layout / "index.json").write_text(json.dumps(doc))
    res = _generator(layout)
    assert res.exit_code == 0, res.output
    assert "(layout)" in res.output


# -- a cosign .sig (hashedrekord) ----------------------------------------------------------------------


def _wolfi_found(**change: Any) -> tuple[Found, KeylessPolicy]:
    """The wolfi-base .sig layer as cosign pushed it: payload, signature, certificate and bundle from the
    public Rekor entry quoted in the image's README (the payload is proven by the entry's data.hash)."""
    out = json.loads((DATA / "wolfi-base.cosign-verify.json").read_text())[0]
    bundle = out["optional"]["Bundle"]
    body = json.loads(base64.b64decode(bundle["Payload"]["body"]))
    sig = body["spec"]["signature"]
    ann = {
        "dev.cosignproject.cosign/signature": sig["content"],
        CERT: base64.b64decode(sig["publicKey"]["content"]).decode(),
        BUNDLE: json.dumps(bundle),
    }
    ann.update(change)
    payload = (DATA / "wolfi-base.sig.payload.json").read_bytes()
    digest = out["critical"]["image"]["docker-manifest-digest"]
    found = Found(digest, "cosign-tag", "tag", "x", "simplesigning", "application/vnd.dev.cosign.simplesigning.v1+json")
    found.annotations, found.data = {k: v for k, v in ann.items() if v is not None}, payload
    identity = "https://github.com/chainguard-images/wolfi-base/.github/workflows/release.yaml@refs/heads/main"
    return found, KeylessPolicy(PROD_ROOT, identity, GITHUB_ISSUER)


def test_a_real_keyless_sig_verifies() -> None:
    found, policy = _wolfi_found()
    a = evaluate(found, Trust((), policy))
    assert a.trust == f"signed:keyless={policy.identity}", a.problems
    assert a.verified
    assert a.signer_claims["github-workflow-repository"] == "chainguard-images/wolfi-base"
    assert a.signer_claims["github-workflow-trigger"] == "schedule"


def test_a_real_keyless_sig_with_a_flipped_signature_byte_is_rejected() -> None:
    found, policy = _wolfi_found()
    found.annotations["dev.cosignproject.cosign/signature"] = flip_b64(
        found.annotations["dev.cosignproject.cosign/signature"], 40
    )
    a = evaluate(found, Trust((), policy))
    assert a.trust == "signature-invalid"
    assert "does not match the key of its own certificate" in " ".join(a.problems)


def test_a_real_keyless_sig_on_another_digest_is_a_subject_mismatch() -> None:
    found, policy = _wolfi_found()
    found.subject = "sha256:" + "0" * 64
    a = evaluate(found, Trust((), policy))
    assert a.trust.startswith("signed:keyless=")
    assert a.subject_check.status == "mismatch"
    assert not a.verified


def test_a_real_keyless_sig_regexp_identity_and_github_claims() -> None:
    found, _ = _wolfi_found()
    matcher = IdentityMatcher(
        Expect("wolfi", compile_bounded("^https://github.com/chainguard-images/", "-")),
        Expect(GITHUB_ISSUER),
        {"repository": Expect("chainguard-images/wolfi-base")},
    )
    ok = evaluate(found, Trust((), KeylessPolicy(PROD_ROOT, "wolfi", GITHUB_ISSUER, matcher)))
    assert ok.verified, ok.problems
    wrong = IdentityMatcher(matcher.identity, matcher.issuer, {"repository": Expect("chainguard-images/static")})
    bad = evaluate(found, Trust((), KeylessPolicy(PROD_ROOT, "wolfi", GITHUB_ISSUER, wrong)))
    assert bad.trust == "signature-invalid"
    assert "GitHub workflow repository is chainguard-images/wolfi-base" in " ".join(bad.problems)


def test_a_real_sig_with_the_rekor_entry_of_another_signature_is_rejected() -> None:
    other = atts_manifest(DATA / V120)["layers"][0]["annotations"][BUNDLE]
    found, policy = _wolfi_found(**{BUNDLE: other})
    a = evaluate(found, Trust((), policy))
    assert a.trust == "signature-invalid"
    assert "the Rekor entry names another certificate" in " ".join(a.problems)


def test_a_real_sig_checked_against_the_staging_root_is_rejected() -> None:
    found, _ = _wolfi_found()
    policy = KeylessPolicy(STAGING_ROOT, "x", GITHUB_ISSUER)
    a = evaluate(found, Trust((), policy))
    assert a.trust == "signature-invalid"
    assert "not a transparency log of" in " ".join(a.problems)


# -- the Rekor body comparison, per entry kind ------------------------------------------------------------


def _real_att() -> tuple[bytes, bytes, bytes]:
    """The v1.2.0 attestation: certificate (DER), DSSE payload and envelope bytes."""
    from cryptography.hazmat.primitives.serialization import Encoding

    layer = atts_manifest(DATA / V120)["layers"][0]
    envelope = blob(DATA / V120, layer["digest"])
    payload = base64.b64decode(json.loads(envelope)["payload"])
    cert = x509.load_pem_x509_certificate(layer["annotations"][CERT].encode())
    return cert.public_bytes(Encoding.DER), payload, envelope


def test_intoto_002_body_comparison() -> None:
    """intoto 0.0.2 (no real artifact found): the body is constructed; only the comparison is tested here."""
    import hashlib

    from cryptography.hazmat.primitives.serialization import Encoding

    from provenant.attest.rekor_set import SetError, check_body

    cert_der, payload, envelope = _real_att()
    pem = atts_manifest(DATA / V120)["layers"][0]["annotations"][CERT].encode()
    twice = base64.b64encode(base64.b64encode(pem)).decode()  # 0.0.2 encodes the PEM twice
    body = {
        "apiVersion": "0.0.2",
        "kind": "intoto",
        "spec": {
            "content": {
                "envelope": {"payloadType": "application/vnd.in-toto+json", "signatures": [{"publicKey": twice}]},
                "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
            }
        },
    }
    assert check_body(body, cert_der=cert_der, signature=None, payload=payload, envelope=envelope) == "intoto:0.0.2"
    with pytest.raises(SetError, match="payloadHash differs"):
        check_body(body, cert_der=cert_der, signature=None, payload=payload + b" ", envelope=envelope)
    other_pem = atts_manifest(DATA / V210)["layers"][0]["annotations"][CERT].encode()
    other = x509.load_pem_x509_certificate(other_pem).public_bytes(Encoding.DER)
    with pytest.raises(SetError, match="another certificate"):
        check_body(body, cert_der=other, signature=None, payload=payload, envelope=envelope)


def test_unknown_entry_kinds_are_not_accepted() -> None:
    from provenant.attest.rekor_set import SetError, check_body

    cert_der, payload, _ = _real_att()
    with pytest.raises(SetError, match=r"rekord:0\.0\.1 are not checked"):
        check_body(
            {"kind": "rekord", "apiVersion": "0.0.1", "spec": {}}, cert_der=cert_der, signature=None, payload=payload
        )


def test_a_chain_annotation_that_is_not_pem_is_a_reason(tmp_path: Path) -> None:
    layout = copy_layout(V120, tmp_path)
    rewrite_atts(
        layout, lambda m, _: m["layers"][0]["annotations"].update({CHAIN: "-----BEGIN CERTIFICATE-----\nAAAA"})
    )
    res = _generator(layout)
    assert res.exit_code == 1
    assert "certificate chain annotation:" in res.output
