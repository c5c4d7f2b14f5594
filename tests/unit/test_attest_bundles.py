"""Real Sigstore bundles from public projects (tests/data/bundles/SOURCE.md), genuine and tampered, offline."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from provenant.attest.discover import Found
from provenant.attest.evaluate import Attachment, Trust, evaluate
from provenant.attest.keys import PublicKey
from tests.attestdata import artifacts, crypto

DATA = Path(__file__).parent.parent / "data" / "bundles"
V3_SUBJECT = "sha256:5099b89d7666cc2186cad769ddc262ddc7c335b33f5fe79f9ffe50a01282b23e"


def found(data: bytes, subject: str) -> Found:
    return Found(
        subject=subject,
        source="oci-referrers",
        location="referrer x",
        container="sha256:" + "c" * 64,
        format="sigstore-bundle",
        media_type="application/vnd.dev.sigstore.bundle.v0.3+json",
        data=data,
    )


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_bytes())
    return data


def dump(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()


def flip_sig(doc: dict[str, Any]) -> dict[str, Any]:
    """One byte of the (first) signature flipped."""
    holder = doc["dsseEnvelope"]["signatures"][0] if "dsseEnvelope" in doc else doc["messageSignature"]
    field = "sig" if "dsseEnvelope" in doc else "signature"
    raw = bytearray(base64.b64decode(holder[field]))
    raw[len(raw) // 2] ^= 0x01
    holder[field] = base64.b64encode(bytes(raw)).decode()
    return doc


# -- cosign v3 sign bundle (key) ------------------------------------------------------------------
# No real cosign v3 `sign` bundle with a known source and license is stored anywhere reachable here, so this one is
# built in the test in cosign v3's shape (bundle v0.3, DSSE, in-toto v1 statement, predicateType
# https://sigstore.dev/cosign/sign/v1 and no predicate), signed with a fresh key.


@pytest.fixture(scope="module")
def v3_key() -> Any:
    return crypto.new_key()


def _v3_bundle(key: Any, subject: str = V3_SUBJECT) -> dict[str, Any]:
    stmt = artifacts.cjson(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "example/app", "digest": {"sha256": subject.split(":", 1)[1]}}],
            "predicateType": "https://sigstore.dev/cosign/sign/v1",
        }
    )
    return {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": ""}},
        "dsseEnvelope": artifacts.envelope(stmt, key),
    }


def _v3(key: Any, doc: dict[str, Any], subject: str = V3_SUBJECT) -> Attachment:
    public = PublicKey.from_pem(crypto.public_pem(key), "v3.pub")
    return evaluate(found(dump(doc), subject), Trust((public,)))


def test_cosign_v3_sign_bundle_verifies_on_its_subject(v3_key: Any) -> None:
    a = _v3(v3_key, _v3_bundle(v3_key))
    assert a.error is None, a.error
    assert a.kind == "signature" and a.predicate_type == "https://sigstore.dev/cosign/sign/v1"
    assert a.trust.startswith("signed:key=sha256:") and a.subject_check.status == "match" and a.verified


def test_cosign_v3_sign_bundle_fails_on_another_digest(v3_key: Any) -> None:
    a = _v3(v3_key, _v3_bundle(v3_key), "sha256:" + hashlib.sha256(b"other").hexdigest())
    assert a.trust.startswith("signed:key=") and a.subject_check.status == "mismatch" and not a.verified
    assert V3_SUBJECT in (a.subject_check.detail or "")


def test_cosign_v3_sign_bundle_tampered_is_rejected(v3_key: Any) -> None:
    a = _v3(v3_key, flip_sig(_v3_bundle(v3_key)))
    assert a.trust == "signature-invalid" and not a.verified
    doc = _v3_bundle(v3_key)
    stmt = json.loads(base64.b64decode(doc["dsseEnvelope"]["payload"]))
    stmt["subject"][0]["digest"]["sha256"] = "0" * 64  # subject changed: the signature no longer covers it
    doc["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(stmt).encode()).decode()
    b = _v3(v3_key, doc, "sha256:" + "0" * 64)
    assert b.trust == "signature-invalid" and not b.verified


def test_statement_without_predicate_is_read_and_a_bad_v1_statement_still_refused() -> None:
    from provenant.attest.errors import SignatureFormatError
    from provenant.attest.models import parse_statement

    base = {"_type": "https://in-toto.io/Statement/v1", "subject": [{"digest": {"sha256": "ab" * 32}}]}
    stmt = parse_statement(dump({**base, "predicateType": "https://sigstore.dev/cosign/sign/v1"}), "s")
    assert stmt.predicate is None and stmt.subject_digests() == ["sha256:" + "ab" * 32]
    try:
        parse_statement(dump({**base, "predicateType": ""}), "s")
    except SignatureFormatError as exc:
        assert "Predicate type required" in str(exc)
    else:
        raise AssertionError("an empty predicateType was accepted")


# -- keyless bundles: sigstore-python's path and provenant's spec path ------------------------------

ROOTS = {"prod": "trusted-root-production.json", "staging": "trusted-root-staging.json"}
TSA_ROOT = "staging-with-test-tsa.trusted_root.json"
JS_ID = "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
GHA = "https://token.actions.githubusercontent.com"
JS_SUBJECT = "sha512:" + hashlib.sha512((DATA / "gh-sigstore-js-2.1.0.tgz").read_bytes()).hexdigest()
REUSABLE_ID = (
    "https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml"
    "@09b495c3f12c7881b3cc17209a327792065c1a1d"
)


@dataclass(frozen=True)
class Case:
    """A real bundle, how to read it, and who signed it."""

    bundle: str
    root: str
    identity: str
    issuer: str
    subject: str  # the digest it is attached to: a DSSE subject, or the artifact of a message signature
    edit: Callable[[dict[str, Any]], None] | None = None


def _artifact(name: str) -> str:
    return "sha256:" + hashlib.sha256((DATA / name).read_bytes()).hexdigest()


def _no_tlog(doc: dict[str, Any]) -> None:
    doc["verificationMaterial"]["tlogEntries"] = []


def _no_proof(doc: dict[str, Any]) -> None:
    for e in doc["verificationMaterial"]["tlogEntries"]:
        e.pop("inclusionProof", None)


CASES = {
    # sigstore-python's path
    "dsse-0.0.1 (GitHub attestation)": Case(
        "gh-reusable-workflow-attestation.sigstore.json",
        ROOTS["prod"],
        REUSABLE_ID,
        GHA,
        "sha256:" + hashlib.sha256((DATA / "gh-reusable-workflow-artifact").read_bytes()).hexdigest(),
    ),
    "dsse-0.0.1 (cosign --new-bundle-format attestation)": Case(
        "cosign-oci-attestation.sigstore.json",
        ROOTS["prod"],
        "cody@soyland.com",
        "https://github.com/login/oauth",
        "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4",
    ),
    "hashedrekord v0.1": Case(
        "py-bundle.txt.sigstore", ROOTS["staging"], "a@tny.town", "https://github.com/login/oauth", ""
    ),
    "hashedrekord v0.3": Case(
        "py-bundle_v3.txt.sigstore", ROOTS["staging"], "william@yossarian.net", "https://github.com/login/oauth", ""
    ),
    # provenant's spec path
    "intoto-0.0.2 v0.3 (npm provenance)": Case(
        "gh-sigstore-js-2.1.0-bundle.json", ROOTS["prod"], JS_ID, GHA, JS_SUBJECT
    ),
    "intoto-0.0.2 v0.1": Case("gh-sigstore-js-2.1.0-bundle-v0.1.json", ROOTS["prod"], JS_ID, GHA, JS_SUBJECT),
    "SET only (v0.1, no inclusion proof)": Case(
        "py-bundle.txt.sigstore", ROOTS["staging"], "a@tny.town", "https://github.com/login/oauth", "", _no_proof
    ),
    "proof without checkpoint": Case(
        "py-bundle_no_checkpoint.txt.sigstore",
        ROOTS["staging"],
        "william@yossarian.net",
        "https://github.com/login/oauth",
        "",
    ),
    "timestamp only (RFC 3161)": Case(
        "py-tsa-bundle.txt.sigstore",
        TSA_ROOT,
        "alexis.challande@trailofbits.com",
        "https://accounts.google.com",
        "",
        _no_tlog,
    ),
}


def _subject(case: Case) -> str:
    return case.subject or _artifact(case.bundle.removesuffix(".sigstore"))


def _keyless(
    case: Case,
    doc: dict[str, Any],
    *,
    identity: str | None = None,
    issuer: str | None = None,
    root: str | None = None,
    subject: str | None = None,
) -> Attachment:
    from provenant.attest.keyless import KeylessPolicy

    policy = KeylessPolicy(DATA / (root or case.root), identity or case.identity, issuer or case.issuer)
    return evaluate(found(dump(doc), subject or _subject(case)), Trust((), policy))


def _doc(case: Case) -> dict[str, Any]:
    raw = (DATA / case.bundle).read_bytes()
    doc: dict[str, Any] = json.loads(raw)
    if case.edit:
        case.edit(doc)
    return doc


@pytest.mark.parametrize("name", list(CASES))
def test_genuine_keyless_bundle_verifies(name: str) -> None:
    case = CASES[name]
    a = _keyless(case, _doc(case))
    assert a.error is None and a.trust == f"signed:keyless={case.identity}", (a.trust, a.problems, a.error)
    assert a.subject_check.status == "match" and a.verified


@pytest.mark.parametrize("name", list(CASES))
def test_flipped_signature_byte_is_rejected(name: str) -> None:
    case = CASES[name]
    a = _keyless(case, flip_sig(_doc(case)))
    assert a.trust == "signature-invalid" and not a.verified
    assert len(a.problems) == 1 and "\n" not in a.problems[0]


@pytest.mark.parametrize("name", list(CASES))
def test_other_subject_digest_is_rejected(name: str) -> None:
    case = CASES[name]
    other = "sha256:" + hashlib.sha256(b"another artifact").hexdigest()
    a = _keyless(case, _doc(case), subject=other)
    assert not a.verified
    # a statement names its subject (mismatch); a message signature is over the artifact (the signature fails)
    assert a.subject_check.status == "mismatch"


@pytest.mark.parametrize("name", list(CASES))
def test_wrong_identity_and_wrong_issuer_are_rejected(name: str) -> None:
    case = CASES[name]
    a = _keyless(case, _doc(case), identity="someone@example.com")
    assert a.trust == "signature-invalid" and "someone@example.com" in a.problems[0]
    b = _keyless(case, _doc(case), issuer="https://issuer.example.com")
    assert b.trust == "signature-invalid" and "https://issuer.example.com" in b.problems[0]


@pytest.mark.parametrize("name", list(CASES))
def test_wrong_trusted_root_is_rejected(name: str) -> None:
    case = CASES[name]
    other = ROOTS["prod"] if case.root != ROOTS["prod"] else ROOTS["staging"]
    a = _keyless(case, _doc(case), root=other)
    assert a.trust == "signature-invalid" and not a.verified, a.problems


def _spec_reason(case: Case, doc: dict[str, Any]) -> str:
    a = _keyless(case, doc)
    assert a.trust == "signature-invalid", a.trust
    (reason,) = a.problems
    return reason


def test_certificate_expired_at_the_signing_time_is_rejected() -> None:
    """A real Fulcio certificate (10 minutes valid) judged at a time 11 minutes after it was issued.

    No public bundle has a validly signed time outside its certificate (the SET and the token would have to be
    forged), so the time is given directly to the step that checks it; the real chain and SCT are used.
    """
    from datetime import timedelta

    from cryptography import x509

    from provenant.attest.bundle_verify import SpecVerifyError, _check_certificate, load_spec_root
    from provenant.attest.fulcio import load_trust_root

    doc = _doc(CASES["intoto-0.0.2 v0.3 (npm provenance)"])
    cert = x509.load_der_x509_certificate(base64.b64decode(doc["verificationMaterial"]["certificate"]["rawBytes"]))
    root_path = DATA / ROOTS["prod"]
    root, ct_root = load_spec_root(root_path), load_trust_root(root_path)
    _check_certificate(cert, root, [cert.not_valid_before_utc + timedelta(minutes=5)], ct_root)
    with pytest.raises(SpecVerifyError, match="was not valid at the signing time"):
        _check_certificate(cert, root, [cert.not_valid_before_utc + timedelta(minutes=11)], ct_root)


def test_altered_tsa_token_is_rejected() -> None:
    case = CASES["timestamp only (RFC 3161)"]
    doc = _doc(case)
    for ts in doc["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]:
        raw = bytearray(base64.b64decode(ts["signedTimestamp"]))
        raw[-40] ^= 0x01  # inside the CMS signature
        ts["signedTimestamp"] = base64.b64encode(bytes(raw)).decode()
    assert "no verified signing time" in _spec_reason(case, doc)


def test_altered_set_inclusion_proof_and_foreign_entry_are_rejected() -> None:
    case = CASES["SET only (v0.1, no inclusion proof)"]
    doc = _doc(case)
    entry = doc["verificationMaterial"]["tlogEntries"][0]
    entry["integratedTime"] = str(int(entry["integratedTime"]) + 1)
    assert "signed entry timestamp does not verify" in _spec_reason(case, doc)
    js = CASES["intoto-0.0.2 v0.3 (npm provenance)"]
    doc = _doc(js)
    proof = doc["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
    proof["hashes"][3] = base64.b64encode(bytes(32)).decode()
    assert "inclusion proof does not lead to its root hash" in _spec_reason(js, doc)
    # the (genuine, SET-signed) entry of another signing beside this signature
    doc = _doc(case)
    other = json.loads((DATA / "py-bundle_no_checkpoint.txt.sigstore").read_bytes())
    doc["verificationMaterial"]["tlogEntries"] = other["verificationMaterial"]["tlogEntries"]
    _no_proof(doc)
    assert "the Rekor entry records another signature" in _spec_reason(case, doc)


def test_github_timestamp_only_bundle_needs_githubs_trusted_root() -> None:
    """GitHub's private-repository attestations chain to GitHub's own Fulcio and TSA (not in the public roots)."""
    raw = (DATA / "gh-github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl").read_bytes().splitlines()[0]
    doc = json.loads(raw)
    case = Case(
        "",
        ROOTS["prod"],
        "https://github.com/actions/attest-demo/.github/workflows/build-python.yml@refs/heads/main",
        GHA,
        "sha256:ae57936def59bc4c75edd3a837d89bcefc6d3a5e31d55a6fa7a71624f92c3c3b",
    )
    reason = _spec_reason(case, doc)
    assert "timestamp-only" in reason and "RFC 3161 timestamp 0 does not verify" in reason


def _cert_in_signature() -> tuple[dict[str, Any], dict[str, Any]]:
    """The GitHub attestation with its certificate moved into the DSSE signature (``signatures[].cert``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    doc = _doc(CASES["dsse-0.0.1 (GitHub attestation)"])
    der = base64.b64decode(doc["verificationMaterial"].pop("certificate")["rawBytes"])
    pem = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode()
    doc["dsseEnvelope"]["signatures"][0]["cert"] = pem
    return doc, doc["dsseEnvelope"]


def test_dsse_signature_cert_names_the_signer_and_verifies_keyless() -> None:
    case = CASES["dsse-0.0.1 (GitHub attestation)"]
    bundle, envelope = _cert_in_signature()
    plain = evaluate(
        Found(
            subject=case.subject,
            source="cosign-tag",
            location="tag x.att",
            container="sha256:" + "c" * 64,
            format="dsse",
            media_type="application/vnd.dsse.envelope.v1+json",
            data=dump(envelope),
        ),
        Trust(),
    )
    assert plain.trust == "keyless-unverified" and plain.signer == REUSABLE_ID and plain.signer_issuer == GHA
    a = _keyless(case, bundle)
    assert a.trust == f"signed:keyless={REUSABLE_ID}" and a.verified, a.problems
    assert _keyless(case, flip_sig(bundle)).trust == "signature-invalid"


# -- messages ---------------------------------------------------------------------------------------


def test_problem_lines_are_one_printable_line_and_debug_keeps_the_detail(caplog: pytest.LogCaptureFixture) -> None:
    """A sigstore-python (pydantic) error and an attacker's annotation with escapes both end up one line."""
    import logging

    case = CASES["dsse-0.0.1 (GitHub attestation)"]
    doc = _doc(case)
    del doc["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["rootHash"]  # pydantic: multi-line error
    doc["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"] = {"envelope": "x\n" * 400}
    with caplog.at_level(logging.DEBUG, logger="provenant.attest"):
        a = _keyless(case, doc)
    assert a.trust == "signature-invalid"
    (problem,) = a.problems
    assert "\n" not in problem and "rootHash" in problem and len(problem) <= 400
    stmt = base64.b64decode(_v3_bundle(crypto.new_key())["dsseEnvelope"]["payload"])
    item = Found(
        subject=V3_SUBJECT,
        source="cosign-tag",
        location="tag x.att",
        container="sha256:" + "c" * 64,
        format="in-toto",
        media_type="application/vnd.in-toto+json",
        data=stmt,
        annotations={"predicateType": "evil\x1b]0;owned\x07\nsecond line" + "y" * 600},
    )
    b = evaluate(item, Trust())
    (problem,) = b.problems
    assert "\x1b" not in problem and "\n" not in problem and "\\x1b" in problem and len(problem) <= 400
    with caplog.at_level(logging.DEBUG, logger="provenant.attest"):
        evaluate(item, Trust())
    assert any("full text" in r.getMessage() and "y" * 600 in r.getMessage() for r in caplog.records)


# -- key-signed bundles: their timestamps are checked when a trusted root is given -------------------

KEY_SUBJECT = "sha256:" + hashlib.sha256(b"test content").hexdigest()


def _key_bundle(doc: dict[str, Any], root: str | None) -> Attachment:
    from provenant.attest.keyless import KeylessPolicy

    key = PublicKey.from_pem((DATA / "go-public-key-validity.pem").read_bytes(), "go-public-key-validity.pem")
    policy = KeylessPolicy(DATA / root, "unused@example.com", "https://unused.example.com") if root else None
    return evaluate(found(dump(doc), KEY_SUBJECT), Trust((key,), policy))


def test_key_bundle_timestamp_verifies_against_the_trusted_root() -> None:
    doc = load("go-public-key-validity.sigstore.json")
    for root in (None, "go-public-key-validity.trusted_root.json"):
        a = _key_bundle(doc, root)
        assert a.trust.startswith("signed:key=") and a.verified and a.problems == [], (root, a.problems)


def test_key_bundle_with_an_altered_or_untrusted_timestamp_is_rejected() -> None:
    doc = load("go-public-key-validity.sigstore.json")
    (ts,) = doc["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
    raw = bytearray(base64.b64decode(ts["signedTimestamp"]))
    raw[-40] ^= 0x01
    ts["signedTimestamp"] = base64.b64encode(bytes(raw)).decode()
    a = _key_bundle(doc, "go-public-key-validity.trusted_root.json")
    assert a.trust == "signature-invalid" and "RFC 3161 timestamp 0" in a.problems[0]
    b = _key_bundle(load("go-public-key-validity.sigstore.json"), ROOTS["prod"])  # another root's authorities
    assert b.trust == "signature-invalid" and "timestamp" in b.problems[0]


def test_sct_is_required_only_when_the_root_lists_ct_logs(tmp_path: Path) -> None:
    """GitHub's own trusted root lists no CT log (its Fulcio logs to none): then no SCT is asked for, as gh does."""
    case = CASES["intoto-0.0.2 v0.3 (npm provenance)"]
    prod = json.loads((DATA / ROOTS["prod"]).read_bytes())
    staging = json.loads((DATA / ROOTS["staging"]).read_bytes())
    no_ct = tmp_path / "no-ct.json"
    no_ct.write_text(json.dumps({**prod, "ctlogs": []}))
    a = _keyless(case, _doc(case), root=str(no_ct))
    assert a.trust == f"signed:keyless={JS_ID}", a.problems
    other_ct = tmp_path / "other-ct.json"
    other_ct.write_text(json.dumps({**prod, "ctlogs": staging["ctlogs"]}))
    b = _keyless(case, _doc(case), root=str(other_ct))
    assert b.trust == "signature-invalid" and "SCT" in b.problems[0], b.problems


def test_key_bundle_trusted_root_is_read_within_the_limits(tmp_path: Path) -> None:
    """The bundle path reads the trusted root as the keyless path does: at most policy-bytes, json-depth deep."""
    from provenant import limits

    doc = load("go-public-key-validity.sigstore.json")
    real = (DATA / "go-public-key-validity.trusted_root.json").read_bytes()
    padded = tmp_path / "padded.trusted_root.json"
    padded.write_bytes(real.rstrip() + b" " * 4096)
    deep = tmp_path / "deep.trusted_root.json"
    deep.write_bytes(b"[" * 1000 + b"]" * 1000)
    try:
        limits.activate(limits.Limits(policy_bytes=len(real) + 100), start_deadline=False)
        big = _key_bundle(doc, str(padded))
        assert big.trust == "signature-invalid" and not big.verified, big
        assert "not checked" in big.problems[0] and "policy-bytes" in big.problems[0], big.problems
        nested = _key_bundle(doc, str(deep))
        assert nested.trust == "signature-invalid" and "json-depth" in nested.problems[0], nested.problems
        ok = _key_bundle(doc, "go-public-key-validity.trusted_root.json")
        assert ok.verified and ok.problems == [], ok.problems
    finally:
        limits.reset()


@pytest.mark.parametrize(
    ("material", "reason"),
    [
        (["certificate"], "timestamp-only bundle (no transparency-log entry)"),
        (
            {
                "certificate": {"rawBytes": "QQ=="},
                "tlogEntries": [{"kindVersion": {"kind": {"a": 1}, "version": "0.0.1"}}],
            },
            "Rekor entry of kind {'a': 1} 0.0.1",
        ),
        (
            {"certificate": {"rawBytes": "QQ=="}, "tlogEntries": [{"kindVersion": ["dsse", "0.0.1"]}]},
            "Rekor entry of kind None None",
        ),
        (
            {"certificate": {"rawBytes": "QQ=="}, "tlogEntries": [{"kindVersion": "dsse"}]},
            "Rekor entry of kind None None",
        ),
    ],
)
def test_which_verifier_a_bundle_needs_is_read_from_any_json_types(material: object, reason: str) -> None:
    from provenant.attest.bundle_verify import spec_path_reason

    assert spec_path_reason({"verificationMaterial": material}) == reason


@pytest.mark.parametrize("origin", ["rekor.example \ud800", "rekor.\u00e9xample"])
def test_a_checkpoint_that_is_not_ascii_is_refused_before_it_is_encoded(origin: str) -> None:
    from provenant.attest.bundle_verify import SpecVerifyError, _verify_checkpoint

    root = bytes(32)
    note = f"{origin}\n5\n{base64.b64encode(root).decode()}\n\n\u2014 rekor AAAA\n"
    with pytest.raises(SpecVerifyError, match=r"^checkpoint is not ASCII text$"):
        _verify_checkpoint(note, b"abcd", None, root, 5)  # type: ignore[arg-type]


def test_an_integrated_time_past_what_a_datetime_holds_is_refused() -> None:
    from provenant.attest.bundle_verify import SpecVerifyError, _verify_set
    from provenant.attest.rekor_set import LAST_SECOND, LogEntry

    assert LogEntry("", LAST_SECOND, 0, "", b"").time.year == 9999
    entry = {"inclusionPromise": {"signedEntryTimestamp": "QQ=="}, "integratedTime": str(LAST_SECOND + 1)}
    with pytest.raises(SpecVerifyError, match=r"^integratedTime 253402300800 is after the year 9999$"):
        _verify_set(entry, None)  # type: ignore[arg-type]
