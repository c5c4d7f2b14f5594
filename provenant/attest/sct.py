"""The Fulcio leaf's embedded signed certificate timestamp (SCT), checked offline against the trusted root's CT logs.

Fulcio logs every certificate it issues in a certificate-transparency log before issuing it, and embeds the
log's promise (an SCT, RFC 6962 §3.3) in the certificate; cosign refuses a certificate without a valid one.
The log signed the *precertificate*: RFC 6962 §3.2's ``digitally-signed`` structure

    sct_version(1) | signature_type = certificate_timestamp(1) | timestamp ms(8) | entry_type = precert_entry(2)
    | issuer_key_hash(32) | tbs_certificate length(3) + bytes | extensions length(2) + bytes

where the TBS is the leaf's without the SCT list extension (``tbs_precertificate_bytes``) and the issuer key
hash is the SHA-256 of the issuing CA's SubjectPublicKeyInfo. Written from RFC 6962 with ``cryptography``.
"""

from __future__ import annotations

import hashlib
import struct
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.certificate_transparency import LogEntryType, SignedCertificateTimestamp, Version
from cryptography.x509.oid import ExtendedKeyUsageOID

if TYPE_CHECKING:
    from provenant.attest.fulcio import TransparencyLog, TrustRoot

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CERTIFICATE_TIMESTAMP = 0  # RFC 6962 SignatureType.certificate_timestamp


def _millis(when: datetime) -> int:
    """RFC 6962 timestamps are milliseconds since the epoch (integer arithmetic: no float rounding)."""
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(milliseconds=1)


def signed_data(sct: SignedCertificateTimestamp, leaf: x509.Certificate, issuer: x509.Certificate) -> bytes:
    """The bytes the CT log signed for ``sct``, a precertificate SCT of ``leaf`` issued by ``issuer``."""
    spki = issuer.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    tbs = leaf.tbs_precertificate_bytes
    ext = sct.extension_bytes
    return b"".join(
        (
            struct.pack(">BBQH", sct.version.value, _CERTIFICATE_TIMESTAMP, _millis(sct.timestamp), 1),
            hashlib.sha256(spki).digest(),
            len(tbs).to_bytes(3, "big"),
            tbs,
            struct.pack(">H", len(ext)),
            ext,
        )
    )


def _signature_ok(log: TransparencyLog, signature: bytes, data: bytes) -> bool:
    key = log.key
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:  # RFC 6962 logs sign with ECDSA or RSA only
            return False
    except InvalidSignature:
        return False
    return True


def _one(
    sct: SignedCertificateTimestamp, leaf: x509.Certificate, issuer: x509.Certificate, root: TrustRoot
) -> str | None:
    """None when ``sct`` is a valid v1 precertificate SCT from a CT log of ``root``; else the reason."""
    # Defensive: cryptography parses only v1 SCTs, and an embedded list holds precertificate SCTs.
    if sct.version != Version.v1 or sct.entry_type != LogEntryType.PRE_CERTIFICATE:  # pragma: no mutate
        return "it is not an RFC 6962 v1 precertificate timestamp"  # pragma: no mutate
    if not isinstance(sct.signature_hash_algorithm, hashes.SHA256):
        return f"its hash is {sct.signature_hash_algorithm.name}, not SHA-256"
    log_id = sct.log_id.hex()
    log = root.ct_log(log_id)
    if log is None:
        return f"its log {log_id} is not a CT log of the trusted root {root.path}"
    when = sct.timestamp.replace(tzinfo=UTC)
    if not log.valid.covers(when):
        return f"its log {log.base_url} was not in use at {when:%Y-%m-%dT%H:%M:%SZ}"
    if not _signature_ok(log, sct.signature, signed_data(sct, leaf, issuer)):
        return f"its signature does not verify with the key of {log.base_url}"
    return None


def issuer_of(chain: list[x509.Certificate]) -> x509.Certificate:
    """The CA that issued ``chain[0]`` in a verified chain (leaf first): past a precertificate-signing CA."""
    issuer = chain[1]
    try:
        usages = issuer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return issuer
    # RFC 6962 §3.1: a precertificate signed by a dedicated precertificate-signing CA names that CA's issuer.
    return chain[2] if ExtendedKeyUsageOID.CERTIFICATE_TRANSPARENCY in usages and len(chain) > 2 else issuer


def verify_embedded_sct(leaf: x509.Certificate, issuer: x509.Certificate, root: TrustRoot) -> str | None:
    """None when ``leaf`` embeds at least one SCT that a CT log of ``root`` signed, or when ``root`` lists no CT
    log; else the reason, one line. A root without ``ctlogs`` (GitHub's: its Fulcio logs no certificate) asks for
    no SCT, as ``gh attestation verify`` and provenant's bundle path (:mod:`provenant.attest.bundle_verify`) do."""
    if not root.ct_logs:
        return None
    try:
        scts = leaf.extensions.get_extension_for_class(x509.PrecertificateSignedCertificateTimestamps).value
    except x509.ExtensionNotFound:
        return "the certificate has no embedded SCT: it was never logged in certificate transparency"
    except ValueError as exc:  # a malformed SCT list
        return f"the certificate's SCT list is malformed: {' '.join(str(exc).split())}"
    reasons = []
    for sct in scts:
        why = _one(sct, leaf, issuer, root)
        if why is None:
            return None
        reasons.append(why)
    if not reasons:
        return "the certificate's SCT list is empty: it was never logged in certificate transparency"
    return f"certificate transparency: no valid SCT ({'; '.join(reasons[:3])})"
