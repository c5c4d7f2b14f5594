"""Embedded SCTs of Fulcio certificates (RFC 6962 §3.3), checked against the trusted root's CT logs.

Genuine: the real Fulcio leaves of tests/data/cosign (SCTs of the production CT logs). Tampered: one byte of a
real SCT flipped in a copy of the certificate, the log removed from or moved out of the root, the wrong issuer.
The branches real data cannot reach (RSA / Ed25519 log keys, other versions or hashes, several SCTs) use a CA,
leaf and CT log made here: their SCTs are signed here by a test log key, and verified with the same code.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import struct

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from provenant.attest.fulcio import TransparencyLog as Log
from provenant.attest.fulcio import Validity, load_trust_root, verify_chain
from provenant.attest.rekor_set import parse_bundle_annotation
from provenant.attest.sct import issuer_of, signed_data, verify_embedded_sct
from tests.cosigndata import DATA, PROD_ROOT, STAGING_ROOT, V120, V210, atts_manifest

SCT_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")


def _real(name: str) -> tuple[x509.Certificate, dt.datetime]:
    ann = atts_manifest(DATA / name)["layers"][0]["annotations"]
    entry = parse_bundle_annotation(ann["dev.sigstore.cosign/bundle"])
    return x509.load_pem_x509_certificate(ann["dev.sigstore.cosign/certificate"].encode()), entry.time


def _wolfi() -> x509.Certificate:
    out = json.loads((DATA / "wolfi-base.cosign-verify.json").read_text())[0]
    body = json.loads(base64.b64decode(out["optional"]["Bundle"]["Payload"]["body"]))
    return x509.load_pem_x509_certificate(base64.b64decode(body["spec"]["signature"]["publicKey"]["content"]))


def _issuer(leaf: x509.Certificate) -> x509.Certificate:
    """The CA certificate of the production root that signed ``leaf``."""
    for ca in load_trust_root(PROD_ROOT).authorities:
        for cert in ca.certificates:
            try:
                leaf.verify_directly_issued_by(cert)
            except (ValueError, TypeError, InvalidSignature):  # not this one
                continue
            return cert
    raise AssertionError("no issuer in the production root")


def _flip(leaf: x509.Certificate, part: bytes, at: int) -> x509.Certificate:
    """A copy of ``leaf`` with one byte of ``part`` (found once in its DER) flipped."""
    der = leaf.public_bytes(serialization.Encoding.DER)
    assert der.count(part) == 1
    i = der.index(part) + at
    return x509.load_der_x509_certificate(der[:i] + bytes([der[i] ^ 0x01]) + der[i + 1 :])


def _sct(leaf: x509.Certificate) -> x509.certificate_transparency.SignedCertificateTimestamp:
    return leaf.extensions.get_extension_for_class(x509.PrecertificateSignedCertificateTimestamps).value[0]


# -- real certificates ------------------------------------------------------------------------------------


@pytest.mark.parametrize("leaf", [_real(V120)[0], _real(V210)[0], _wolfi()], ids=["v1.2.0", "v2.1.0", "wolfi"])
def test_real_fulcio_certificates_carry_a_valid_sct(leaf: x509.Certificate) -> None:
    root = load_trust_root(PROD_ROOT)
    assert verify_embedded_sct(leaf, _issuer(leaf), root) is None


def test_the_chain_check_includes_the_sct() -> None:
    leaf, when = _real(V120)
    root = load_trust_root(PROD_ROOT)
    assert verify_chain(leaf, [], root, when) is None
    no_ct = dataclasses.replace(root, ct_logs=())  # a root without CT logs (GitHub's) asks for no SCT
    assert verify_chain(leaf, [], no_ct, when) is None
    assert verify_embedded_sct(_issuer(leaf), _issuer(leaf), no_ct) is None
    assert verify_chain(_flip(leaf, _sct(leaf).signature, 20), [], root, when) is not None


def test_a_flipped_sct_signature_byte_is_rejected() -> None:
    leaf = _real(V120)[0]
    bad = _flip(leaf, _sct(leaf).signature, 20)
    why = verify_embedded_sct(bad, _issuer(leaf), load_trust_root(PROD_ROOT))
    assert why is not None
    assert "certificate transparency: no valid SCT (its signature does not verify with the key of" in why
    assert "https://ctfe.sigstore.dev/test" in why


def test_a_changed_sct_timestamp_is_rejected() -> None:
    leaf = _real(V210)[0]
    stamp = struct.pack(">Q", int(_sct(leaf).timestamp.replace(tzinfo=dt.UTC).timestamp() * 1000))
    bad = _flip(leaf, stamp, 7)  # one millisecond later
    assert _sct(bad).timestamp != _sct(leaf).timestamp
    why = verify_embedded_sct(bad, _issuer(leaf), load_trust_root(PROD_ROOT))
    assert why is not None and "its signature does not verify with the key of https://ctfe.sigstore.dev/2022" in why


def test_a_changed_tbs_is_rejected() -> None:
    """The SCT is bound to the TBS (a byte of the certificate's subject key changed)."""
    leaf = _real(V120)[0]
    spki = leaf.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    bad = _flip(leaf, spki, 40)
    why = verify_embedded_sct(bad, _issuer(leaf), load_trust_root(PROD_ROOT))
    assert why is not None and "its signature does not verify" in why


def test_the_wrong_issuer_key_hash_is_rejected() -> None:
    leaf = _real(V120)[0]
    issuer = _issuer(leaf)
    root_ca = next(c for ca in load_trust_root(PROD_ROOT).authorities for c in ca.certificates if c != issuer)
    why = verify_embedded_sct(leaf, root_ca, load_trust_root(PROD_ROOT))
    assert why is not None and "its signature does not verify" in why


def test_an_sct_from_a_log_outside_the_root_is_rejected() -> None:
    leaf = _real(V120)[0]
    prod, staging = load_trust_root(PROD_ROOT), load_trust_root(STAGING_ROOT)
    wrong = dataclasses.replace(prod, ct_logs=staging.ct_logs)
    why = verify_embedded_sct(leaf, _issuer(leaf), wrong)
    assert why is not None
    assert f"its log {_sct(leaf).log_id.hex()} is not a CT log of the trusted root {PROD_ROOT}" in why


def test_an_sct_outside_its_logs_validity_is_rejected() -> None:
    leaf = _real(V120)[0]
    prod = load_trust_root(PROD_ROOT)
    stamp = _sct(leaf).timestamp.replace(tzinfo=dt.UTC)
    log = prod.ct_log(_sct(leaf).log_id.hex())
    assert log is not None
    for window in (Validity(stamp + dt.timedelta(seconds=1), None), Validity(None, stamp - dt.timedelta(seconds=1))):
        moved = dataclasses.replace(log, valid=window)
        root = dataclasses.replace(prod, ct_logs=(moved,))
        why = verify_embedded_sct(leaf, _issuer(leaf), root)
        assert why is not None and "its log https://ctfe.sigstore.dev/test was not in use at 2022-08-05T03:4" in why
    exact = dataclasses.replace(prod, ct_logs=(dataclasses.replace(log, valid=Validity(stamp, stamp)),))
    assert verify_embedded_sct(leaf, _issuer(leaf), exact) is None


def test_a_certificate_without_sct_is_rejected() -> None:
    leaf = _real(V120)[0]
    issuer = _issuer(leaf)
    why = verify_embedded_sct(issuer, issuer, load_trust_root(PROD_ROOT))
    assert why == "the certificate has no embedded SCT: it was never logged in certificate transparency"


def test_the_trusted_root_ctlogs_are_read() -> None:
    prod = load_trust_root(PROD_ROOT)
    assert [log.base_url for log in prod.ct_logs] == [
        "https://ctfe.sigstore.dev/test",
        "https://ctfe.sigstore.dev/2022",
    ]
    assert prod.ct_logs[0].log_id == "086092f02852ff6845d1d16b27849c456718ac163dc338d26de6bc2206366f72"
    assert prod.ct_log("086092F02852FF6845D1D16B27849C456718AC163DC338D26DE6BC2206366F72") is prod.ct_logs[0]
    assert prod.ct_log("00" * 32) is None
    assert prod.ct_logs[1].valid.end is None


# -- constructed certificates: branches real data does not reach ----------------------------------------------

_NOW = dt.datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=dt.UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(cn: str, key: ec.EllipticCurvePrivateKey, *, ct_eku: bool = False) -> x509.Certificate:
    b = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(_NOW - dt.timedelta(days=1))
        .not_valid_after(_NOW + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )
    if ct_eku:
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CERTIFICATE_TRANSPARENCY]), critical=False)
    return b.sign(key, hashes.SHA256())


