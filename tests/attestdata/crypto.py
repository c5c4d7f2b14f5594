"""Keys, signatures, PAE and certificates made with ``cryptography`` alone."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier

PrivKey = Any  # ec / rsa / ed25519 private key


def new_key(kind: str = "ecdsa") -> PrivKey:
    """A fresh private key: ``ecdsa`` (P-256), ``rsa`` (2048) or ``ed25519``."""
    if kind == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(kind)


def public_pem(key: PrivKey) -> bytes:
    """PEM SubjectPublicKeyInfo."""
    pem: bytes = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem


def fingerprint(key: PrivKey) -> str:
    """``sha256:`` of the DER SubjectPublicKeyInfo."""
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def private_pem(key: PrivKey, password: bytes | None) -> bytes:
    """PKCS#8 PEM, encrypted when ``password`` is given."""
    enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    pem: bytes = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
    return pem


def write_keys(key: PrivKey, directory: Path, name: str, password: bytes | None = None) -> tuple[Path, Path]:
    """Write ``name.key`` and ``name.pub``."""
    priv, pub = directory / f"{name}.key", directory / f"{name}.pub"
    priv.write_bytes(private_pem(key, password))
    pub.write_bytes(public_pem(key))
    return priv, pub


def sign(key: PrivKey, data: bytes) -> bytes:
    """ECDSA-SHA256 (DER), RSA PKCS#1 v1.5 SHA-256, or Ed25519."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    sig: bytes = key.sign(data)
    return sig


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 PAE, written out from the protocol text."""
    t = payload_type.encode()
    return b"DSSEv1 " + str(len(t)).encode() + b" " + t + b" " + str(len(payload)).encode() + b" " + payload


def fulcio_like_cert(key: PrivKey, identity: str, issuer: str) -> bytes:
    """A self-signed certificate shaped like a Fulcio one (email SAN + OIDC issuer extension v2), DER."""
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sigstore.dev")])
    issuer_der = b"\x0c" + bytes([len(issuer)]) + issuer.encode()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(minutes=10))
        .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(identity)]), critical=True)
        .add_extension(
            x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.57264.1.8"), issuer_der), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)
