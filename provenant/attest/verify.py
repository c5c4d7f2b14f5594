"""``provenant verify``: does every selected subject carry a valid signature by one of the given keys?

A subject passes when a cosign signature, a signed attestation or a Sigstore bundle attached to it is
signed by one of the keys (or, with a trusted root, by the expected keyless identity) **and** names
that subject's digest. A platform manifest also passes when the index that lists it passes: the
index's signed bytes pin every platform manifest digest, and provenant checks each manifest against
the digest the index gives. With ``--platform``, only the chosen platforms are subjects; otherwise
the index and all of its platforms are.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from provenant.attest.evaluate import Attachment, Trust
from provenant.attest.keyless import KeylessPolicy
from provenant.attest.keys import PublicKey
from provenant.attest.result import SubjectResult, build_result, run_discovery
from provenant.errors import UsageError
from provenant.oci.platform import PlatformSpec
from provenant.session import Session


class Evidence(BaseModel):
    """One attached item as ``verify`` saw it."""

    kind: str
    location: str
    predicate_type: str | None
    trust: str
    subject_check: str
    problems: list[str]
    signer: str | None = None
    signer_issuer: str | None = None
    signer_claims: dict[str, str] = Field(default_factory=dict)


class SubjectVerdict(BaseModel):
    """The verdict for one subject."""

    kind: str
    digest: str
    platform: str | None
    passed: bool
    satisfied_by: list[str] = Field(description="locations of the valid signatures")
    inherited_from_index: bool = False
    reasons: list[str] = Field(description="why it failed (empty when it passed)")
    evidence: list[Evidence]


class VerifyResult(BaseModel):
    """The result of ``provenant verify``."""

    reference: str
    digest: str
    keys: list[str]
    predicate_type: str | None
    passed: bool
    subjects: list[SubjectVerdict]
    notes: list[str] = Field(default_factory=list)


def _accepts(a: Attachment, predicate_type: str | None) -> bool:
    if not a.verified or a.error:
        return False
    if predicate_type is None:
        return a.kind in ("signature", "attestation")
    return a.kind == "attestation" and a.predicate_type == predicate_type


def _reasons(s: SubjectResult, predicate_type: str | None) -> list[str]:
    signed = [a for a in s.attachments if a.kind in ("signature", "attestation") and a.trust != "unsigned"]
    wanted = f"no signed attestation of predicate type {predicate_type}" if predicate_type else "no signature found"
    if not signed:
        unsigned = [a for a in s.attachments if a.trust == "unsigned"]
        unreadable = [a for a in s.attachments if a.trust == "unreadable"]
        what = f"{len(unsigned)} unsigned item(s) only" if unsigned else "nothing attached"
        if unreadable:  # e.g. a bundle that is too deep or too large: say so, not "nothing attached"
            what = f"{len(unreadable)} unreadable item(s)" + (f", {len(unsigned)} unsigned" if unsigned else "")
        return [f"{wanted} ({what})"] + [f"{a.location}: unreadable: {a.error}" for a in unreadable]
    out: list[str] = [wanted] if predicate_type else []
    for a in signed:
        head = f"{a.kind} at {a.location}"
        if a.error:
            out.append(f"{head}: {a.error}")
        elif not a.trust.startswith("signed:"):
            detail = "; ".join(a.problems) or a.trust
            out.append(f"{head}: {a.trust}: {detail}")
        elif a.subject_check.status != "match":
            out.append(f"{head}: signed ({a.trust}) but subject mismatch: {a.subject_check.detail or 'not checked'}")
        elif predicate_type is not None and a.kind != "attestation":
            out.append(f"{head}: valid, but --type asks for a signed attestation, not a {a.kind}")
        elif predicate_type is not None and a.predicate_type != predicate_type:
            out.append(f"{head}: valid, but predicate type is {a.predicate_type}, not {predicate_type}")
    return out or ["no valid signature by the given keys"]


def _index_hint(s: SubjectResult, predicate_type: str | None) -> list[str]:
    """SBOM and provenance attestations are usually about each platform, not the index."""
    if s.kind != "index" or predicate_type is None:
        return []
    return ["(attestations made per platform, e.g. by 'sbom --attest' or BuildKit, are checked with --platform)"]


def _evidence(a: Attachment) -> Evidence:
    return Evidence(
        kind=a.kind,
        location=a.location,
        predicate_type=a.predicate_type,
        trust=a.trust,
        subject_check=a.subject_check.status,
        problems=[*a.problems, *([a.error] if a.error else [])],
        signer=a.signer,
        signer_issuer=a.signer_issuer,
        signer_claims=a.signer_claims,
    )


def verify_image(
    session: Session,
    target: str,
    keys: Sequence[PublicKey],
    *,
    platforms: list[PlatformSpec] | None = None,
    keyless: KeylessPolicy | None = None,
    predicate_type: str | None = None,
) -> VerifyResult:
    """Library entry point of ``provenant verify``."""
    if not keys and keyless is None:
        raise UsageError("verify needs at least one --key (or --trusted-root with an identity and issuer)")
    found, source = run_discovery(session, target, platforms)
    result = build_result(target, source, found, Trust(tuple(keys), keyless))
    index = next((s for s in result.subjects if s.kind == "index"), None)
    index_ok = [a.location for a in index.attachments if _accepts(a, predicate_type)] if index else []
    verdicts: list[SubjectVerdict] = []
    for s in result.subjects:
        if s.kind == "index" and platforms:
            continue
        own = [a.location for a in s.attachments if _accepts(a, predicate_type)]
        inherited = s.kind == "platform" and not own and bool(index_ok)
        passed = bool(own) or inherited
        verdicts.append(
            SubjectVerdict(
                kind=s.kind,
                digest=s.digest,
                platform=s.platform,
                passed=passed,
                satisfied_by=own or (index_ok if inherited else []),
                inherited_from_index=inherited,
                reasons=[] if passed else _reasons(s, predicate_type) + _index_hint(s, predicate_type),
                evidence=[_evidence(a) for a in s.attachments],
            )
        )
    return VerifyResult(
        reference=target,
        digest=result.digest,
        keys=result.keys,
        predicate_type=predicate_type,
        passed=bool(verdicts) and all(v.passed for v in verdicts),
        subjects=verdicts,
        notes=result.notes,
    )