def _sct_bytes(log_key: object, tbs: bytes, spki_hash: bytes, *, version: int = 0, hash_id: int = 4) -> bytes:
    """One TLS-encoded SCT (RFC 6962 §3.2) over a precertificate TBS, signed by ``log_key``."""
    import hashlib

    pub = log_key.public_key()  # type: ignore[attr-defined]
    der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    millis = (_NOW - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(milliseconds=1)
    data = struct.pack(">BBQH", version, 0, millis, 1) + spki_hash + len(tbs).to_bytes(3, "big") + tbs + b"\0\0"
    if isinstance(log_key, ec.EllipticCurvePrivateKey):
        sig, sig_alg = log_key.sign(data, ec.ECDSA(hashes.SHA256())), 3
    elif isinstance(log_key, rsa.RSAPrivateKey):
        sig, sig_alg = log_key.sign(data, padding.PKCS1v15(), hashes.SHA256()), 1
    else:
        sig, sig_alg = log_key.sign(data), 3  # type: ignore[attr-defined]
    head = bytes([version]) + hashlib.sha256(der).digest() + struct.pack(">Q", millis) + b"\0\0"
    return head + bytes([hash_id, sig_alg]) + struct.pack(">H", len(sig)) + sig


def _octets(body: bytes) -> bytes:
    n = len(body)
    length = bytes([n]) if n < 128 else bytes([0x81, n]) if n < 256 else bytes([0x82]) + n.to_bytes(2, "big")
    return b"\x04" + length + body


def _leaf(
    issuer_key: ec.EllipticCurvePrivateKey, issuer: x509.Certificate, scts: list[object], **kw: int
) -> x509.Certificate:
    """A leaf whose SCT list holds one SCT per log key in ``scts`` (a ``bytes`` item is put in as it is)."""
    key = ec.generate_private_key(ec.SECP256R1())
    b = (
        x509.CertificateBuilder()
        .subject_name(_name("leaf"))
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(_NOW - dt.timedelta(minutes=1))
        .not_valid_after(_NOW + dt.timedelta(minutes=10))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    pre = b.sign(issuer_key, hashes.SHA256())
    import hashlib

    spki = issuer.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    items = [
        s if isinstance(s, bytes) else _sct_bytes(s, pre.tbs_certificate_bytes, hashlib.sha256(spki).digest(), **kw)
        for s in scts
    ]
    body = b"".join(struct.pack(">H", len(i)) + i for i in items)
    ext = x509.UnrecognizedExtension(SCT_OID, _octets(struct.pack(">H", len(body)) + body))
    leaf = b.add_extension(ext, critical=False).sign(issuer_key, hashes.SHA256())
    assert leaf.tbs_precertificate_bytes == pre.tbs_certificate_bytes
    return leaf


def _root_with(*log_keys: object, base: str = "https://ct.example/") -> object:
    prod = load_trust_root(PROD_ROOT)
    logs = []
    for i, k in enumerate(log_keys):
        der = k.public_key().public_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        import hashlib

        logs.append(Log(f"{base}{i}", hashlib.sha256(der).hexdigest(), k.public_key(), Validity(None, None)))  # type: ignore[attr-defined]
    return dataclasses.replace(prod, ct_logs=tuple(logs))


@pytest.fixture(scope="module")
def ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    return key, _ca("test-ca", key)


def test_a_constructed_sct_verifies_with_ecdsa_and_rsa_logs(
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
) -> None:
    key, cert = ca
    for log_key in (ec.generate_private_key(ec.SECP256R1()), rsa.generate_private_key(65537, 2048)):
        leaf = _leaf(key, cert, [log_key])
        assert verify_embedded_sct(leaf, cert, _root_with(log_key)) is None  # type: ignore[arg-type]
        other = ec.generate_private_key(ec.SECP256R1())
        why = verify_embedded_sct(leaf, cert, _root_with(other))  # type: ignore[arg-type]
        assert why is not None and "is not a CT log of the trusted root" in why


def test_the_signed_data_layout(ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate]) -> None:
    import hashlib

    key, cert = ca
    log_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _leaf(key, cert, [log_key])
    sct = _sct(leaf)
    data = signed_data(sct, leaf, cert)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    tbs = leaf.tbs_precertificate_bytes
    millis = (_NOW - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(milliseconds=1)
    assert (
        data
        == b"\0\0"
        + millis.to_bytes(8, "big")
        + b"\0\1"
        + hashlib.sha256(spki).digest()
        + len(tbs).to_bytes(3, "big")
        + tbs
        + b"\0\0"
    )


def test_an_ed25519_log_key_is_not_an_rfc6962_log(ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate]) -> None:
    key, cert = ca
    log_key = ed25519.Ed25519PrivateKey.generate()
    leaf = _leaf(key, cert, [log_key])
    why = verify_embedded_sct(leaf, cert, _root_with(log_key))  # type: ignore[arg-type]
    assert why is not None and "its signature does not verify with the key of https://ct.example/0" in why


def test_one_valid_sct_among_several_is_enough(ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate]) -> None:
    key, cert = ca
    known, unknown = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    leaf = _leaf(key, cert, [unknown, known])
    assert verify_embedded_sct(leaf, cert, _root_with(known)) is None  # type: ignore[arg-type]
    many = _leaf(key, cert, [unknown] * 4)
    why = verify_embedded_sct(many, cert, _root_with(known))  # type: ignore[arg-type]
    assert why is not None and why.count("is not a CT log") == 3  # the first three reasons only
    assert why.startswith("certificate transparency: no valid SCT (its log ")
    assert why.count("; its log ") == 2 and why.endswith(f"is not a CT log of the trusted root {PROD_ROOT})")


