"""``attest.evaluate``: each attached format read, its signature judged and its subject checked, field by field.

Items are built as cosign, BuildKit and Sigstore write them (tests/attestdata); sigstore-python's verification
(``verify_bundle``) is replaced by a recorder where the keyless path is under test, as the real one needs a
Fulcio/Rekor-signed bundle.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import load_der_x509_certificate

from provenant.attest import constants as c
from provenant.attest.discover import Found
from provenant.attest.evaluate import Attachment, Trust, evaluate
from provenant.attest.keyless import KeylessPolicy
from provenant.attest.keys import PublicKey
from tests.attestdata import artifacts, crypto

AMD, ARM = "sha256:" + "a" * 64, "sha256:" + "b" * 64
CONTAINER = "sha256:" + "c" * 64
ID, ISSUER = "dev@example.com", "https://accounts.example.com"
NOTE_NO_KEY = "not checked: no --key was given (pass the signer's public key)"


@pytest.fixture(scope="module")
def k() -> dict[str, Any]:
    a, b, d = crypto.new_key(), crypto.new_key(), crypto.new_key()
    cert = crypto.fulcio_like_cert(a, ID, ISSUER)
    return {
        "a": a,
        "A": PublicKey.from_pem(crypto.public_pem(a), "a.pub"),
        "B": PublicKey.from_pem(crypto.public_pem(b), "b.pub"),
        "D": PublicKey.from_pem(crypto.public_pem(d), "d.pub"),
        "cert": cert,
        "cert_pem": load_der_x509_certificate(cert).public_bytes(serialization.Encoding.PEM).decode(),
    }


def found(fmt: str, data: bytes | None, media_type: str = "m", subject: str = AMD, **kw: Any) -> Found:
    return Found(
        subject=subject,
        source="cosign-tag",
        location="tag x.sig",
        container=CONTAINER,
        format=fmt,  # type: ignore[arg-type]
        media_type=media_type,
        data=data,
        **kw,
    )


def pick(a: Attachment) -> dict[str, Any]:
    return {
        "kind": a.kind,
        "trust": a.trust,
        "signer": a.signer,
        "signer_issuer": a.signer_issuer,
        "subject": (a.subject_check.status, a.subject_check.found, a.subject_check.detail),
        "problems": a.problems,
        "error": a.error,
    }


def stmt(subject: str = AMD, predicate_type: str = c.SPDX, v1: bool = True) -> bytes:
    return artifacts.statement(subject, predicate_type, {"x": 1}, v1=v1)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- the fields every attachment carries ---------------------------------------------------------------------


def test_an_unreadable_item_keeps_its_error_and_problems() -> None:
    a = evaluate(found("dsse", None, error="blob missing", problems=["listed twice"]), Trust())
    assert (a.kind, a.format, a.source, a.location, a.container_digest, a.media_type) == (
        "other",
        "dsse",
        "cosign-tag",
        "tag x.sig",
        CONTAINER,
        "m",
    )
    assert (a.trust, a.error, a.problems) == ("unreadable", "blob missing", ["listed twice"])
    assert (a.subject_check.status, a.subject_check.expected) == ("not-checked", AMD)
    # Data without error is read; an error with data is still unreadable.
    assert evaluate(found("in-toto", b"{}", error="late"), Trust()).trust == "unreadable"


def test_sbom_and_unknown_items() -> None:
    a = evaluate(found("sbom", b"{}", media_type="application/vnd.cyclonedx+json"), Trust())
    assert (a.kind, a.trust, a.predicate_family) == ("sbom", "unsigned", "cyclonedx")
    assert a.subject_check.detail == "an attached SBOM names no digest; only its tag or referrer binds it"
    other = evaluate(found("unknown", b"x", media_type="application/octet-stream"), Trust())
    assert pick(other) == {
        "kind": "other",
        "trust": "unsigned",
        "signer": None,
        "signer_issuer": None,
        "subject": ("not-checked", [], None),
        "problems": [],
        "error": None,
    }
    notation = evaluate(found("unknown", b"x", media_type="application/jose+json"), Trust())
    assert (notation.kind, notation.trust, notation.problems) == (
        "signature",
        "signed-unverified",
        ["Notary Project signatures are listed but not verified by provenant"],
    )
    assert evaluate(found("unknown", b"x", media_type="application/cose"), Trust()).kind == "signature"


# -- in-toto statements ------------------------------------------------------------------------------------


def test_a_plain_statement() -> None:
    a = evaluate(found("in-toto", stmt()), Trust())
    assert pick(a) == {
        "kind": "attestation",
        "trust": "unsigned",
        "signer": None,
        "signer_issuer": None,
        "subject": ("match", [AMD], None),
        "problems": [],
        "error": None,
    }
    assert (a.statement_type, a.predicate_type, a.predicate_family) == ("v1", c.SPDX, "spdx")
    old = evaluate(found("in-toto", stmt(predicate_type=c.CYCLONEDX, v1=False, subject=ARM)), Trust())
    assert (old.statement_type, old.predicate_family) == ("v0.1", "cyclonedx")
    assert (old.subject_check.status, old.subject_check.detail) == ("mismatch", f"it is about {ARM}, not {AMD}")


def test_a_statement_about_other_digests_names_them_all() -> None:
    data = artifacts.cjson(
        {
            "_type": c.STATEMENT_V1,
            "subject": [{"name": "a", "digest": {"sha256": "b" * 64}}, {"name": "c", "digest": {"sha256": "d" * 64}}],
            "predicateType": c.SPDX,
            "predicate": {"spdxVersion": "SPDX-2.3"},
        }
    )
    a = evaluate(found("in-toto", data), Trust())
    assert a.subject_check.detail == f"it is about {ARM}, sha256:{'d' * 64}, not {AMD}"


def test_a_cosign_sign_statement_is_a_signature() -> None:
    a = evaluate(found("in-toto", stmt(predicate_type="https://sigstore.dev/cosign/sign/v1")), Trust())
    assert a.kind == "signature"


def test_annotations_that_disagree_with_the_statement() -> None:
    keys = (c.IN_TOTO_PREDICATE_ANNOTATION, c.COSIGN_PREDICATE_ANNOTATION, c.BUNDLE_PREDICATE_ANNOTATION)
    for key in keys:
        a = evaluate(found("in-toto", stmt(), annotations={key: c.CYCLONEDX}), Trust())
        assert a.problems == [f"annotation {key} says {c.CYCLONEDX}, but the statement's predicateType is {c.SPDX}"]
        same = evaluate(found("in-toto", stmt(), annotations={key: c.SPDX, "other": c.CYCLONEDX}), Trust())
        assert same.problems == []
    empty = evaluate(found("in-toto", stmt(), annotations={c.COSIGN_PREDICATE_ANNOTATION: ""}), Trust())
    assert empty.problems == []


def test_a_statement_that_does_not_parse_names_what_it_is() -> None:
    a = evaluate(found("in-toto", b'{"_type": "nope"}'), Trust())
    assert (a.kind, a.trust, a.error) == ("attestation", "unsigned", None)
    assert len(a.problems) == 1 and a.problems[0].startswith("in-toto statement")
    assert a.subject_check.status == "not-checked"


def test_a_bad_provenance_predicate_is_a_problem() -> None:
    data = artifacts.statement(AMD, c.SLSA_V1, {"buildDefinition": "not an object"}, v1=True)
    a = evaluate(found("in-toto", data), Trust())
    assert [p.split(":")[0] for p in a.problems] == ["provenance predicate"]
    assert a.provenance is None


# -- DSSE envelopes ----------------------------------------------------------------------------------------


def test_dsse_signed_by_a_given_key(k: dict[str, Any]) -> None:
    env = artifacts.cjson(artifacts.envelope(stmt(), k["a"]))
    a = evaluate(found("dsse", env), Trust((k["B"], k["A"])))
    assert pick(a) == {
        "kind": "attestation",
        "trust": f"signed:key={k['A'].fingerprint}",
        "signer": k["A"].fingerprint,
        "signer_issuer": None,
        "subject": ("match", [AMD], None),
        "problems": [],
        "error": None,
    }
    assert a.predicate_type == c.SPDX and a.verified


def test_dsse_without_keys_or_with_other_keys(k: dict[str, Any]) -> None:
    env = artifacts.cjson(artifacts.envelope(stmt(), k["a"]))
    none = evaluate(found("dsse", env), Trust())
    assert (none.trust, none.signer, none.problems) == ("signed-unverified", None, [f"DSSE envelope {NOTE_NO_KEY}"])
    one = evaluate(found("dsse", env), Trust((k["B"],)))
    assert (one.trust, one.problems) == (
        "signature-invalid",
        [
            f"DSSE envelope does not verify with the given key ({k['B'].fingerprint}): "
            "signed by another key, or the payload was altered"
        ],
    )
    two = evaluate(found("dsse", env), Trust((k["B"], k["D"])))
    assert two.problems == [
        f"DSSE envelope does not verify with any of the 2 given keys ({k['B'].fingerprint}, {k['D'].fingerprint}): "
        "signed by another key, or the payload was altered"
    ]


def test_dsse_with_another_payload_type_or_a_bad_payload(k: dict[str, Any]) -> None:
    env = artifacts.envelope(stmt(), k["a"])
    env["payloadType"] = "text/plain"
    a = evaluate(found("dsse", artifacts.cjson(env)), Trust((k["A"],)))
    assert a.problems[0] == f"DSSE envelope has payloadType 'text/plain', expected {c.IN_TOTO}"
    bad = evaluate(found("dsse", artifacts.cjson(artifacts.envelope(b'{"x": 1}', k["a"]))), Trust((k["A"],)))
    assert bad.trust == f"signed:key={k['A'].fingerprint}"
    assert len(bad.problems) == 1 and bad.problems[0].startswith("DSSE envelope payload")


def test_a_dsse_envelope_that_does_not_parse(k: dict[str, Any]) -> None:
    a = evaluate(found("dsse", b"[1]"), Trust((k["A"],)))
    assert (a.kind, a.trust) == ("attestation", "unreadable")
    assert a.error is not None and a.error.startswith("DSSE envelope")


# -- cosign simple signing ---------------------------------------------------------------------------------


def _simple(k: dict[str, Any], *, digest: str = AMD, cert: bool = False, tamper: bool = False) -> Found:
    payload = artifacts.simple_signing_payload("example/app", digest)
    signature = crypto.sign(k["a"], payload)
    if tamper:
        payload = payload.replace(b"example/app", b"example/apq")
    ann = {c.COSIGN_SIGNATURE_ANNOTATION: b64(signature)}
    if cert:
        ann[c.COSIGN_CERTIFICATE_ANNOTATION] = k["cert_pem"]
    return found("simplesigning", payload, annotations=ann)


def test_simple_signing_with_a_key(k: dict[str, Any]) -> None:
    a = evaluate(_simple(k), Trust((k["A"],)))
    assert pick(a) == {
        "kind": "signature",
        "trust": f"signed:key={k['A'].fingerprint}",
        "signer": k["A"].fingerprint,
        "signer_issuer": None,
        "subject": ("match", [AMD], None),
        "problems": [],
        "error": None,
    }
    assert a.signed_reference == "example/app"
    other = evaluate(_simple(k, digest=ARM), Trust())
    assert (other.trust, other.problems) == ("signed-unverified", [f"signature {NOTE_NO_KEY}"])
    assert (other.subject_check.status, other.subject_check.detail) == ("mismatch", f"it is about {ARM}, not {AMD}")


def test_simple_signing_with_its_certificate(k: dict[str, Any]) -> None:
    a = evaluate(_simple(k, cert=True), Trust((k["B"],)))
    assert (a.trust, a.signer, a.signer_issuer) == ("keyless-unverified", ID, ISSUER)
    assert a.problems == [
        f"signature is signed by a certificate for {ID} (issuer {ISSUER}); "
        "not trusted without --trusted-root, --certificate-identity and --certificate-oidc-issuer"
    ]
    altered = evaluate(_simple(k, cert=True, tamper=True), Trust())
    assert (altered.trust, altered.signer, altered.signer_issuer, altered.problems) == (
        "signature-invalid",
        ID,
        ISSUER,
        ["signature does not match the key of its own certificate: the payload or signature was altered"],
    )
    # A given key that verifies wins over the certificate.
    assert evaluate(_simple(k, cert=True), Trust((k["A"],))).trust == f"signed:key={k['A'].fingerprint}"


def test_a_certificate_without_identity_is_shown_as_question_marks(k: dict[str, Any]) -> None:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "x")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(k["a"].public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(minutes=10))
        .sign(k["a"], hashes.SHA256())
    )
    item = _simple(k)
    item.annotations[c.COSIGN_CERTIFICATE_ANNOTATION] = cert.public_bytes(serialization.Encoding.PEM).decode()
    a = evaluate(item, Trust())
    assert (a.trust, a.signer, a.signer_issuer) == ("keyless-unverified", None, None)
    assert a.problems[0].startswith("signature is signed by a certificate for ? (issuer ?); not trusted")


def test_simple_signing_without_a_signature_or_with_a_bad_one(k: dict[str, Any]) -> None:
    item = _simple(k)
    item.annotations.clear()
    a = evaluate(item, Trust((k["A"],)))
    assert (a.kind, a.trust, a.problems, a.error) == (
        "signature",
        "signature-invalid",
        [f"no {c.COSIGN_SIGNATURE_ANNOTATION} annotation on the signature layer"],
        None,
    )
    assert a.subject_check.status == "match"
    item.annotations[c.COSIGN_SIGNATURE_ANNOTATION] = "%%%"
    bad = evaluate(item, Trust((k["A"],)))
    assert (bad.trust, bad.error is not None and bad.error.startswith("cosign signature annotation")) == (
        "unreadable",
        True,
    )
    item.annotations[c.COSIGN_CERTIFICATE_ANNOTATION] = "not a certificate"
    item.annotations[c.COSIGN_SIGNATURE_ANNOTATION] = b64(b"sig")
    cert = evaluate(item, Trust())
    assert cert.error is not None and cert.error.startswith("signature certificate")


def test_simple_signing_payload_checks(k: dict[str, Any]) -> None:
    payload = json.dumps(
        {"critical": {"image": {"docker-manifest-digest": AMD}, "type": "something else"}, "optional": None}
    ).encode()
    item = found(
        "simplesigning", payload, annotations={c.COSIGN_SIGNATURE_ANNOTATION: b64(crypto.sign(k["a"], payload))}
    )
    a = evaluate(item, Trust((k["A"],)))
    assert a.problems == [f"critical.type is 'something else', expected {c.SIMPLESIGNING_TYPE!r}"]
    assert (a.signed_reference, a.subject_check.status) == (None, "match")
    # A payload that does not parse: signature judged first, then the error; the trust label stays.
    junk = found("simplesigning", b"[]", annotations={c.COSIGN_SIGNATURE_ANNOTATION: b64(crypto.sign(k["a"], b"[]"))})
    j = evaluate(junk, Trust((k["A"],)))
    assert j.trust == f"signed:key={k['A'].fingerprint}"
    assert j.error is not None and j.error.startswith("simple-signing payload")


# -- Sigstore bundles --------------------------------------------------------------------------------------


class Recorder:
    """Stands in for sigstore-python's verification."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, reason: str | None) -> None:
        self.calls: list[tuple[bytes, KeylessPolicy, bytes | None]] = []
        self.reason = reason
        monkeypatch.setattr("provenant.attest.evaluate.verify_bundle", self)

    def __call__(self, data: bytes, policy: KeylessPolicy, *, artifact_digest: bytes | None = None) -> str | None:
        self.calls.append((data, policy, artifact_digest))
        return self.reason


