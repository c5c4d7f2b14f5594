"""Architecture coverage: required platforms are in the index (attestation manifests are not platforms),
and optionally each carries provenance. Nothing defaults to one architecture."""

from __future__ import annotations

from provenant.evidence import Evidence
from provenant.oci.platform import PlatformSpec
from provenant.policy.checks.base import Check, ImageCheck, failed, no_data, passed
from provenant.policy.model import Outcome
from provenant.policy.schema import ImagePolicy, Platforms


def _cfg(policy: ImagePolicy) -> Platforms:
    cfg = policy.checks.platforms
    assert cfg is not None
    return cfg


def _required(cfg: Platforms) -> list[str]:
    return [str(PlatformSpec.parse(p)) for p in cfg.required]


class Required(ImageCheck):
    id = "platforms.required"
    family = "platforms"
    title = "Required platforms present"
    description = (
        "Every platform in platforms.required is a runnable image in the index "
        "(unknown/unknown attestation manifests do not count)."
    )
    help = "Build for every required platform (docker buildx build --platform ...)."
    evidence = "the index's platform manifests"
    requires = "required"

    def image(self, ev: Evidence, policy: ImagePolicy) -> list[Outcome]:
        required = _required(_cfg(policy))
        present = ev.index_platforms
        missing = [p for p in required if p not in present]
        kind = "index" if ev.is_index else "single-platform manifest"
        if missing:
            return [
                failed(
                    f"the {kind} lacks {', '.join(missing)}",
                    fix=f"build and push {', '.join(missing)} too (buildx build --platform {','.join(required)})",
                    required=required,
                    present=present,
                    missing=missing,
                )
            ]
        return [passed(f"the {kind} has every required platform", required=required, present=present)]


class ProvenancePerPlatform(ImageCheck):
    id = "platforms.provenance"
    family = "platforms"
    title = "Provenance for every required platform"
    description = "Each required platform present in the index has SLSA provenance attached."
    help = "Build every platform with provenance (buildx --provenance=mode=max) or attest each platform manifest."
    evidence = "SLSA provenance attachments per platform manifest"
    requires = "require_provenance"

    def image(self, ev: Evidence, policy: ImagePolicy) -> list[Outcome]:
        cfg = _cfg(policy)
        wanted = _required(cfg) or ev.index_platforms
        evaluated = {p.platform: p for p in ev.platforms}
        with_prov = [pl for pl in wanted if pl in evaluated and evaluated[pl].provenance_attachments()]
        without = [pl for pl in wanted if pl in evaluated and pl not in with_prov]
        # In the index but left out by --platform: nothing was read about them, so no claim either way.
        unchecked = [pl for pl in wanted if pl not in evaluated and pl in ev.index_platforms]
        extra = {"not_checked": unchecked} if unchecked else {}
        if without:
            return [
                failed(
                    f"no provenance for {', '.join(without)}",
                    fix=self.help,
                    with_provenance=with_prov,
                    without_provenance=without,
                    **extra,
                )
            ]
        if unchecked:
            return [
                no_data(
                    f"provenance of {', '.join(unchecked)} was not checked: --platform left it out",
                    fix="check every required platform (omit --platform, or list them all)",
                    with_provenance=with_prov,
                    not_checked=unchecked,
                )
            ]
        return [passed(f"provenance attached for {', '.join(with_prov) or 'no platform'}", with_provenance=with_prov)]


CHECKS: list[Check] = [Required(), ProvenancePerPlatform()]
