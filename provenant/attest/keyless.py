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
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ObjectIdentifier

from provenant.attest.errors import SignatureFormatError
from provenant.attest.identity import Claims, Expect, IdentityMatcher, Signers, claims_of
from provenant.attest.keys import PublicKey

if TYPE_CHECKING:
    from provenant.attest.fulcio import TrustRoot

#: Fulcio's OIDC issuer extensions: v1 holds the raw string, v2 a DER UTF8String.
OIDC_ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
OIDC_ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")


@dataclass(frozen=True)
class KeylessPolicy:
    """What a keyless signature must satisfy to be trusted."""

    trusted_root: Path
    identity: str
    issuer: str
    #: Regexps and GitHub claims (``--certificate-*-regexp``, ``--certificate-github-workflow-*``); when None,
    #: ``identity`` and ``issuer`` must match exactly.
    matcher: IdentityMatcher | Signers | None = None

    @cached_property
    def root(self) -> Any:
        """sigstore-python's ``TrustedRoot`` from :attr:`trusted_root`, loaded once (see :func:`load_trusted_root`)."""
        return load_trusted_root(self.trusted_root)

    @cached_property
    def trust(self) -> TrustRoot:
        """The trusted root as provenant reads it (for cosign's tag-based signatures), loaded once."""
        from provenant.attest.fulcio import load_trust_root

        return load_trust_root(self.trusted_root)

    @property
    def match(self) -> IdentityMatcher | Signers:
        """What the signer must be: :attr:`matcher`, or exactly :attr:`identity` and :attr:`issuer`."""
        return self.matcher or IdentityMatcher(Expect(self.identity), Expect(self.issuer))


@dataclass(frozen=True)
class CertificateInfo:
    """The identity a signing certificate claims, and its key."""

    identity: str | None
    issuer: str | None
    key: PublicKey
    der: bytes
    claims: Claims


def certificate_info(der: bytes | str, what: str = "certificate") -> CertificateInfo:
    """Parse a DER (or PEM: bytes, or the text of an annotation or JSON field) certificate and read its SAN
    identity and Fulcio issuer."""
    if isinstance(der, str):
        if not der.isascii():  # PEM is ASCII (RFC 7468); a JSON string may hold anything, even lone surrogates
            raise SignatureFormatError(f"{what} is not an X.509 certificate: its PEM text is not ASCII")
        der = der.encode()
    try:
        cert = (
            x509.load_pem_x509_certificate(der)
            if der.lstrip().startswith(b"-----")
            else x509.load_der_x509_certificate(der)
        )
    except ValueError as exc:
        raise SignatureFormatError(f"{what} is not an X.509 certificate: {exc}") from exc
    claims = claims_of(cert)
    key = PublicKey.from_pem(cert.public_bytes(serialization.Encoding.PEM), what)
    der_bytes = cert.public_bytes(serialization.Encoding.DER)
    return CertificateInfo(claims.identity, claims.issuer, key, der_bytes, claims)


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
    """Verify a Sigstore bundle; None when it verifies, else the reason it does not.

    sigstore-python verifies the shapes it supports; provenant's spec path (attest/bundle_verify.py) the ones it
    refuses. DSSE bundles are verified as such; message-signature bundles against ``artifact_digest`` (sha256).
    """
    try:
        from sigstore.errors import Error as SigstoreError
        from sigstore.hashes import Hashed
        from sigstore.models import Bundle
        from sigstore.verify import Verifier
        from sigstore_models.common.v1 import HashAlgorithm  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:  # pragma: no cover - depends on the environment
        return f"sigstore-python is not installed ({exc.name}); pip install sigstore"
    root = policy.root
    ident = _identity_policy(policy)
    spec_reason = _spec_path(bundle_json)
    if spec_reason is not None:
        # sigstore-python refuses this shape; provenant checks it from the specs (attest/bundle_verify.py)
        from provenant.attest.bundle_verify import SpecVerifyError, verify_spec_bundle

        try:
            verify_spec_bundle(
                spec_reason[1], policy.trusted_root, policy.trust, ident, artifact_digest=artifact_digest
            )
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
        if str(exc).startswith(_MISMATCH):
            return _one_line(exc)
        return f"sigstore verification failed: {_one_line(exc)}"
    return None


_MISMATCH = "identity mismatch: "


def _identity_policy(policy: KeylessPolicy) -> Any:
    """A sigstore-python ``VerificationPolicy`` for ``policy``, used by both verification paths.

    Exact identity and issuer: sigstore-python's own ``Identity``. Regexps and GitHub claims: provenant's matcher
    (attest/identity.py), judged on the certificate each path has verified.
    """
    from sigstore.errors import VerificationError
    from sigstore.verify.policy import Identity

    if policy.matcher is None:
        return Identity(identity=policy.identity, issuer=policy.issuer)
    matcher = policy.matcher

    class _Matcher:
        def verify(self, cert: x509.Certificate) -> None:
            why = matcher.mismatch(claims_of(cert))
            if why is not None:
                raise VerificationError(_MISMATCH + why)

    return _Matcher()


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
