"""Turn a discovered item into an :class:`Attachment`: what it is, who signed it, and whether it is about this image.

Trust labels:

``unsigned``
    nothing signs it (BuildKit in-index attestations, attached SBOMs).
``signed:key=<fingerprint>``
    a signature verified with one of the given public keys.
``signed:keyless=<identity>``
    a Sigstore bundle verified with sigstore-python against the given trusted root and identity.
``signed-unverified``
    it carries a key-based signature, but no ``--key`` was given to check it.
``keyless-unverified``
    signed with a certificate; the signature matches the certificate's key, but no trusted root was
    given, so the identity it claims is not trusted.
``signature-invalid``
    a signature is present and does not verify (tampered payload, another key, corrupt bundle).
``unreadable``
    the item could not be read or parsed; ``error`` says why.

Independently, ``subject_check`` says whether the signed or stated subject equals the digest the item
is attached to (``match``), names other digests (``mismatch``), or cannot be checked (``not-checked``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from provenant.attest import constants as c
from provenant.attest.discover import Found
from provenant.attest.dsse import verify_envelope
from provenant.attest.errors import SignatureFormatError
from provenant.attest.keyless import CertificateInfo, KeylessPolicy, certificate_info, verify_bundle
from provenant.attest.keys import PublicKey
from provenant.attest.models import (
    Envelope,
    SigstoreBundle,
    Statement,
    b64decode,
    parse_bundle,
    parse_envelope,
    parse_simple_signing,
    parse_statement,
)
from provenant.attest.provenance import ProvenanceSummary, extract_provenance
from provenant.attest.simplesign import verify_payload
from provenant.errors import ProvenantError
from provenant.structured import load_json
from provenant.textsafe import one_line, printable

UNSIGNED = "unsigned"
SIGNED_UNVERIFIED = "signed-unverified"
KEYLESS_UNVERIFIED = "keyless-unverified"
SIGNATURE_INVALID = "signature-invalid"
UNREADABLE = "unreadable"
#: cosign v3 signs images with an in-toto statement of this predicate type inside a bundle.
COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"
_NOTATION_TYPES = frozenset({"application/jose+json", "application/cose"})

Kind = Literal["attestation", "signature", "sbom", "other"]


class SubjectCheck(BaseModel):
    """Does the item speak about the digest it is attached to?"""

    status: Literal["match", "mismatch", "not-checked"]
    expected: str
    found: list[str] = Field(default_factory=list)
    detail: str | None = None


class Attachment(BaseModel):
    """One attached item, interpreted."""

    kind: Kind
    format: str = Field(description="in-toto, dsse, simplesigning, sigstore-bundle, sbom, unknown")
    source: str = Field(description="buildkit-index, cosign-tag, cosign-layout, oci-referrers, oci-referrers-tag")
    location: str
    container_digest: str = Field(description="the manifest holding the item")
    media_type: str
    predicate_type: str | None = None
    predicate_family: str | None = None
    statement_type: str | None = None
    trust: str
    signer: str | None = Field(default=None, description="key fingerprint, or the certificate's identity")
    signer_issuer: str | None = None
    signer_claims: dict[str, str] = Field(
        default_factory=dict, description="GitHub workflow claims of the signing certificate (repository, ref, …)"
    )
    subject_check: SubjectCheck
    signed_reference: str | None = Field(default=None, description="critical.identity.docker-reference")
    provenance: ProvenanceSummary | None = None
    problems: list[str] = Field(default_factory=list)
    error: str | None = None

    @property
    def verified(self) -> bool:
        """Signed by a trusted key or identity, and about the right digest."""
        return self.trust.startswith("signed:") and self.subject_check.status == "match"


@dataclass(frozen=True)
class Trust:
    """What signatures are checked against."""

    keys: Sequence[PublicKey] = ()
    keyless: KeylessPolicy | None = None


@dataclass
class _Sig:
    """The outcome of checking one signature."""

    trust: str
    signer: str | None = None
    issuer: str | None = None
    problems: list[str] = field(default_factory=list)
    claims: dict[str, str] = field(default_factory=dict)


def _key_outcome(verified: Sequence[PublicKey], trust: Trust, what: str) -> _Sig:
    if verified:
        return _Sig(f"signed:key={verified[0].fingerprint}", verified[0].fingerprint)
    if not trust.keys:
        return _Sig(
            SIGNED_UNVERIFIED, problems=[f"{what} not checked: no --key was given (pass the signer's public key)"]
        )
    n = len(trust.keys)
    return _Sig(
        SIGNATURE_INVALID,
        problems=[
            f"{what} does not verify with {'the given key' if n == 1 else f'any of the {n} given keys'} "
            f"({', '.join(k.fingerprint for k in trust.keys)}): signed by another key, or the payload was altered"
        ],
    )


def _cert_outcome(info: CertificateInfo, ok: bool, what: str) -> _Sig:
    if not ok:
        return _Sig(
            SIGNATURE_INVALID,
            info.identity,
            info.issuer,
            [f"{what} does not match the key of its own certificate: the payload or signature was altered"],
            info.claims.shown(),
        )
    return _Sig(
        KEYLESS_UNVERIFIED,
        info.identity,
        info.issuer,
        [
            f"{what} is signed by a certificate for {info.identity or '?'} (issuer {info.issuer or '?'}); "
            "not trusted without --trusted-root, --certificate-identity and --certificate-oidc-issuer"
        ],
        info.claims.shown(),
    )


def _signature_cert(env: Envelope) -> CertificateInfo | None:
    """The certificate a DSSE signature carries in ``signatures[].cert`` (PEM), if any."""
    pem = next((s.cert for s in env.signatures if s.cert), None)
    return certificate_info(pem, "DSSE signature certificate") if pem else None


def _subject_check(expected: str, found: list[str]) -> SubjectCheck:
    if expected in found:
        return SubjectCheck(status="match", expected=expected, found=found)
    return SubjectCheck(
        status="mismatch",
        expected=expected,
        found=found,
        detail=f"it is about {', '.join(found) or 'no digest'}, not {expected}",
    )


class _Evaluator:
    def __init__(self, item: Found, trust: Trust) -> None:
        self.item = item
        self.trust = trust
        self.out = Attachment(
            kind="other",
            format=item.format,
            source=item.source,
            location=item.location,
            container_digest=item.container,
            media_type=item.media_type,
            trust=UNSIGNED,
            subject_check=SubjectCheck(status="not-checked", expected=item.subject),
            problems=list(item.problems),
            error=item.error,
        )

    def _statement(self, payload: bytes, what: str) -> Statement | None:
        try:
            stmt = parse_statement(payload, what)
        except SignatureFormatError as exc:
            self.out.problems.append(exc.diagnostics())
            return None
        out = self.out
        out.statement_type = stmt.version
        out.predicate_type = stmt.predicate_type
        out.predicate_family = c.predicate_family(stmt.predicate_type)
        out.kind = "signature" if stmt.predicate_type == COSIGN_SIGN_PREDICATE else "attestation"
        out.subject_check = _subject_check(self.item.subject, stmt.subject_digests())
        for key in (c.IN_TOTO_PREDICATE_ANNOTATION, c.COSIGN_PREDICATE_ANNOTATION, c.BUNDLE_PREDICATE_ANNOTATION):
            declared = self.item.annotations.get(key)
            if declared and declared != stmt.predicate_type:
                out.problems.append(
                    f"annotation {key} says {declared}, but the statement's predicateType is {stmt.predicate_type}"
                )
        try:
            out.provenance = extract_provenance(stmt.predicate_type, stmt.predicate)
        except ValueError as exc:
            out.problems.append(f"provenance predicate: {exc}")
        if out.provenance is not None and out.provenance.source.dirty:
            out.problems.append(
                f"provenance: built from a work tree with uncommitted changes ({out.provenance.source.revision}), "
                "not from a clean commit"
            )
        return stmt

    def _apply(self, sig: _Sig) -> None:
        self.out.trust = sig.trust
        self.out.signer = sig.signer
        self.out.signer_issuer = sig.issuer
        self.out.signer_claims = sig.claims
        self.out.problems.extend(sig.problems)

    def _envelope(self, env: Envelope, what: str, cert: CertificateInfo | None, raw: bytes | None = None) -> None:
        """Check ``env``; with ``raw`` (the bytes of a cosign ``.att`` layer), ``cert`` came from its annotations
        and is verified keyless against the Rekor entry when a trusted root is given. Without a ``cert``, one
        carried in the envelope's own signatures (``signatures[].cert``) is used."""
        cert = cert or _signature_cert(env)
        if env.payload_type != c.IN_TOTO:
            self.out.problems.append(f"{what} has payloadType {env.payload_type!r}, expected {c.IN_TOTO}")
        by_key = verify_envelope(env, self.trust.keys) if raw is not None and self.trust.keys else []
        if cert is not None and not by_key:
            # no given key signed it (as for a .sig): judge it by the certificate it carries
            from provenant.attest.dsse import pae

            message = pae(env.payload_type, env.payload_bytes())
            ok = any(cert.key.verify(b64decode(s.sig, "DSSE signature"), message) for s in env.signatures)
            if ok and raw is not None and self.trust.keyless is not None:
                from provenant.attest.cosign_keyless import verify_tag_keyless

                reason = verify_tag_keyless(
                    self.item.annotations,
                    cert,
                    self.trust.keyless,
                    payload=env.payload_bytes(),
                    signature=None,
                    envelope=raw,
                )
                self._keyless_verdict(cert, reason)
            else:
                self._apply(_cert_outcome(cert, ok, what))
        else:
            self._apply(_key_outcome(by_key or verify_envelope(env, self.trust.keys), self.trust, what))
        self._statement(env.payload_bytes(), f"{what} payload")

    # -- per format --------------------------------------------------------------------------------

    def in_toto(self, data: bytes) -> None:
        self.out.kind = "attestation"
        self._statement(data, "in-toto statement")

    def dsse(self, data: bytes) -> None:
        self.out.kind = "attestation"
        cert_pem = self.item.annotations.get(c.COSIGN_CERTIFICATE_ANNOTATION)
        cert = certificate_info(cert_pem, "attestation certificate") if cert_pem else None
        self._envelope(parse_envelope(data, "DSSE envelope"), "DSSE envelope", cert, data if cert else None)

    def simplesigning(self, data: bytes) -> None:
        out = self.out
        out.kind = "signature"
        ann = self.item.annotations
        sig_text = ann.get(c.COSIGN_SIGNATURE_ANNOTATION)
        if not sig_text:
            out.trust = SIGNATURE_INVALID
            out.problems.append(f"no {c.COSIGN_SIGNATURE_ANNOTATION} annotation on the signature layer")
        else:
            signature = b64decode(sig_text, "cosign signature annotation")
            cert_pem = ann.get(c.COSIGN_CERTIFICATE_ANNOTATION)
            info = certificate_info(cert_pem, "signature certificate") if cert_pem else None
            verified = verify_payload(data, signature, self.trust.keys)
            if info is not None and not verified:
                # no given key signed it: judge it by the certificate it carries
                ok = info.key.verify(signature, data)
                if ok and self.trust.keyless is not None:
                    from provenant.attest.cosign_keyless import verify_tag_keyless

                    reason = verify_tag_keyless(ann, info, self.trust.keyless, payload=data, signature=signature)
                    self._keyless_verdict(info, reason)
                else:
                    self._apply(_cert_outcome(info, ok, "signature"))
            else:
                self._apply(_key_outcome(verified, self.trust, "signature"))
        payload = parse_simple_signing(data, "simple-signing payload")
        if payload.critical.type != c.SIMPLESIGNING_TYPE:
            out.problems.append(f"critical.type is {payload.critical.type!r}, expected {c.SIMPLESIGNING_TYPE!r}")
        out.signed_reference = payload.critical.identity.docker_reference if payload.critical.identity else None
        out.subject_check = _subject_check(self.item.subject, [payload.critical.image.docker_manifest_digest])

    def bundle(self, data: bytes) -> None:
        out = self.out
        bundle = parse_bundle(data, "Sigstore bundle")
        cert_der = bundle.verification_material.leaf_certificate_der()
        cert = certificate_info(cert_der, "bundle certificate") if cert_der else None
        if cert is None and bundle.dsse_envelope is not None:
            cert = _signature_cert(bundle.dsse_envelope)
        expected_hex = self.item.subject.partition(":")[2]
        if bundle.dsse_envelope is not None:
            out.kind = "attestation"
            if cert is not None and self.trust.keyless is not None:
                reason = verify_bundle(data, self.trust.keyless)
                self._keyless_verdict(cert, reason)
                self._statement(bundle.dsse_envelope.payload_bytes(), "bundle DSSE payload")
            else:
                self._envelope(bundle.dsse_envelope, "bundle DSSE envelope", cert)
                self._key_bundle_evidence(data, bundle)
            return
        ms = bundle.message_signature
        assert ms is not None
        out.kind = "signature"
        digest = b64decode(ms.message_digest.digest, "bundle message digest") if ms.message_digest else None
        algorithm = (ms.message_digest.algorithm if ms.message_digest else "SHA2_256").lower().replace("sha2_", "sha")
        found = [f"{algorithm}:{digest.hex()}"] if digest else []
        out.subject_check = _subject_check(self.item.subject, found)
        signature = b64decode(ms.signature, "bundle signature")
        want = bytes.fromhex(expected_hex) if expected_hex else b""
        if cert is not None and self.trust.keyless is not None:
            self._keyless_verdict(cert, verify_bundle(data, self.trust.keyless, artifact_digest=want))
        elif digest is None:
            out.trust = SIGNATURE_INVALID
            out.problems.append("message signature without a message digest cannot be checked")
        elif cert is not None:
            self._apply(_cert_outcome(cert, cert.key.verify_digest(signature, digest, algorithm), "message signature"))
        else:
            verified = [k for k in self.trust.keys if k.verify_digest(signature, digest, algorithm)]
            self._apply(_key_outcome(verified, self.trust, "message signature"))
            self._key_bundle_evidence(data, bundle)

    def _key_bundle_evidence(self, data: bytes, bundle: SigstoreBundle) -> None:
        """A key-signed bundle's log entries and timestamps, checked when a trusted root is given."""
        material = bundle.verification_material
        if not (material.tlog_entries or material.timestamp_verification_data) or not self.out.trust.startswith(
            "signed:key="
        ):
            return
        if self.trust.keyless is None:
            return  # nothing to check them against; the signature by the key stands (docs/verify.md)
        from provenant.attest.bundle_verify import SpecVerifyError, verify_key_bundle_times

        key = next(k for k in self.trust.keys if f"signed:key={k.fingerprint}" == self.out.trust)
        try:
            verify_key_bundle_times(load_json(data, "Sigstore bundle"), self.trust.keyless.trusted_root, key)
        except SpecVerifyError as exc:
            self.out.trust = SIGNATURE_INVALID
            self.out.problems.append(f"bundle transparency-log entry or timestamp does not verify: {exc}")
        except ProvenantError as exc:
            # The entries could not be checked (e.g. the trusted root is over a limit): fail closed.
            self.out.trust = SIGNATURE_INVALID
            self.out.problems.append(f"bundle transparency-log entry or timestamp not checked: {exc.diagnostics()}")

    def _keyless_verdict(self, cert: CertificateInfo, reason: str | None) -> None:
        claims = cert.claims.shown()
        if reason is None:
            self._apply(_Sig(f"signed:keyless={cert.identity}", cert.identity, cert.issuer, claims=claims))
        else:
            self._apply(_Sig(SIGNATURE_INVALID, cert.identity, cert.issuer, [reason], claims))

    def sbom(self) -> None:
        self.out.kind = "sbom"
        self.out.predicate_family = c.SBOM_MEDIA_TYPES.get(self.item.media_type)
        self.out.subject_check.detail = "an attached SBOM names no digest; only its tag or referrer binds it"

    def other(self) -> None:
        if self.item.media_type in _NOTATION_TYPES:
            self.out.kind = "signature"
            self.out.trust = SIGNED_UNVERIFIED
            self.out.problems.append("Notary Project signatures are listed but not verified by provenant")


