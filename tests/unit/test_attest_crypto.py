"""Keys, DSSE and simple signing, cross-checked against the independent helpers in tests/attestdata."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from provenant.attest.dsse import envelope_json, pae, sign_envelope, verify_envelope
from provenant.attest.errors import KeyLoadError
from provenant.attest.keys import PublicKey, generate_keypair, load_private_key_pem
from provenant.attest.models import parse_envelope
from provenant.attest.simplesign import build_payload, verify_payload
from provenant.errors import UsageError
from tests.attestdata import artifacts, crypto


def test_pae_matches_the_dsse_spec_example() -> None:
    # protocol.md: PAE("http://example.com/HelloWorld", "hello world")
    assert (
        pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )
    assert pae("", b"") == b"DSSEv1 0  0 "
    # lengths are bytes, not characters
    assert pae("t", "é".encode()) == b"DSSEv1 1 t 2 \xc3\xa9"
    assert pae("application/vnd.in-toto+json", b"{}") == crypto.pae("application/vnd.in-toto+json", b"{}")


@pytest.mark.parametrize("kind", ["ecdsa", "rsa", "ed25519"])
def test_envelope_signed_by_helper_verifies_and_tampering_does_not(kind: str) -> None:
    key = crypto.new_key(kind)
    other = crypto.new_key(kind)
    stmt = artifacts.statement("sha256:" + "a" * 64, "https://example.com/p", {"x": 1})
    env = parse_envelope(artifacts.cjson(artifacts.envelope(stmt, key)), "env")
    pub = PublicKey.from_pem(crypto.public_pem(key))
    wrong = PublicKey.from_pem(crypto.public_pem(other))
    assert verify_envelope(env, [wrong, pub]) == [pub]
    assert verify_envelope(env, [wrong]) == []
    tampered = parse_envelope(artifacts.cjson(artifacts.envelope(stmt, key, tamper=True)), "env")
    assert verify_envelope(tampered, [pub]) == []


@pytest.mark.parametrize("kind", ["ecdsa", "rsa", "ed25519"])
def test_envelope_signed_by_provenant_verifies_with_plain_cryptography(kind: str) -> None:
    key = crypto.new_key(kind)
    priv = load_private_key_pem(crypto.private_pem(key, b"pw"), b"pw", "test")
    env = sign_envelope(b'{"hello":"world"}', "application/vnd.in-toto+json", priv)
    obj = json.loads(envelope_json(env))
    assert list(obj) == ["payloadType", "payload", "signatures"]
    payload = base64.b64decode(obj["payload"])
    sig = base64.b64decode(obj["signatures"][0]["sig"])
    message = crypto.pae(obj["payloadType"], payload)
    pub = key.public_key()
    if kind == "ecdsa":
        pub.verify(sig, message, ec.ECDSA(hashes.SHA256()))
    elif kind == "rsa":
        from cryptography.hazmat.primitives.asymmetric import padding

        pub.verify(sig, message, padding.PKCS1v15(), hashes.SHA256())
    else:
        pub.verify(sig, message)


def test_raw_r_s_ecdsa_signatures_are_accepted() -> None:
    key = crypto.new_key("ecdsa")
    message = crypto.pae("t", b"body")
    r, s = decode_dss_signature(crypto.sign(key, message))
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert PublicKey.from_pem(crypto.public_pem(key)).verify(raw, message)


def test_simple_signing_payload_is_byte_identical_to_the_spec_layout() -> None:
    digest = "sha256:" + "b" * 64
    assert build_payload("reg.example/app", digest) == artifacts.simple_signing_payload("reg.example/app", digest)
    with_claims = json.loads(build_payload("r/a", digest, {"team": "x"}))
    assert with_claims["optional"] == {"team": "x"}


def test_simple_signature_covers_the_exact_bytes() -> None:
    key = crypto.new_key()
    pub = PublicKey.from_pem(crypto.public_pem(key))
    payload = artifacts.simple_signing_payload("r/a", "sha256:" + "c" * 64)
    sig = crypto.sign(key, payload)
    assert verify_payload(payload, sig, [pub]) == [pub]
    # same JSON meaning, other bytes: not the signed payload
    assert verify_payload(json.dumps(json.loads(payload)).encode(), sig, [pub]) == []


def test_fingerprint_is_sha256_of_der_spki() -> None:
    key = crypto.new_key()
    assert PublicKey.from_pem(crypto.public_pem(key)).fingerprint == crypto.fingerprint(key)


def test_keygen_writes_an_encrypted_p256_key() -> None:
    pair = generate_keypair(b"correct horse")
    assert b"ENCRYPTED PRIVATE KEY" in pair.private_pem
    assert "correct horse" not in repr(pair)
    priv = load_private_key_pem(pair.private_pem, b"correct horse", "k")
    assert priv.public.algorithm == "ecdsa-secp256r1"
    assert priv.public.fingerprint == pair.fingerprint == PublicKey.from_pem(pair.public_pem).fingerprint
    assert "PRIVATE" not in repr(priv) and "BEGIN" not in repr(priv)
    with pytest.raises(KeyLoadError, match="wrong passphrase"):
        load_private_key_pem(pair.private_pem, b"wrong", "k")
    with pytest.raises(KeyLoadError, match="no passphrase"):
        load_private_key_pem(pair.private_pem, None, "k")
    with pytest.raises(UsageError):
        generate_keypair(b"")


def test_key_errors_are_one_line_and_actionable() -> None:
    pair = generate_keypair(b"pw")
    with pytest.raises(KeyLoadError) as err:
        PublicKey.from_pem(pair.private_pem, "cosign.key")
    assert "pass the public key" in err.value.diagnostics()
    assert "\n" not in err.value.diagnostics()
    with pytest.raises(KeyLoadError) as err:
        load_private_key_pem(pair.public_pem, None, "cosign.pub")
    assert "pass the private key" in err.value.diagnostics()
    for garbage in (b"not a key", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"):
        for load in (lambda d: PublicKey.from_pem(d, "x.pub"), lambda d: load_private_key_pem(d, None, "x.key")):
            with pytest.raises(KeyLoadError) as err:
                load(garbage)
            # what is wrong, not cryptography's FAQ link
            assert "http" not in err.value.diagnostics() and "\n" not in err.value.diagnostics()
    # cosign's format is read now (tests/unit/test_cosign_keys.py); a cut-off one is a one-line error
    with pytest.raises(KeyLoadError, match=r"c\.key: ENCRYPTED SIGSTORE PRIVATE KEY PEM block has no END line"):
        load_private_key_pem(b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nxx\n", b"pw", "c.key")
    k384 = ec.generate_private_key(ec.SECP384R1())
    assert PublicKey.from_pem(crypto.public_pem(k384)).algorithm == "ecdsa-secp384r1"
    k192 = ec.generate_private_key(ec.SECP192R1()) if hasattr(ec, "SECP192R1") else None
    if k192 is not None:
        with pytest.raises(KeyLoadError, match="unsupported elliptic curve"):
            PublicKey.from_pem(crypto.public_pem(k192))


def test_message_digest_signature_verifies_prehashed() -> None:
    key = crypto.new_key()
    digest = hashlib.sha256(b"manifest").digest()
    bundle = json.loads(artifacts.message_signature_bundle("sha256:" + digest.hex(), key))
    sig = base64.b64decode(bundle["messageSignature"]["signature"])
    pub = PublicKey.from_pem(crypto.public_pem(key))
    assert pub.verify_digest(sig, digest)
    assert not pub.verify_digest(sig, hashlib.sha256(b"other").digest())
