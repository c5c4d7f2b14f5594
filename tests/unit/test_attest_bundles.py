"""Real Sigstore bundles from public projects (tests/data/bundles/SOURCE.md), genuine and tampered, offline."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from provenant.attest.discover import Found
from provenant.attest.evaluate import Attachment, Trust, evaluate
from provenant.attest.keys import PublicKey

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


def _v3(doc: dict[str, Any], subject: str = V3_SUBJECT) -> Attachment:
    key = PublicKey.from_pem((DATA / "cosign-v3-sign.pub").read_bytes(), "cosign-v3-sign.pub")
    return evaluate(found(dump(doc), subject), Trust((key,)))


def test_cosign_v3_sign_bundle_verifies_on_its_real_subject() -> None:
    a = _v3(load("cosign-v3-sign.sigstore.json"))
    assert a.error is None, a.error
    assert a.kind == "signature" and a.predicate_type == "https://sigstore.dev/cosign/sign/v1"
    assert a.trust.startswith("signed:key=sha256:") and a.subject_check.status == "match" and a.verified


def test_cosign_v3_sign_bundle_fails_on_another_digest() -> None:
    a = _v3(load("cosign-v3-sign.sigstore.json"), "sha256:" + hashlib.sha256(b"other").hexdigest())
    assert a.trust.startswith("signed:key=") and a.subject_check.status == "mismatch" and not a.verified
    assert V3_SUBJECT in (a.subject_check.detail or "")


def test_cosign_v3_sign_bundle_tampered_is_rejected() -> None:
    a = _v3(flip_sig(load("cosign-v3-sign.sigstore.json")))
    assert a.trust == "signature-invalid" and not a.verified
    doc = load("cosign-v3-sign.sigstore.json")
    stmt = json.loads(base64.b64decode(doc["dsseEnvelope"]["payload"]))
    stmt["subject"][0]["digest"]["sha256"] = "0" * 64  # subject changed: the signature no longer covers it
    doc["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(stmt).encode()).decode()
    b = _v3(doc, "sha256:" + "0" * 64)
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
