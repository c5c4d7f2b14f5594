"""A Sigstore trusted root read by provenant, and the Fulcio certificate chain check.

sigstore-python verifies whole bundles; cosign's tag-based signatures (``.sig`` / ``.att`` layers with
certificate, chain and SET annotations) are not bundles, so provenant checks them itself with
``cryptography``: the leaf must chain to a certificate authority of the trusted root that was valid at the
log's integrated time, be valid itself at that time, and allow code signing. The trusted root is the
public ``trusted_root.json`` document (``certificateAuthorities``, ``tlogs``, ``ctlogs``); only the parts needed here
are read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID

from provenant.attest.sct import issuer_of, verify_embedded_sct
from provenant.errors import UsageError
from provenant.limits import Limits, current
from provenant.structured import load_json

#: A PEM chain annotation holds an intermediate and a root: a few KB. More certificates than this is not a chain.
MAX_CHAIN_CERTS = 10


@dataclass(frozen=True)
class Validity:
    """The ``validFor`` window of a trusted-root entry (``end`` None: still valid)."""

    start: datetime | None
    end: datetime | None

    def covers(self, when: datetime) -> bool:
        """Is ``when`` inside the window?"""
        return (self.start is None or self.start <= when) and (self.end is None or when <= self.end)


@dataclass(frozen=True)
class CertificateAuthority:
    """One Fulcio CA of the trusted root: its chain (intermediates then root) and when it may issue."""

    uri: str
    certificates: tuple[x509.Certificate, ...]
    valid: Validity


@dataclass(frozen=True)
class TransparencyLog:
    """One Rekor log of the trusted root: its key, the log ID derived from it, and when it was in use."""

    base_url: str
    log_id: str
    key: PublicKeyTypes
    valid: Validity


@dataclass(frozen=True)
class TrustRoot:
    """The certificate authorities, transparency (Rekor) logs and certificate-transparency logs of a trusted root."""

    path: str
    authorities: tuple[CertificateAuthority, ...]
    logs: tuple[TransparencyLog, ...]
    ct_logs: tuple[TransparencyLog, ...] = ()

    def log(self, log_id: str) -> TransparencyLog | None:
        """The Rekor log whose ID (hex SHA-256 of its DER key) is ``log_id``."""
        return next((t for t in self.logs if t.log_id == log_id.lower()), None)

    def ct_log(self, log_id: str) -> TransparencyLog | None:
        """The CT log whose ID (hex SHA-256 of its DER key, RFC 6962 §3.2) is ``log_id``."""
        return next((t for t in self.ct_logs if t.log_id == log_id.lower()), None)


def _time(value: Any, what: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{what} is not an RFC 3339 time")
    return datetime.fromisoformat(value)  # Python >= 3.11 reads the "Z" of RFC 3339


def _validity(entry: dict[str, Any], key: str) -> Validity:
    window = entry.get(key) or {}
    if not isinstance(window, dict):
        raise ValueError(f"{key} is not an object")
    return Validity(_time(window.get("start"), f"{key}.start"), _time(window.get("end"), f"{key}.end"))


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"{what} is not a base64 string")
    return base64.b64decode(value, validate=True)


def _authority(entry: Any) -> CertificateAuthority:
    if not isinstance(entry, dict):
        raise ValueError("a certificateAuthorities entry is not an object")
    chain = (entry.get("certChain") or {}).get("certificates") or []
    if not isinstance(chain, list) or not chain:
        raise ValueError("a certificate authority has no certChain.certificates")
    certs = tuple(x509.load_der_x509_certificate(_b64(c.get("rawBytes"), "rawBytes")) for c in chain)
    return CertificateAuthority(str(entry.get("uri", "?")), certs, _validity(entry, "validFor"))


def _log(entry: Any) -> TransparencyLog:
    if not isinstance(entry, dict) or not isinstance(entry.get("publicKey"), dict):
        raise ValueError("a tlogs or ctlogs entry has no publicKey")
    pk = entry["publicKey"]
    der = _b64(pk.get("rawBytes"), "publicKey.rawBytes")
    key = serialization.load_der_public_key(der)
    # The log ID is the SHA-256 of the DER key: computed, not taken from the file's keyId, so it cannot lie.
    log_id = hashlib.sha256(der).hexdigest()
    return TransparencyLog(str(entry.get("baseUrl", "?")), log_id, key, _validity(pk, "validFor"))


def parse_trust_root(data: bytes, path: str, limits: Limits | None = None) -> TrustRoot:
    """A :class:`TrustRoot` from the bytes of a ``trusted_root.json``; a bad file is one UsageError line."""
    hint = "pass a Sigstore trusted_root.json (the TrustedRoot document of the Sigstore instance)"
    try:
        doc = load_json(data, f"trusted root {path}", limits)
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        authorities = tuple(_authority(e) for e in doc.get("certificateAuthorities") or [])
        logs = tuple(_log(e) for e in doc.get("tlogs") or [])
        ct_logs = tuple(_log(e) for e in doc.get("ctlogs") or [])
    except (ValueError, TypeError, AttributeError, binascii.Error, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot load trusted root {path}: {' '.join(str(exc).split())}", hint=hint) from None
    return TrustRoot(path, authorities, logs, ct_logs)


def load_trust_root(path: Path, limits: Limits | None = None) -> TrustRoot:
    """Read and parse ``path`` (at most ``policy_bytes``: it is a configuration file the user names)."""
    lim = limits or current()
    return parse_trust_root(read_trust_root(path, lim), str(path), lim)


def read_trust_root(path: Path, limits: Limits | None = None) -> bytes:
    """The bytes of the trusted root at ``path``, at most ``policy_bytes``; a one-line error otherwise."""
    lim = limits or current()
    try:
        with path.open("rb") as fh:
            data = fh.read(lim.policy_bytes + 1)  # pragma: no mutate (memory bound: the answer is the same)
    except OSError as exc:
        raise UsageError(f"cannot read trusted root {path}: {exc.strerror or exc}") from None
    if len(data) > lim.policy_bytes:
        from provenant.limits import LimitExceededError

        raise LimitExceededError(f"trusted root {path}", "policy_bytes", limits=lim)
    return data


def load_pem_chain(text: str, what: str) -> list[x509.Certificate]:
    """The certificates of a PEM chain annotation, at most :data:`MAX_CHAIN_CERTS`; ValueError when bad."""
    if text.count("-----BEGIN CERTIFICATE-----") > MAX_CHAIN_CERTS:
        raise ValueError(f"{what} holds more than {MAX_CHAIN_CERTS} certificates")
    return x509.load_pem_x509_certificates(text.encode())


def _utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def verify_chain(
    leaf: x509.Certificate, intermediates: list[x509.Certificate], root: TrustRoot, when: datetime
) -> str | None:
    """None when ``leaf`` chains to a CA of ``root`` valid at ``when``, is a code-signing certificate valid at
    ``when`` and embeds a valid SCT of a CT log of ``root`` (when it lists any); else the reason, in one line."""
    from cryptography.x509.verification import (
        Criticality,
        ExtensionPolicy,
        PolicyBuilder,
        Store,
        VerificationError,
    )

    when = _utc(when)
    if not (_utc(leaf.not_valid_before_utc) <= when <= _utc(leaf.not_valid_after_utc)):
        return (
            f"the certificate was not valid at the log's integrated time {when:%Y-%m-%dT%H:%M:%SZ} "
            f"(valid {leaf.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ} to {leaf.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ})"
        )
    anchors = [c for ca in root.authorities if ca.valid.covers(when) for c in ca.certificates]
    if not anchors:
        return f"the trusted root {root.path} has no certificate authority valid at {when:%Y-%m-%dT%H:%M:%SZ}"
    # Fulcio certificates carry the code-signing EKU, not client-auth: allow EKU in the profile, check it below.
    eku, optional = x509.ExtendedKeyUsage, Criticality.NON_CRITICAL
    ca_policy = ExtensionPolicy.webpki_defaults_ca().may_be_present(eku, optional, None)
    ee_policy = ExtensionPolicy.webpki_defaults_ee().may_be_present(eku, optional, None)
    verifier = (
        PolicyBuilder()
        .store(Store(anchors))
        .time(when)
        .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy)
        .build_client_verifier()
    )
    try:
        chain = verifier.verify(leaf, intermediates).chain
    except (VerificationError, x509.UnsupportedGeneralNameType, ValueError) as exc:
        detail = " ".join(str(exc).split())
        return f"the certificate does not chain to a Fulcio CA of the trusted root {root.path}: {detail}"
    try:
        usages = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return "the certificate has no extended key usage (code signing required)"
    if ExtendedKeyUsageOID.CODE_SIGNING not in usages:
        return "the certificate is not a code-signing certificate"
    return verify_embedded_sct(leaf, issuer_of(chain), root)
