"""Errors of the attestation feature (all :class:`~provenant.errors.ProvenantError`)."""

from __future__ import annotations

from provenant.errors import ProvenantError


class KeyLoadError(ProvenantError):
    """A key file is missing, malformed, of an unsupported type, or its passphrase is wrong."""


class SignatureFormatError(ProvenantError):
    """An envelope, signature payload, statement or bundle is malformed."""


class AttestError(ProvenantError):
    """Creating or pushing an attestation or signature failed."""