def test_sct_times_are_exact_milliseconds() -> None:
    from provenant.attest.sct import _millis

    utc = dt.datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=dt.UTC)
    assert _millis(utc) == 1714564800123
    assert _millis(utc.replace(tzinfo=None)) == 1714564800123  # naive: UTC, as cryptography gives SCT times
    assert _millis(utc.astimezone(dt.timezone(dt.timedelta(hours=-5)))) == 1714564800123


def test_a_non_sha256_sct_is_rejected(ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate]) -> None:
    key, cert = ca
    log_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _leaf(key, cert, [log_key], hash_id=5)  # SHA-384
    why = verify_embedded_sct(leaf, cert, _root_with(log_key))  # type: ignore[arg-type]
    assert why is not None and "its hash is sha384, not SHA-256" in why


def test_an_empty_or_malformed_sct_list_is_a_reason(ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate]) -> None:
    key, cert = ca
    log_key = ec.generate_private_key(ec.SECP256R1())
    root = _root_with(log_key)
    empty = verify_embedded_sct(_leaf(key, cert, []), cert, root)  # type: ignore[arg-type]
    assert empty == "the certificate's SCT list is empty: it was never logged in certificate transparency"
    bad = verify_embedded_sct(_leaf(key, cert, [b"\x00\x01"]), cert, root)  # type: ignore[arg-type]
    assert bad == "the certificate's SCT list is malformed: Invalid SCT length"


def test_issuer_of_skips_a_precertificate_signing_ca() -> None:
    k = ec.generate_private_key(ec.SECP256R1())
    leaf, plain, pre, top = _ca("leaf", k), _ca("ca", k), _ca("pre", k, ct_eku=True), _ca("top", k)
    assert issuer_of([leaf, plain, top]) is plain
    assert issuer_of([leaf, pre, top]) is top
    assert issuer_of([leaf, pre]) is pre
    with_eku = (
        x509.CertificateBuilder()
        .subject_name(_name("eku"))
        .issuer_name(_name("eku"))
        .public_key(k.public_key())
        .serial_number(2)
        .not_valid_before(_NOW)
        .not_valid_after(_NOW + dt.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .sign(k, hashes.SHA256())
    )
    assert issuer_of([leaf, with_eku, top]) is with_eku
