"""Who a Fulcio certificate names, and whether that is who the user trusts.

A Fulcio certificate names its signer in the subject alternative name (an email, a URI such as a GitHub
workflow, or an ``otherName`` username) and its OIDC issuer and CI claims in extensions under
``1.3.6.1.4.1.57264.1``. :class:`IdentityMatcher` holds what ``--certificate-identity[-regexp]``,
``--certificate-oidc-issuer[-regexp]`` and ``--certificate-github-workflow-*`` ask for.

Regexps follow cosign: a regexp matches when it is found anywhere in the value (Go's ``MatchString``;
anchor it with ``^…$`` to match the whole value). They are user input, so they are matched in linear
time by :mod:`provenant.attest.linear_re` (like Go's RE2, which cosign uses), not by Python's
backtracking ``re``; values longer than :data:`MAX_MATCHED` never match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

from provenant.attest.linear_re import LinearPattern, compile_linear
from provenant.errors import UsageError

_FULCIO = "1.3.6.1.4.1.57264.1."
#: Fulcio's extensions: v1 ones hold the raw string, the others a DER UTF8String.
CLAIMS: dict[str, tuple[str, bool]] = {
    "issuer-v1": (_FULCIO + "1", False),
    "github-workflow-trigger": (_FULCIO + "2", False),
    "github-workflow-sha": (_FULCIO + "3", False),
    "github-workflow-name": (_FULCIO + "4", False),
    "github-workflow-repository": (_FULCIO + "5", False),
    "github-workflow-ref": (_FULCIO + "6", False),
    "issuer": (_FULCIO + "8", True),
    "build-signer-uri": (_FULCIO + "9", True),
    "build-signer-digest": (_FULCIO + "10", True),
    "runner-environment": (_FULCIO + "11", True),
    "source-repository-uri": (_FULCIO + "12", True),
    "source-repository-digest": (_FULCIO + "13", True),
    "source-repository-ref": (_FULCIO + "14", True),
    "build-config-uri": (_FULCIO + "18", True),
    "build-trigger": (_FULCIO + "20", True),
    "run-invocation-uri": (_FULCIO + "21", True),
}
#: Fulcio's otherName SAN type for username identities.
OTHERNAME_USERNAME = ObjectIdentifier(_FULCIO + "7")
#: Pattern length and matched-value length bounds (a SAN or claim longer than this never matches).
MAX_PATTERN = 1024
MAX_MATCHED = 1024


def der_utf8(value: bytes) -> str:
    """The text of a DER string (UTF8String, IA5String, PrintableString…); raw bytes decoded when not DER."""
    if len(value) >= 2 and value[0] in (0x0C, 0x16, 0x13, 0x1A):
        length, start = value[1], 2
        if length & 0x80:
            n = length & 0x7F
            length, start = int.from_bytes(value[2 : 2 + n], "big"), 2 + n
        return value[start : start + length].decode("utf-8", "replace")
    return value.decode("utf-8", "replace")


@dataclass(frozen=True)
class Claims:
    """A certificate's identities (SANs, in order) and its Fulcio claims."""

    identities: tuple[str, ...]
    extensions: dict[str, str] = field(default_factory=dict)

    @property
    def identity(self) -> str | None:
        """The first SAN: what provenant shows as the signer."""
        return self.identities[0] if self.identities else None

    @property
    def issuer(self) -> str | None:
        """The OIDC issuer (v2 extension, else v1)."""
        return self.extensions.get("issuer") or self.extensions.get("issuer-v1")

    def github(self, claim: str) -> str | None:
        """A GitHub workflow claim as cosign reads it (the v1 extension), else its v2 equivalent."""
        v1 = self.extensions.get(f"github-workflow-{claim}")
        if v1 is not None:
            return v1
        if claim == "repository":
            uri = self.extensions.get("source-repository-uri")
            return uri.removeprefix("https://github.com/") if uri else None
        v2 = {"ref": "source-repository-ref", "trigger": "build-trigger", "sha": "source-repository-digest"}.get(claim)
        return self.extensions.get(v2) if v2 else None

    def shown(self) -> dict[str, str]:
        """The claims worth showing beside the signer."""
        keys = ("github-workflow-repository", "github-workflow-ref", "github-workflow-trigger", "build-signer-uri")
        out = {k: v for k, v in self.extensions.items() if k in keys}
        for claim in ("repository", "ref", "trigger"):
            value = self.github(claim)
            if value is not None:
                out.setdefault(f"github-workflow-{claim}", value)
        return out


