"""Keyless verification of cosign's tag-based signatures and attestations (cosign v1/v2 ``.sig`` / ``.att``).

Such a layer carries, as annotations, the Fulcio leaf certificate (``dev.sigstore.cosign/certificate``),
its chain (``dev.sigstore.cosign/chain``) and the Rekor signed entry timestamp with the entry
(``dev.sigstore.cosign/bundle``). sigstore-python only verifies bundles, and refuses SET-only entries of
these kinds, so provenant checks, from the specs and with ``cryptography``:

1. the SET with the log key of the trusted root (:mod:`provenant.attest.rekor_set`);
2. that the Rekor entry is about this certificate and this signature / payload;
3. the certificate chain to a Fulcio CA of the trusted root, at the entry's integrated time
   (:mod:`provenant.attest.fulcio`);
4. the identity and issuer (and GitHub claims) against :class:`~provenant.attest.identity.IdentityMatcher`.

The signature itself (over the payload, or the DSSE PAE) is checked by the caller with the leaf's key.
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography import x509

from provenant.attest.fulcio import load_pem_chain, verify_chain
from provenant.attest.keyless import CertificateInfo, KeylessPolicy
from provenant.attest.rekor_set import SetError, check_body, parse_bundle_annotation, verify_set

CHAIN_ANNOTATION = "dev.sigstore.cosign/chain"
BUNDLE_ANNOTATION = "dev.sigstore.cosign/bundle"


def verify_tag_keyless(
    annotations: Mapping[str, str],
    cert: CertificateInfo,
    policy: KeylessPolicy,
    *,
    payload: bytes,
    signature: bytes | None,
    envelope: bytes | None = None,
) -> str | None:
    """None when the layer's certificate, chain, SET and Rekor entry hold up and the signer is the expected
    one; else the reason, in one line. ``payload`` is what was signed (the simple-signing payload, or the
    DSSE payload); ``signature`` the ``.sig`` signature; ``envelope`` the DSSE envelope bytes of an ``.att``."""
    text = annotations.get(BUNDLE_ANNOTATION)
    if not text:
        return (
            f"no Rekor entry ({BUNDLE_ANNOTATION} annotation): nothing proves when the short-lived certificate was used"
        )
    root = policy.trust
    try:
        entry = parse_bundle_annotation(text)
        verify_set(entry, root)
    except SetError as exc:
        return f"transparency log: {exc}"
    try:
        chain_text = annotations.get(CHAIN_ANNOTATION)
        intermediates = load_pem_chain(chain_text, CHAIN_ANNOTATION) if chain_text else []
        leaf = x509.load_der_x509_certificate(cert.der)
    except ValueError as exc:
        return f"certificate chain annotation: {' '.join(str(exc).split())}"
    try:
        check_body(entry.decoded_body(), cert_der=cert.der, signature=signature, payload=payload, envelope=envelope)
    except SetError as exc:
        return f"transparency log: {exc}"
    why = verify_chain(leaf, intermediates, root, entry.time)
    if why is not None:
        return why
    mismatch = policy.match.mismatch(cert.claims)
    if mismatch is not None:
        return f"identity mismatch: {mismatch} ({policy.match.describe()})"
    return None
