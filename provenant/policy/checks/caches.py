"""No package-manager caches left behind (apt lists and archives, apk cache, pip/npm/yarn caches)."""

from __future__ import annotations

from provenant.evidence import Evidence, PlatformEvidence
from provenant.policy.checks.base import Check, PlatformCheck, failed, passed
from provenant.policy.checks.size import human
from provenant.policy.model import Outcome
from provenant.policy.schema import ImagePolicy


class PackageManagerCaches(PlatformCheck):
    id = "caches.package-manager"
    family = "caches"
    title = "No package-manager caches"
    description = (
        "The final filesystem holds no package-manager caches: var/lib/apt/lists, var/cache/apt/archives, "
        "var/cache/apk, pip, npm and yarn caches. Kinds in caches.allow are accepted."
    )
    help = (
        "Clean up in the same RUN that installs (rm -rf /var/lib/apt/lists/*, apk add --no-cache, "
        "pip install --no-cache-dir, npm cache clean --force) or use a cache mount."
    )
    evidence = "file listings of the final filesystem"
    exceptions = ("allow",)

    def platform(self, ev: Evidence, p: PlatformEvidence, policy: ImagePolicy) -> list[Outcome]:
        cfg = policy.checks.caches
        assert cfg is not None
        caches = p.hygiene().caches
        found = [c for c in caches if c.kind not in cfg.allow]
        if not found:
            outcome = passed("no package-manager caches left", allowed=cfg.allow)
        else:
            total = sum(c.bytes for c in found)
            outcome = failed(
                f"{len(found)} package-manager cache(s) left, {human(total)}: {', '.join(c.path for c in found)}",
                fix=self.help,
                caches=[f"{c.kind}: {c.path} ({c.files} files, {c.bytes} bytes)" for c in found],
                bytes=total,
            )
        outcome.matched = [("allow", i) for i, kind in enumerate(cfg.allow) if any(c.kind == kind for c in caches)]
        return [outcome]


CHECKS: list[Check] = [PackageManagerCaches()]