def claims_of(cert: x509.Certificate) -> Claims:
    """Read the SANs and Fulcio extensions of ``cert`` (unparseable ones are skipped, never fatal)."""
    names: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        for gn in san:
            if isinstance(gn, (x509.RFC822Name, x509.UniformResourceIdentifier, x509.DNSName)):
                names.append(gn.value)
            elif isinstance(gn, x509.OtherName):
                names.append(der_utf8(gn.value))
            elif isinstance(gn, x509.IPAddress):
                names.append(str(gn.value))
    except (x509.ExtensionNotFound, ValueError):
        pass
    ext: dict[str, str] = {}
    for name, (oid, is_der) in CLAIMS.items():
        try:
            value: Any = cert.extensions.get_extension_for_oid(ObjectIdentifier(oid)).value
        except (x509.ExtensionNotFound, ValueError):
            continue
        if isinstance(value, x509.UnrecognizedExtension):
            ext[name] = der_utf8(value.value) if is_der else value.value.decode("utf-8", "replace")
    return Claims(tuple(names), ext)


# -- bounded regexps -----------------------------------------------------------------------------------


def compile_bounded(pattern: str, flag: str) -> LinearPattern:
    """Compile a user regexp for linear-time matching (:mod:`provenant.attest.linear_re`); a bad or too long
    one is one UsageError line."""
    if len(pattern) > MAX_PATTERN:
        raise UsageError(f"{flag}: the regexp is {len(pattern)} characters long, over {MAX_PATTERN}")
    return compile_linear(pattern, flag)


def _found(pattern: LinearPattern, value: str) -> bool:
    return len(value) <= MAX_MATCHED and pattern.search(value)


# -- the matcher ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """One expected value: exact text, or a bounded regexp."""

    text: str
    regexp: LinearPattern | None = None

    def matches(self, value: str | None) -> bool:
        """Does ``value`` satisfy this expectation?"""
        if value is None:
            return False
        return _found(self.regexp, value) if self.regexp is not None else value == self.text

    def __str__(self) -> str:
        return f"/{self.text}/" if self.regexp is not None else self.text


def expect(exact: str | None, regexp: str | None, flag: str) -> Expect | None:
    """An :class:`Expect` from an exact flag and its ``-regexp`` twin (at most one of them)."""
    if exact is not None and regexp is not None:
        raise UsageError(f"give {flag} or {flag}-regexp, not both")
    if regexp is not None:
        return Expect(regexp, compile_bounded(regexp, f"{flag}-regexp"))
    return Expect(exact) if exact is not None else None


@dataclass(frozen=True)
class IdentityMatcher:
    """What a keyless signer must be: identity and issuer (each exact or regexp) and GitHub claims."""

    identity: Expect
    issuer: Expect
    github: dict[str, Expect] = field(default_factory=dict)

    def mismatch(self, claims: Claims) -> str | None:
        """None when ``claims`` satisfy the matcher, else what differs (one line)."""
        if not any(self.identity.matches(n) for n in claims.identities):
            names = ", ".join(claims.identities) or "no identity"
            return f"the certificate names {names}, not {self.identity}"
        if not self.issuer.matches(claims.issuer):
            return f"the certificate's issuer is {claims.issuer or 'not stated'}, not {self.issuer}"
        for claim, want in self.github.items():
            got = claims.github(claim)
            if not want.matches(got):
                return f"the certificate's GitHub workflow {claim} is {got or 'not stated'}, not {want}"
        return None

    def describe(self) -> str:
        """The matcher in one line, for notes and reasons."""
        extra = "".join(f", github {k} {v}" for k, v in self.github.items())
        return f"identity {self.identity}, issuer {self.issuer}{extra}"


@dataclass(frozen=True)
class Signers:
    """Several trusted keyless signers (a policy's list): any one of them matching is enough."""

    matchers: tuple[IdentityMatcher, ...]

    def mismatch(self, claims: Claims) -> str | None:
        """None when one signer matches, else each one's reason."""
        reasons = [m.mismatch(claims) for m in self.matchers]
        if any(r is None for r in reasons) or not reasons:
            return None if reasons else "no keyless signer is trusted"
        return reasons[0] if len(reasons) == 1 else "; ".join(f"signer {i + 1}: {r}" for i, r in enumerate(reasons))

    def describe(self) -> str:
        """All signers, in one line."""
        return " | ".join(m.describe() for m in self.matchers)
