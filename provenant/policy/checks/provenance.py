"""Provenance: a SLSA statement is attached per platform, signed by a trusted key, by an allowed builder,
from an allowed source repository, about this very platform manifest."""

from __future__ import annotations

import fnmatch

from provenant.attest.evaluate import Attachment
from provenant.evidence import Evidence, PlatformEvidence
from provenant.policy.checks.base import Check, PlatformCheck, failed, no_data, passed
from provenant.policy.model import Outcome
from provenant.policy.schema import ImagePolicy, Provenance

_NONE = "no SLSA provenance is attached to this platform manifest"


def _cfg(policy: ImagePolicy) -> Provenance:
    cfg = policy.checks.provenance
    assert cfg is not None
    return cfg


def _accepted(p: PlatformEvidence, cfg: Provenance) -> list[Attachment]:
    return [a for a in p.provenance_attachments() if a.predicate_type in cfg.predicate_types]


def _where(a: Attachment) -> dict[str, object]:
    return {"predicate_type": a.predicate_type, "source": a.source, "location": a.location, "trust": a.trust}


class Present(PlatformCheck):
    id = "provenance.present"
    family = "provenance"
    title = "Provenance attached"
    description = (
        "Each platform manifest has a provenance statement of an accepted predicate type "
        "(default: SLSA v0.2 and v1), found in the index (BuildKit), as a cosign .att tag or as an OCI referrer."
    )
    help = "Build with provenance (docker buildx build --provenance=mode=max) or attach it (provenant attest)."
    evidence = "attestations discovered per platform manifest"

    def platform(self, ev: Evidence, p: PlatformEvidence, policy: ImagePolicy) -> list[Outcome]:
        cfg = _cfg(policy)
        ok = _accepted(p, cfg)
        if ok:
            types = ", ".join(sorted({a.predicate_type or "" for a in ok}))
            return [
                passed(
                    f"{len(ok)} provenance statement(s) attached: {types}",
                    statements=[f"{a.predicate_type} ({a.source}, {a.trust})" for a in ok],
                )
            ]
        other = p.provenance_attachments()
        found = [f"{a.predicate_type} ({a.source})" for a in other]
        # Provenance about the index is not about this platform's image: say it is there, and why it does not count.
        on_index = [a for a in ev.image_attachments if a.predicate_family == "slsa-provenance"]
        extra: dict[str, object] = {}
        why = ""
        if on_index:
            extra["on_index"] = [f"{a.predicate_type} ({a.source})" for a in on_index]
            why = f"; {len(on_index)} statement(s) are attached to the index {ev.digest} instead, not to this platform"
        return [
            failed(
                _NONE + (f" of an accepted type ({', '.join(cfg.predicate_types)})" if other else "") + why,
                fix=self.help,
                accepted=cfg.predicate_types,
                found=found,
                **extra,
            )
        ]


class Signed(PlatformCheck):
    id = "provenance.signed"
    family = "provenance"
    title = "Provenance signed"
    description = (
        "A provenance statement verifies with one of the given public keys (--key, provenance.keys), or was "
        "signed keyless by one of the trusted signers (provenance.keyless, with provenance.trustedRoot), and names "
        "this platform manifest as its subject. Provenance that is present but unsigned (BuildKit's in-index "
        "statements are) is reported as such."
    )
    help = "Sign the provenance (provenant attest --key, cosign attest) with a key the policy trusts."
    evidence = "trust labels of the provenance attachments (signed:key=<fingerprint>, unsigned, …)"
    requires = "require_signed"

    def platform(self, ev: Evidence, p: PlatformEvidence, policy: ImagePolicy) -> list[Outcome]:
        atts = _accepted(p, _cfg(policy))
        if not atts:
            return [no_data(_NONE + ": nothing to check a signature of", fix=Present.help)]
        good = [a for a in atts if a.verified]
        labels = [f"{a.predicate_type} ({a.source}): {a.trust}" for a in atts]
        keys = ev.attestations.keys
        if good:
            return [passed(f"provenance signed by {good[0].signer}", signer=good[0].signer, statements=labels)]
        if all(a.trust == "unsigned" for a in atts):
            # A signed statement about the index (cosign signs what it was given: often the index) is not about
            # this platform manifest; say it is there, as provenance.present does.
            on_index = [a for a in ev.image_attachments if a.predicate_family == "slsa-provenance" and a.verified]
            where = f"; a signed statement is attached to the index {ev.digest} instead" if on_index else ""
            return [
                failed(
                    "provenance is present but unsigned" + where,
                    fix=self.help,
                    statements=labels,
                    keys=keys,
                )
            ]
        wrong_subject = [a for a in atts if a.trust.startswith("signed:") and not a.verified]
        if wrong_subject:
            return [
                failed(
                    f"provenance is signed by {wrong_subject[0].signer}, but about another digest than {p.digest}",
                    fix=Subject.help,
                    statements=labels,
                    keys=keys,
                )
            ]
        keyless = ev.attestations.keyless
        if not keys and not keyless:
            return [
                no_data(
                    "provenance is signed, but no public key was given to verify it",
                    fix="pass --key PUB or list provenance.keys (or provenance.keyless signers) in the policy",
                    statements=labels,
                )
            ]
        why = [p for a in atts for p in a.problems if a.trust == "signature-invalid"][:3]
        what = "the given keys" if not keyless else "the given keys or keyless signers" if keys else "keyless signers"
        return [
            failed(
                f"no provenance signature verifies with {what}" + (f": {why[0]}" if why and keyless else ""),
                fix=self.help,
                statements=labels,
                keys=keys,
                **({"keyless": keyless, "reasons": why} if keyless else {}),
            )
        ]