_log = logging.getLogger(__name__)
#: A problem line is cut here; the whole text goes to the debug log (``provenant --debug``).
PROBLEM_CHARS = 400


def _tidy(out: Attachment) -> Attachment:
    """Every problem and the error as one printable line: no control characters, no multi-line dumps."""

    def line(text: str) -> str:
        short = one_line(text, limit=PROBLEM_CHARS)
        if short != text:
            _log.debug("%s: full text: %s", out.location, printable(text))
        return short

    out.problems = [line(p) for p in out.problems]
    if out.error is not None:
        out.error = line(out.error)
    return out


def evaluate(item: Found, trust: Trust) -> Attachment:
    """Interpret ``item``: parse, check signatures against ``trust``, check its subject."""
    return _tidy(_evaluate(item, trust))


def _evaluate(item: Found, trust: Trust) -> Attachment:
    ev = _Evaluator(item, trust)
    if item.format == "sbom":
        ev.sbom()
        return ev.out
    if item.format == "unknown":
        ev.other()
        return ev.out
    if item.error is not None or item.data is None:
        ev.out.trust = UNREADABLE
        return ev.out
    try:
        if item.format == "in-toto":
            ev.in_toto(item.data)
        elif item.format == "dsse":
            ev.dsse(item.data)
        elif item.format == "simplesigning":
            ev.simplesigning(item.data)
        elif item.format == "sigstore-bundle":
            ev.bundle(item.data)
    except ProvenantError as exc:
        ev.out.error = exc.diagnostics()
        if ev.out.trust == UNSIGNED:
            ev.out.trust = UNREADABLE
    return ev.out
