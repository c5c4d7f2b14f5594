"""Signing keys: load PEM public and private keys, fingerprint them, sign and verify, generate P-256 pairs.

Supported: ECDSA P-256 (SHA-256, what cosign uses), P-384 (SHA-384), P-521 (SHA-512), RSA (PKCS#1 v1.5
with SHA-256 to sign; PKCS#1 v1.5 or PSS to verify) and Ed25519. A key's fingerprint is
``sha256:<hex>`` of its DER SubjectPublicKeyInfo. Private key material is never put into a message.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from provenant.attest.errors import KeyLoadError

_PublicKeyTypes = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey
_PrivateKeyTypes = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

_CURVE_HASH: dict[str, type[hashes.HashAlgorithm]] = {
    "secp256r1": hashes.SHA256,
    "secp384r1": hashes.SHA384,
    "secp521r1": hashes.SHA512,
}


def _describe(key: _PublicKeyTypes) -> str:
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"ecdsa-{key.curve.name}"
    if isinstance(key, rsa.RSAPublicKey):
        return f"rsa-{key.key_size}"
    return "ed25519"


def _check_supported_public(key: object, source: str) -> _PublicKeyTypes:
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in _CURVE_HASH:
            raise KeyLoadError(
                f"{source}: unsupported elliptic curve {key.curve.name}", hint="use P-256, P-384 or P-521"
            )
        return key
    if isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        return key
    raise KeyLoadError(f"{source}: unsupported key type {type(key).__name__}", hint="use an ECDSA, RSA or Ed25519 key")


@dataclass(frozen=True)
class PublicKey:
    """A verification key and where it came from."""

    key: _PublicKeyTypes
    source: str

    @classmethod
    def from_pem(cls, data: bytes, source: str = "public key") -> PublicKey:
        """A PEM ``PUBLIC KEY`` (SubjectPublicKeyInfo) or a certificate's key."""
        try:
            if b"BEGIN CERTIFICATE" in data:
                from cryptography import x509

                loaded: object = x509.load_pem_x509_certificate(data).public_key()
            else:
                loaded = serialization.load_pem_public_key(data)
        except (ValueError, UnsupportedAlgorithm) as exc:
            hint = (
                "this is a private key; pass the public key (.pub)"
                if b"PRIVATE KEY" in data
                else "expected a PEM 'PUBLIC KEY' block as cosign and provenant keygen write"
            )
            raise KeyLoadError(f"{source}: not a PEM public key ({_reason(exc)})", hint=hint) from None
        return cls(_check_supported_public(loaded, source), source)

    @property
    def der(self) -> bytes:
        """DER SubjectPublicKeyInfo."""
        return self.key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    @property
    def pem(self) -> bytes:
        """PEM SubjectPublicKeyInfo."""
        return self.key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    @property
    def fingerprint(self) -> str:
        """``sha256:<hex>`` of the DER SubjectPublicKeyInfo."""
        return "sha256:" + hashlib.sha256(self.der).hexdigest()

    @property
    def algorithm(self) -> str:
        """``ecdsa-secp256r1``, ``rsa-3072``, ``ed25519``."""
        return _describe(self.key)

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` is a valid signature of ``data`` by this key."""
        key = self.key
        try:
            if isinstance(key, ec.EllipticCurvePublicKey):
                algo = _CURVE_HASH[key.curve.name]()
                try:
                    key.verify(signature, data, ec.ECDSA(algo))
                except InvalidSignature:
                    size = (key.curve.key_size + 7) // 8
                    if len(signature) != 2 * size:
                        raise
                    # Some DSSE signers write raw r||s instead of ASN.1 DER.
                    r = int.from_bytes(signature[:size], "big")
                    s = int.from_bytes(signature[size:], "big")
                    key.verify(encode_dss_signature(r, s), data, ec.ECDSA(algo))
            elif isinstance(key, rsa.RSAPublicKey):
                try:
                    key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
                except InvalidSignature:
                    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
                    key.verify(signature, data, pss, hashes.SHA256())
            else:
                key.verify(signature, data)
        except (InvalidSignature, ValueError):
            return False
        return True

    def verify_digest(self, signature: bytes, digest: bytes, algorithm: str = "sha256") -> bool:
        """True when ``signature`` signs a message whose ``algorithm`` hash is ``digest`` (Sigstore
        message signatures); Ed25519 cannot sign a prehashed message, so it never matches."""
        from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

        algos: dict[str, type[hashes.HashAlgorithm]] = {
            "sha256": hashes.SHA256,
            "sha384": hashes.SHA384,
            "sha512": hashes.SHA512,
        }
        if algorithm not in algos:
            return False
        pre = Prehashed(algos[algorithm]())
        key = self.key
        try:
            if isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(signature, digest, ec.ECDSA(pre))
            elif isinstance(key, rsa.RSAPublicKey):
                key.verify(signature, digest, padding.PKCS1v15(), pre)
            else:
                return False
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class PrivateKey:
    """A signing key; ``repr`` shows only the public fingerprint."""

    key: _PrivateKeyTypes
    source: str

    def __repr__(self) -> str:
        return f"PrivateKey({self.source!r}, {self.public.fingerprint})"

    @property
    def public(self) -> PublicKey:
        """The matching public key."""
        return PublicKey(self.key.public_key(), self.source)

    def sign(self, data: bytes) -> bytes:
        """A signature of ``data``: ASN.1 DER ECDSA, PKCS#1 v1.5 RSA, or Ed25519."""
        key = self.key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(_CURVE_HASH[key.curve.name]()))
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return key.sign(data)


@dataclass(frozen=True)
class KeyPair:
    """A freshly generated key pair as PEM: the private key encrypted with the passphrase."""

    private_pem: bytes
    public_pem: bytes
    fingerprint: str

    def __repr__(self) -> str:
        return f"KeyPair({self.fingerprint})"


#: A PEM key or certificate is a few KiB; a file far larger is not one (and is not read whole).
MAX_KEY_FILE = 1024 * 1024


def _read_key_file(path: Path, what: str) -> bytes:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_KEY_FILE + 1)
    except OSError as exc:
        raise KeyLoadError(f"cannot read {what} {path}: {exc.strerror}") from None
    if len(data) > MAX_KEY_FILE:
        raise KeyLoadError(f"{path} is larger than {MAX_KEY_FILE} bytes: not a PEM {what}")
    return data


def load_public_key(path: Path) -> PublicKey:
    """Read a PEM public key from ``path``; a certificate is refused (see :mod:`provenant.attest.cert_keys`)."""
    data = _read_key_file(path, "public key")
    if b"-----BEGIN CERTIFICATE-----" in data:
        raise KeyLoadError(
            f"{path} is a certificate, not a public key: a certificate's key proves an identity only when it "
            "chains to a trusted root and was valid when it signed",
            hint="pass the signer's public key, or verify keyless with --trusted-root, --certificate-identity "
            "and --certificate-oidc-issuer",
        )
    return PublicKey.from_pem(data, str(path))


def _reason(exc: Exception) -> str:
    """cryptography's message without its FAQ link (the user needs what is wrong, not a URL)."""
    return " ".join(re.sub(r"See https?://\S+ for more details\.", "", str(exc)).split())


def load_private_key_pem(data: bytes, password: bytes | None, source: str = "private key") -> PrivateKey:
    """A PEM private key (PKCS#8, encrypted or not; also SEC1 ``EC PRIVATE KEY`` and PKCS#1 RSA)."""
    from provenant.attest.cosign_keys import decrypt_cosign_key, is_cosign_pem

    if is_cosign_pem(data):
        der = decrypt_cosign_key(data, password, source)
        try:
            return _supported_private(serialization.load_der_private_key(der, password=None), source)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise KeyLoadError(f"{source}: the decrypted cosign key is not PKCS#8 ({_reason(exc)})") from None
    encrypted = b"ENCRYPTED PRIVATE KEY" in data or b"Proc-Type: 4,ENCRYPTED" in data
    try:
        loaded = serialization.load_pem_private_key(data, password=password if encrypted else None)
    except TypeError:
        raise KeyLoadError(
            f"{source}: the key is encrypted and no passphrase was given",
            hint="set PROVENANT_KEY_PASSWORD or run on a terminal to be prompted",
        ) from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        reason = "wrong passphrase or corrupt key" if encrypted else f"not a PEM private key ({_reason(exc)})"
        hint = "this is a public key; pass the private key (.key)" if b"BEGIN PUBLIC KEY" in data else None
        raise KeyLoadError(f"{source}: cannot load private key: {reason}", hint=hint) from None
    return _supported_private(loaded, source)


def _supported_private(loaded: object, source: str) -> PrivateKey:
    if isinstance(loaded, ec.EllipticCurvePrivateKey):
        if loaded.curve.name not in _CURVE_HASH:
            raise KeyLoadError(f"{source}: unsupported elliptic curve {loaded.curve.name}")
        return PrivateKey(loaded, source)
    if isinstance(loaded, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        return PrivateKey(loaded, source)
    raise KeyLoadError(f"{source}: unsupported private key type {type(loaded).__name__}")


def load_private_key(path: Path, password: bytes | None) -> PrivateKey:
    """Read a PEM private key from ``path``, decrypting it with ``password`` when it is encrypted."""
    return load_private_key_pem(_read_key_file(path, "private key"), password, str(path))


def is_encrypted_pem(path: Path) -> bool:
    """True when the PEM file at ``path`` holds an encrypted private key (so a passphrase is needed)."""
    try:
        with path.open("rb") as f:
            head = f.read(4096)  # only the head: a huge file given as a key must not be read whole
    except OSError:
        return False
    return b"ENCRYPTED" in head


def generate_keypair(password: bytes, key_format: str = "pkcs8") -> KeyPair:
    """A new ECDSA P-256 key pair; the private key encrypted with ``password``.

    ``key_format`` ``pkcs8``: an encrypted PKCS#8 PEM; ``cosign``: cosign's ``ENCRYPTED SIGSTORE PRIVATE KEY``
    (scrypt + secretbox), which cosign itself reads.
    """
    if not password:
        from provenant.errors import UsageError

        raise UsageError("an empty passphrase would leave the private key unencrypted; give a passphrase")
    key = ec.generate_private_key(ec.SECP256R1())
    if key_format == "cosign":
        from provenant.attest.cosign_keys import cosign_private_key

        private_pem = cosign_private_key(key, password)
    else:
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password),
        )
    public = PublicKey(key.public_key(), "generated")
    return KeyPair(private_pem, public.pem, public.fingerprint)