class Builder(PlatformCheck):
    id = "provenance.builder"
    family = "provenance"
    title = "Allowed builder"
    description = "The builder id of every provenance statement matches provenance.builders (shell-style patterns)."
    help = "Build on an allowed builder, or add its id to provenance.builders."
    evidence = "builder.id (v0.2) / runDetails.builder.id (v1)"
    requires = "builders"

    def platform(self, ev: Evidence, p: PlatformEvidence, policy: ImagePolicy) -> list[Outcome]:
        cfg = _cfg(policy)
        provs = [(a, s) for a, s in p.provenance() if a.predicate_type in cfg.predicate_types]
        if not provs:
            return [no_data(_NONE, fix=Present.help, allowed=cfg.builders)]
        bad = [s.builder_id for _, s in provs if not any(fnmatch.fnmatchcase(s.builder_id, b) for b in cfg.builders)]
        ids = sorted({s.builder_id for _, s in provs})
        if bad:
            return [failed(f"builder {bad[0]} is not allowed", fix=self.help, builder_ids=ids, allowed=cfg.builders)]
        return [passed(f"built by {', '.join(ids)}", builder_ids=ids, allowed=cfg.builders)]


def _norm_repo(url: str) -> str:
    return url.strip().rstrip("/").removesuffix(".git").removeprefix("git+").lower()


class Source(PlatformCheck):
    id = "provenance.source"
    family = "provenance"
    title = "Allowed source repository"
    description = "The source repository recorded in the provenance matches provenance.sources (shell-style patterns)."
    help = "Build from an allowed repository, or add it to provenance.sources."
    evidence = "invocation.configSource / externalParameters / BuildKit vcs metadata"
    requires = "sources"

    def platform(self, ev: Evidence, p: PlatformEvidence, policy: ImagePolicy) -> list[Outcome]:
        cfg = _cfg(policy)
        provs = [s for a, s in p.provenance() if a.predicate_type in cfg.predicate_types]
        if not provs:
            return [no_data(_NONE, fix=Present.help, allowed=cfg.sources)]
        repos = [s.source.repository for s in provs]
        if any(r is None for r in repos):
            return [no_data("the provenance records no source repository", allowed=cfg.sources)]
        allowed = [_norm_repo(s) for s in cfg.sources]
        known = sorted({r for r in repos if r})
        bad = [r for r in known if not any(fnmatch.fnmatchcase(_norm_repo(r), a) for a in allowed)]
        commits = sorted({s.source.commit for s in provs if s.source.commit})
        if bad:
            return [
                failed(
                    f"source repository {bad[0]} is not allowed", fix=self.help, repositories=known, allowed=cfg.sources
                )
            ]
        return [passed(f"built from {', '.join(known)}", repositories=known, commits=commits, allowed=cfg.sources)]


class Subject(PlatformCheck):
    id = "provenance.subject"
    family = "provenance"
    title = "Provenance subject is this manifest"
    description = (
        "Every provenance statement attached to a platform names that platform's manifest digest as its subject."
    )
    help = "Regenerate the provenance for this exact image; a statement about another digest proves nothing about it."
    evidence = "in-toto statement subjects against the platform manifest digest"
    requires = "require_subject_match"

    def platform(self, ev: Evidence, p: PlatformEvidence, policy: ImagePolicy) -> list[Outcome]:
        atts = _accepted(p, _cfg(policy))
        if not atts:
            return [no_data(_NONE, fix=Present.help)]
        bad = [a for a in atts if a.subject_check.status != "match"]
        if bad:
            a = bad[0]
            about = ", ".join(a.subject_check.found) or "no digest"
            return [
                failed(
                    f"a provenance statement ({a.location}) is about {about}, not {p.digest}",
                    fix=self.help,
                    expected=p.digest,
                    found=a.subject_check.found,
                    **_where(a),
                )
            ]
        return [passed(f"every provenance statement names {p.digest}", expected=p.digest, statements=len(atts))]


CHECKS: list[Check] = [Present(), Signed(), Builder(), Source(), Subject()]
