"""One error hierarchy. Every message says what failed, the concrete got/expected, and what to do next.

The CLI prints ``diagnostics()`` as a single line and exits 2; nothing else is shown unless ``--debug``.
"""

from __future__ import annotations


class ProvenantError(Exception):
    """Base class of every error provenant reports to a user."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostics(self) -> str:
        """One human line: what failed, then what to do about it."""
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class UsageError(ProvenantError):
    """The user asked for something that cannot be done as asked."""


class InvalidReferenceError(ProvenantError):
    """An image reference could not be parsed."""


class SourceError(ProvenantError):
    """A local image source (layout directory, tarball) is missing or malformed."""


class ManifestError(ProvenantError):
    """A manifest, index or config is malformed or of an unsupported kind."""


class DigestMismatchError(ProvenantError):
    """Bytes did not hash to the digest (or size) that was asked for."""

    def __init__(self, what: str, *, expected: str, got: str) -> None:
        super().__init__(
            f"{what}: content does not match its digest: expected {expected}, got {got}",
            hint="the source served corrupted or tampered bytes; do not trust this image",
        )
        self.expected = expected
        self.got = got


class PlatformNotFoundError(ProvenantError):
    """No manifest in an index matches the requested platform."""


class RegistryError(ProvenantError):
    """A registry answered with an error, or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code


class AuthenticationError(RegistryError):
    """Credentials were missing, rejected, or could not be obtained."""


class NotFoundError(RegistryError):
    """The repository, tag, manifest or blob does not exist."""


class CredentialError(ProvenantError):
    """A credential source (config.json, helper, environment) is broken."""
