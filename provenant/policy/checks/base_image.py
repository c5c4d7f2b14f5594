"""Base-image trust: the base image is from an allowed registry and matches an allowed pattern."""

from __future__ import annotations

from typing import Any

from provenant.evidence import Evidence, PlatformEvidence
from provenant.policy import bases
from provenant.policy.checks.base import Check, PlatformCheck, failed, no_data, passed
from provenant.policy.match import matches, matches_registry
from provenant.policy.model import Outcome
from provenant.policy.schema import ImagePolicy


class Allowed(PlatformCheck):
    id = "base-image.allowed"
    family = "base_image"
    title = "Base image allowed"
    description = (
        "The base image of each platform is found from SLSA provenance, else from the OCI base annotations, "
        "else by matching the layers of the policy's trusted base images as a prefix of the image's layers; "
        "it must come from an allowed registry and match an allowed image pattern. The finding says which "
        "evidence named the base."
    )
    help = "Rebuild FROM an allowed base image, or add the base to baseImage.allowed after review."
    evidence = "provenance base-image materials; org.opencontainers.image.base.* annotations; layer diff_ids"

    def platform(self, ev: Evidence, p: PlatformEvidence, policy: ImagePolicy) -> list[Outcome]:
        cfg = policy.checks.base_image
        assert cfg is not None
        problems: list[str] = []
        found = bases.from_provenance(p) or bases.from_annotations(p)
        if not found and cfg.trusted:
            found, problems = bases.from_layers(ev, p, cfg.trusted)
        if not found:
            return [
                no_data(
                    "the base image is unknown: no provenance base-image material, no base annotations"
                    + (", and no trusted base image's layers are a prefix of this image" if cfg.trusted else ""),
                    fix="build with provenance or base annotations, or list the base under baseImage.trusted",
                    trusted=cfg.trusted,
                    **({"problems": problems} if problems else {}),
                )
            ]
        out: list[Outcome] = []
        for c in found:
            evidence: dict[str, Any] = {"source": c.source, "base": c.name}
            if c.digest:
                evidence["digest"] = c.digest
            if c.reference is None:
                o = failed(f"base image {c.written!r} ({c.source}) is not a valid reference: {c.error}", **evidence)
                o.key = c.written
                out.append(o)
                continue
            why: list[str] = []
            if cfg.registries:
                reg = next((r for r in cfg.registries if matches_registry(r, c.reference.registry)), None)
                evidence["registry"] = c.reference.registry
                if reg is None:
                    why.append(f"registry {c.reference.registry} is not in {', '.join(cfg.registries)}")
            if cfg.allowed:
                pat = next((a for a in cfg.allowed if matches(a, c.reference)), None)
                if pat is None:
                    why.append(f"it matches none of {', '.join(cfg.allowed)}")
                else:
                    evidence["matched"] = pat
            if why:
                o = failed(f"base image {c.name} (from {c.source}) is not allowed: {'; '.join(why)}", **evidence)
            else:
                o = passed(f"base image {c.name} (from {c.source}) is allowed", **evidence)
            o.key = c.name
            out.append(o)
        return out


CHECKS: list[Check] = [Allowed()]