POLICY = KeylessPolicy(Path("/nonexistent/root.json"), ID, ISSUER)


def test_a_dsse_bundle_with_a_key(k: dict[str, Any]) -> None:
    data = artifacts.bundle_with_key(stmt(), k["a"])
    a = evaluate(found("sigstore-bundle", data), Trust((k["A"],)))
    assert (a.kind, a.trust, a.signer, a.predicate_type) == (
        "attestation",
        f"signed:key={k['A'].fingerprint}",
        k["A"].fingerprint,
        c.SPDX,
    )
    none = evaluate(found("sigstore-bundle", data), Trust())
    assert none.problems == [f"bundle DSSE envelope {NOTE_NO_KEY}"]


def test_a_dsse_bundle_with_a_certificate(k: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    data = artifacts.bundle_with_cert(stmt(), k["a"], k["cert"])
    a = evaluate(found("sigstore-bundle", data), Trust((k["A"],)))
    assert (a.kind, a.trust, a.signer, a.signer_issuer) == ("attestation", "keyless-unverified", ID, ISSUER)
    assert a.problems[0].startswith(f"bundle DSSE envelope is signed by a certificate for {ID}")
    altered = evaluate(
        found("sigstore-bundle", artifacts.bundle_with_cert(stmt(), k["a"], k["cert"], tamper=True)), Trust()
    )
    assert altered.trust == "signature-invalid"
    assert altered.problems[0] == (
        "bundle DSSE envelope does not match the key of its own certificate: the payload or signature was altered"
    )
    ok = Recorder(monkeypatch, None)
    v = evaluate(found("sigstore-bundle", data), Trust((), POLICY))
    assert ok.calls == [(data, POLICY, None)]
    assert (v.trust, v.signer, v.signer_issuer, v.problems, v.predicate_type) == (
        f"signed:keyless={ID}",
        ID,
        ISSUER,
        [],
        c.SPDX,
    )
    assert v.verified
    Recorder(monkeypatch, "identity mismatch")
    bad = evaluate(found("sigstore-bundle", data), Trust((), POLICY))
    assert (bad.trust, bad.signer, bad.signer_issuer, bad.problems) == (
        "signature-invalid",
        ID,
        ISSUER,
        ["identity mismatch"],
    )
    # A bad statement inside a keyless bundle is named as the bundle's payload.
    junk = artifacts.bundle_with_cert(b'{"x": 1}', k["a"], k["cert"])
    j = evaluate(found("sigstore-bundle", junk), Trust((), POLICY))
    assert len(j.problems) == 2 and j.problems[1].startswith("bundle DSSE payload")
    assert j.kind == "attestation"


def _message_bundle(k: dict[str, Any], *, cert: bool = False, digest: bool = True) -> bytes:
    doc = json.loads(artifacts.message_signature_bundle(AMD, k["a"]))
    if cert:
        doc["verificationMaterial"] = {"certificate": {"rawBytes": b64(k["cert"])}, "tlogEntries": []}
    if not digest:
        del doc["messageSignature"]["messageDigest"]
    return artifacts.cjson(doc)


def test_a_message_signature_bundle_with_a_key(k: dict[str, Any]) -> None:
    a = evaluate(found("sigstore-bundle", _message_bundle(k)), Trust((k["B"], k["A"])))
    assert pick(a) == {
        "kind": "signature",
        "trust": f"signed:key={k['A'].fingerprint}",
        "signer": k["A"].fingerprint,
        "signer_issuer": None,
        "subject": ("match", [AMD], None),
        "problems": [],
        "error": None,
    }
    other = evaluate(found("sigstore-bundle", _message_bundle(k), subject=ARM), Trust((k["A"],)))
    assert (other.subject_check.status, other.subject_check.found) == ("mismatch", [AMD])
    assert (other.trust, other.verified) == (f"signed:key={k['A'].fingerprint}", False)
    wrong = evaluate(found("sigstore-bundle", _message_bundle(k)), Trust((k["B"],)))
    assert wrong.problems[0].startswith("message signature does not verify with the given key")
    none = evaluate(found("sigstore-bundle", _message_bundle(k)), Trust())
    assert none.problems == [f"message signature {NOTE_NO_KEY}"]


def test_a_message_signature_without_a_digest(k: dict[str, Any]) -> None:
    a = evaluate(found("sigstore-bundle", _message_bundle(k, digest=False)), Trust((k["A"],)))
    assert (a.kind, a.trust, a.problems) == (
        "signature",
        "signature-invalid",
        ["message signature without a message digest cannot be checked"],
    )
    assert (a.subject_check.status, a.subject_check.found, a.subject_check.detail) == (
        "mismatch",
        [],
        f"it is about no digest, not {AMD}",
    )


def test_a_message_signature_with_a_certificate(k: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    data = _message_bundle(k, cert=True)
    a = evaluate(found("sigstore-bundle", data), Trust((k["A"],)))
    assert (a.trust, a.signer, a.signer_issuer) == ("keyless-unverified", ID, ISSUER)
    assert a.problems[0].startswith(f"message signature is signed by a certificate for {ID}")
    wrong = evaluate(found("sigstore-bundle", _message_bundle({**k, "a": crypto.new_key()}, cert=True)), Trust())
    assert wrong.trust == "signature-invalid"
    assert wrong.problems == [
        "message signature does not match the key of its own certificate: the payload or signature was altered"
    ]
    rec = Recorder(monkeypatch, None)
    v = evaluate(found("sigstore-bundle", data), Trust((), POLICY))
    assert rec.calls == [(data, POLICY, bytes.fromhex("a" * 64))]
    assert (v.trust, v.signer, v.signer_issuer, v.subject_check.status) == (f"signed:keyless={ID}", ID, ISSUER, "match")
    # Keyless without a certificate in the bundle is judged by the given keys.
    plain = evaluate(found("sigstore-bundle", _message_bundle(k)), Trust((k["A"],), POLICY))
    assert plain.trust == f"signed:key={k['A'].fingerprint}" and len(rec.calls) == 1


def test_bundles_that_do_not_parse(k: dict[str, Any]) -> None:
    a = evaluate(found("sigstore-bundle", b"{}"), Trust((k["A"],)))
    assert (a.trust, a.error is not None and a.error.startswith("Sigstore bundle")) == ("unreadable", True)
    doc = json.loads(_message_bundle(k))
    doc["messageSignature"]["signature"] = "%%%"
    sig = evaluate(found("sigstore-bundle", artifacts.cjson(doc)), Trust((k["A"],)))
    assert sig.error is not None and sig.error.startswith("bundle signature")
    doc = json.loads(_message_bundle(k))
    doc["messageSignature"]["messageDigest"]["digest"] = "%%%"
    dig = evaluate(found("sigstore-bundle", artifacts.cjson(doc)), Trust((k["A"],)))
    assert dig.error is not None and dig.error.startswith("bundle message digest")
    doc = json.loads(_message_bundle(k))
    doc["verificationMaterial"] = {"certificate": {"rawBytes": b64(b"not der")}, "tlogEntries": []}
    cert = evaluate(found("sigstore-bundle", artifacts.cjson(doc)), Trust((k["A"],)))
    assert cert.error is not None and cert.error.startswith("bundle certificate")
    env = json.loads(artifacts.bundle_with_cert(stmt(), k["a"], k["cert"]))
    env["dsseEnvelope"]["signatures"][0]["sig"] = "%%%"
    dsse = evaluate(found("sigstore-bundle", artifacts.cjson(env)), Trust())
    assert dsse.error is not None and dsse.error.startswith("DSSE signature")


def test_a_sha512_message_signature(k: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    raw = hashlib.sha512(b"manifest").digest()
    subject = f"sha512:{raw.hex()}"
    sig = k["a"].sign(raw, ec.ECDSA(Prehashed(hashes.SHA512())))
    doc = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": "k"}, "tlogEntries": []},
        "messageSignature": {"messageDigest": {"algorithm": "SHA2_512", "digest": b64(raw)}, "signature": b64(sig)},
    }
    a = evaluate(found("sigstore-bundle", artifacts.cjson(doc), subject=subject), Trust((k["A"],)))
    assert (a.trust, a.subject_check.status, a.subject_check.found) == (
        f"signed:key={k['A'].fingerprint}",
        "match",
        [subject],
    )
    doc["verificationMaterial"] = {"certificate": {"rawBytes": b64(k["cert"])}, "tlogEntries": []}
    cert = evaluate(found("sigstore-bundle", artifacts.cjson(doc), subject=subject), Trust())
    assert cert.trust == "keyless-unverified"
