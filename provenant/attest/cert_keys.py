"""A certificate given where a public key is expected (``--key cert.pem``, a policy's trusted keys).

A certificate's key proves nothing by itself: anyone can make a certificate for any key, and a Fulcio
certificate is valid for ten minutes only. So a bare certificate is refused as a key, unless a trusted root
is given and the certificate chains to it and names the expected identity and issuer: then the signatures
it made are checked as keyless ones (the chain, the signing time from the log or a timestamp authority,
the identity), and the file adds no key.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cryptography import x509

from provenant.attest.errors import KeyLoadError
from provenant.attest.identity import claims_of
from provenant.attest.keyless import KeylessPolicy, certificate_info
from provenant.attest.keys import PublicKey, load_public_key

_MAX_KEY_FILE = 1024 * 1024
_HINT = (
    "pass the signer's public key, or verify keyless with --trusted-root, --certificate-identity "
    "and --certificate-oidc-issuer"
)


def is_certificate(path: Path) -> bool:
    """True when the PEM file at ``path`` holds a certificate rather than a public key."""
    try:
        with path.open("rb") as f:
            return b"-----BEGIN CERTIFICATE-----" in f.read(_MAX_KEY_FILE)
    except OSError:
        return False


def certificate_as_keyless(path: Path, policy: KeylessPolicy) -> str:
    """Check that the certificate at ``path`` chains to the trusted root and names the policy's identity.

    Returns a note for the output; raises :class:`KeyLoadError` when it does not hold.
    """
    from provenant.attest.bundle_verify import SpecVerifyError, _chain_at, load_spec_root

    data = path.read_bytes()[:_MAX_KEY_FILE]
    try:
        cert = x509.load_pem_x509_certificate(data)
    except ValueError:
        raise KeyLoadError(f"{path}: not a PEM certificate", hint=_HINT) from None
    try:
        _chain_at(cert, load_spec_root(policy.trusted_root), cert.not_valid_before_utc)
    except SpecVerifyError as exc:
        raise KeyLoadError(f"{path}: certificate given as --key is refused: {exc}", hint=_HINT) from None
    info = certificate_info(data, str(path))
    why = policy.match.mismatch(claims_of(cert))
    if why is not None:
        raise KeyLoadError(f"{path}: certificate given as --key does not name the expected signer: {why}", hint=_HINT)
    return (
        f"{path} is a certificate for {info.identity} that chains to the trusted root: signatures are checked "
        "as keyless (chain, signing time, identity), not with it as a key"
    )


def load_keys(paths: Sequence[Path], policy: KeylessPolicy | None) -> tuple[list[PublicKey], list[str]]:
    """The public keys of ``paths``, and notes; a certificate must pass :func:`certificate_as_keyless`."""
    keys: list[PublicKey] = []
    notes: list[str] = []
    for path in paths:
        if is_certificate(path):
            if policy is None:
                raise KeyLoadError(
                    f"{path} is a certificate, not a public key: a certificate's key proves an identity only "
                    "when it chains to a trusted root and was valid when it signed",
                    hint=_HINT,
                )
            notes.append(certificate_as_keyless(path, policy))
        else:
            keys.append(load_public_key(path))
    return keys, notes
