"""Pinning: the reference is pinned by digest, uses no forbidden tag, and the base images are pinned."""

from __future__ import annotations

from typing import Any

from provenant.evidence import Evidence
from provenant.policy import bases
from provenant.policy.checks.base import Check, ImageCheck, failed, no_data, passed
from provenant.policy.model import Outcome, SourceLocation
from provenant.policy.schema import ImagePolicy, Pinning

_LOCAL = "the image was read from a local layout or archive: there is no registry reference to check"


def _settings(policy: ImagePolicy) -> Pinning:
    section = policy.checks.pinning
    assert section is not None
    return section


class Digest(ImageCheck):
    id = "pinning.digest"
    family = "pinning"
    title = "Reference pinned by digest"
    description = (
        "The image reference given to provenant carries a digest (name@sha256:…), so CI checks what it deploys."
    )
    help = "Reference the image as name@sha256:<digest> (the digest provenant resolved is in the finding)."
    evidence = "the reference as given on the command line"
    requires = "require_digest"

    def image(self, ev: Evidence, policy: ImagePolicy) -> list[Outcome]:
        ref = ev.reference
        if ref is None:
            return [no_data(_LOCAL, target=ev.target)]
        if ref.digest is not None:
            return [passed(f"{ref} is pinned by digest", reference=str(ref), digest=str(ref.digest))]
        return [
            failed(
                f"{ref} is referenced by tag {ref.tag!r}, not by digest",
                fix=f"use {ref.name}@{ev.digest}",
                reference=str(ref),
                resolved_digest=ev.digest,
            )
        ]


class ForbiddenTags(ImageCheck):
    id = "pinning.forbidden-tags"
    family = "pinning"
    title = "No forbidden tags"
    description = (
        "Neither the reference nor a Dockerfile FROM line uses a forbidden tag (default: latest; a reference "
        "without a tag means latest). A reference that also carries a digest is not affected by its tag."
    )
    help = "Use a versioned tag and, better, a digest."
    evidence = "the reference as given; FROM lines of --dockerfile"
    requires = "forbidden_tags"

    def image(self, ev: Evidence, policy: ImagePolicy) -> list[Outcome]:
        forbidden = _settings(policy).forbidden_tags
        out: list[Outcome] = []
        ref = ev.reference
        if ref is not None:
            implied = ref.tag == "latest" and ":latest" not in ev.target.rsplit("/", 1)[-1] and ref.digest is None
            how = " (no tag given means latest)" if implied else ""
            if ref.tag in forbidden and ref.digest is None:
                out.append(
                    failed(
                        f"{ref} uses the forbidden tag {ref.tag!r}{how}",
                        fix=f"use a versioned tag, or {ref.name}@{ev.digest}",
                        reference=str(ref),
                        tag=ref.tag,
                        forbidden=forbidden,
                    )
                )
            else:
                out.append(passed(f"{ref} uses no forbidden tag", reference=str(ref), tag=ref.tag, forbidden=forbidden))
        for f in ev.dockerfile.bases if ev.dockerfile else []:
            if f.reference is None or f.reference.digest is not None or f.reference.tag not in forbidden:
                continue
            how = "" if f.explicit_tag else " (no tag means latest)"
            o = failed(
                f"FROM {f.image} uses the forbidden tag {f.reference.tag!r}{how}",
                fix="pin the base image: FROM name:version@sha256:<digest>",
                line=f.text,
                reference=str(f.reference),
                tag=f.reference.tag,
            )
            o.location = SourceLocation(path=ev.dockerfile.path, line=f.line) if ev.dockerfile else None
            o.key = f"dockerfile:{f.line}"
            out.append(o)
        if not out:
            return [no_data(_LOCAL + ", and no --dockerfile was given", target=ev.target)]
        return out


class BaseDigest(ImageCheck):
    id = "pinning.base-digest"
    family = "pinning"
    title = "Base images pinned by digest"
    description = (
        "Every base image the build asked for is named by digest. Evidence, first found wins: the FROM lines "
        "of --dockerfile, else SLSA provenance materials/resolvedDependencies (a pkg:docker purl whose version "
        "is a digest), else the org.opencontainers.image.base.name annotation. A FROM naming an earlier stage, "
        "and FROM scratch, are not base images."
    )
    help = "Write FROM name:tag@sha256:<digest> (tools such as Renovate keep the digest current)."
    evidence = "--dockerfile FROM lines; provenance base-image materials; OCI base annotations"
    requires = "require_base_digest"

    def image(self, ev: Evidence, policy: ImagePolicy) -> list[Outcome]:
        found = bases.from_dockerfile(ev)
        if not found:
            seen: list[tuple[bases.BaseCandidate, list[str]]] = []
            for getter in (bases.from_provenance, bases.from_annotations):
                for p in ev.platforms:
                    for cand in getter(p):
                        match = next((s for s in seen if s[0] == cand), None)
                        if match is None:
                            seen.append((cand, [p.platform]))
                        else:
                            match[1].append(p.platform)
                if seen:
                    break
            return [self._judge(c, plats) for c, plats in seen] or [
                no_data(
                    "no base image evidence: no --dockerfile, no provenance base-image materials, "
                    "no org.opencontainers.image.base.name annotation",
                    fix="pass --dockerfile, or build with provenance (buildx --provenance=mode=max)",
                )
            ]
        if ev.dockerfile is not None and not ev.dockerfile.bases:
            return [
                passed(f"{ev.dockerfile.path} builds FROM scratch / stages only: no base image", source="dockerfile")
            ]
        return [self._judge(c, []) for c in found]

    def _judge(self, c: bases.BaseCandidate, platforms: list[str]) -> Outcome:
        extra: dict[str, Any] = {"source": c.source, "base": c.written}
        if c.digest:
            extra["resolved_digest"] = c.digest
        if platforms:
            extra["platforms"] = platforms
        if c.location is not None:
            extra["line"] = c.location.line
        if c.error is not None:
            o = failed(f"base image {c.written!r} ({c.source}) is not a valid reference: {c.error}", **extra)
        elif c.pinned:
            o = passed(f"base image {c.name} ({c.source}) is pinned by digest", **extra)
        else:
            fix = f"use {c.reference.name}@{c.digest}" if c.reference is not None and c.digest else self.help
            o = failed(f"base image {c.name} ({c.source}) is not pinned by digest", fix=fix, **extra)
        o.location = c.location
        o.key = f"{c.source}:{c.location.line if c.location else c.written}"
        return o


CHECKS: list[Check] = [Digest(), ForbiddenTags(), BaseDigest()]
