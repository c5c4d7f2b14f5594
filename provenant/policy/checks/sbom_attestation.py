"""An SBOM (SPDX or CycloneDX) is attached to each platform manifest."""

from __future__ import annotations

from provenant.evidence import Evidence, PlatformEvidence
from provenant.policy.checks.base import Check, PlatformCheck, failed, passed
from provenant.policy.model import Outcome
from provenant.policy.schema import ImagePolicy

SBOM_FAMILIES = ("spdx", "cyclonedx", "syft")


class Attested(PlatformCheck):
    id = "sbom.attested"
    family = "sbom"
    title = "SBOM attached"
    description = (
        "Each platform manifest has an SBOM attached: an in-toto statement with an SPDX or CycloneDX predicate "
        "(BuildKit --sbom, cosign attest) or an SBOM artifact (cosign attach sbom, OCI referrer)."
    )
    help = "Build with --sbom=true, or attach one (provenant sbom REF --attest / cosign attest --type cyclonedx)."
    evidence = "attachments per platform manifest with an SBOM predicate or media type"
    requires = "require_attestation"

    def platform(self, ev: Evidence, p: PlatformEvidence, policy: ImagePolicy) -> list[Outcome]:
        sboms = [a for a in p.attachments if a.predicate_family in SBOM_FAMILIES]
        if sboms:
            found = [f"{a.predicate_type or a.media_type} ({a.source}, {a.trust})" for a in sboms]
            return [passed(f"{len(sboms)} SBOM(s) attached", sboms=found)]
        return [failed("no SBOM is attached to this platform manifest", fix=self.help, attachments=len(p.attachments))]


CHECKS: list[Check] = [Attested()]
