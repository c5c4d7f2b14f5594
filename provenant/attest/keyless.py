"""Keyless (Fulcio certificate) signatures: who the certificate names, and verification with sigstore-python.

Without a trusted root a certificate proves nothing about who signed: provenant then only checks that
the signature matches the certificate's key (so tampering is still caught) and labels the item
``keyless-unverified`` with the identity the certificate *claims*. With ``--trusted-root`` (a Sigstore
``trusted_root.json``) and an expected identity and issuer, sigstore-python verifies the bundle fully
(certificate chain, transparency log or timestamps, signature) and the label becomes
``signed:keyless=<identity>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ObjectIdentifier

from provenant.attest.errors import SignatureFormatError
from provenant.attest.keys import PublicKey

#: Fulcio's OIDC issuer extensions: v1 holds the raw string, v2 a DER UTF8String.
OIDC_ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
OIDC_ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")


@dataclass(frozen=True)
class KeylessPolicy:
    """What a keyless signature must satisfy to be trusted."""

    trusted_root: Path
    identity: str
    issuer: str

    @cached_property
    def root(self) -> Any:
        """sigstore-python's ``TrustedRoot`` from :attr:`trusted_root`, loaded once (see :func:`load_trusted_root`)."""
        return load_trusted_root(self.trusted_root)


@dataclass(frozen=True)
class CertificateInfo:
    """The identity a signing certificate claims, and its key."""

    identity: str | None
    issuer: str | None
    key: PublicKey
    der: bytes


def _der_utf8(value: bytes) -> str:
    # A DER UTF8String: tag 0x0c, a short or long length, then the bytes.
    if len(value) >= 2 and value[0] == 0x0C:
        length = value[1]
        start = 2
        if length & 0x80:
            n = length & 0x7F
            length = int.from_bytes(value[2 : 2 + n], "big")
            start = 2 + n
        return value[start : start + length].decode("utf-8", "replace")
    return value.decode("utf-8", "replace")


def certificate_info(der: bytes, what: str = "certificate") -> CertificateInfo:
    """Parse a DER (or PEM) certificate and read its SAN identity and Fulcio issuer."""
    try:
        cert = (
            x509.load_pem_x509_certificate(der)
            if der.lstrip().startswith(b"-----")
            else x509.load_der_x509_certificate(der)
        )
    except ValueError as exc:
        raise SignatureFormatError(f"{what} is not an X.509 certificate: {exc}") from exc
    identity: str | None = None
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [*san.get_values_for_type(x509.RFC822Name), *san.get_values_for_type(x509.UniformResourceIdentifier)]
        identity = names[0] if names else None
    except x509.ExtensionNotFound:
        pass
    issuer: str | None = None
    for oid, decode in ((OIDC_ISSUER_V2, _der_utf8), (OIDC_ISSUER_V1, lambda b: b.decode("utf-8", "replace"))):
        try:
            ext = cert.extensions.get_extension_for_oid(oid).value
        except x509.ExtensionNotFound:
            continue
        if isinstance(ext, x509.UnrecognizedExtension):
            issuer = decode(ext.value)
            break
    key = PublicKey.from_pem(cert.public_bytes(serialization.Encoding.PEM), what)
    return CertificateInfo(identity, issuer, key, cert.public_bytes(serialization.Encoding.DER))


def _one_line(exc: Exception) -> str:
    """A parse error in one line: pydantic's per-field errors joined, anything else with its whitespace folded."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            parts = [f"{'.'.join(map(str, e['loc'])) or 'document'}: {e['msg']}" for e in errors()]
        except (TypeError, KeyError):
            parts = []
        if parts:
            more = f" (+{len(parts) - 3} more)" if len(parts) > 3 else ""
            return "; ".join(parts[:3]) + more
    return " ".join(str(exc).split())


def load_trusted_root(path: Path) -> Any:
    """sigstore-python's ``TrustedRoot`` from ``path``; a bad file is a one-line UsageError."""
    from provenant.errors import UsageError

    try:
        from sigstore.errors import Error as SigstoreError
        from sigstore.models import TrustedRoot
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise UsageError(
            f"--trusted-root needs sigstore-python ({exc.name} is missing)", hint="pip install 'provenant[keyless]'"
        ) from None
    try:
        return TrustedRoot.from_file(str(path))
    except (OSError, ValueError, SigstoreError) as exc:
        raise UsageError(
            f"cannot load trusted root {path}: {_one_line(exc)}",
            hint="pass a Sigstore trusted_root.json (the TrustedRoot document of the Sigstore instance)",
        ) from None


def verify_bundle(bundle_json: bytes, policy: KeylessPolicy, *, artifact_digest: bytes | None = None) -> str | None:
    """Verify a Sigstore bundle with sigstore-python; None when it verifies, else the reason it does not.

    DSSE bundles are verified as such; message-signature bundles against ``artifact_digest`` (sha256).
    """
    try:
        from sigstore.errors import Error as SigstoreError
        from sigstore.hashes import Hashed
        from sigstore.models import Bundle
        from sigstore.verify import Verifier
        from sigstore.verify.policy import Identity
        from sigstore_models.common.v1 import HashAlgorithm  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:  # pragma: no cover - depends on the environment
        return f"sigstore-python is not installed ({exc.name}); pip install sigstore"
    root = policy.root
    ident = Identity(identity=policy.identity, issuer=policy.issuer)
    spec_reason = _spec_path(bundle_json)
    if spec_reason is not None:
        # sigstore-python refuses this shape; provenant checks it from the specs (attest/bundle_verify.py)
        from provenant.attest.bundle_verify import SpecVerifyError, verify_spec_bundle

        try:
            verify_spec_bundle(spec_reason[1], policy.trusted_root, root, ident, artifact_digest=artifact_digest)
        except SpecVerifyError as exc:
            return f"verification failed ({spec_reason[0]}): {exc}"
        return None
    try:
        bundle = Bundle.from_json(bundle_json)
        verifier = Verifier(trusted_root=root)
        if bundle._dsse_envelope is not None:
            verifier.verify_dsse(bundle, ident)
        else:
            if artifact_digest is None:
                return "message signature without the artifact digest"
            verifier.verify_artifact(Hashed(algorithm=HashAlgorithm.SHA2_256, digest=artifact_digest), bundle, ident)
    except (SigstoreError, ValueError) as exc:
        return f"sigstore verification failed: {_one_line(exc)}"
    return None


def _spec_path(bundle_json: bytes) -> tuple[str, dict[str, Any]] | None:
    """``(why, bundle)`` when sigstore-python cannot verify this bundle's shape, else None."""
    import json

    from provenant.attest.bundle_verify import spec_path_reason

    try:
        doc = json.loads(bundle_json)
    except (ValueError, RecursionError):
        return None  # sigstore-python reports the parse error
    if not isinstance(doc, dict):
        return None
    reason = spec_path_reason(doc)
    return (reason, doc) if reason else None
