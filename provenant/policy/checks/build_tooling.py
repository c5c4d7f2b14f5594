"""No build tooling in the final image: compilers, build-essential, ``*-dev`` packages."""

from __future__ import annotations

from provenant.evidence import Evidence, PlatformEvidence
from provenant.hygiene.tooling import OS_PACKAGE_TYPES
from provenant.policy.checks.base import Check, PlatformCheck, failed, no_data, passed
from provenant.policy.model import Outcome
from provenant.policy.schema import ImagePolicy


class BuildTools(PlatformCheck):
    id = "tooling.build-tools"
    family = "build_tooling"
    title = "No build tooling"
    description = (
        "The final image has no compilers, build-essential, make or development (-dev/-devel) packages; "
        "they belong in a build stage. Packages in buildTooling.allow are accepted."
    )
    help = "Build in a separate stage and COPY only the artefacts into a runtime image; or apt-get purge them."
    evidence = "installed OS packages (dpkg, rpm, apk)"
    exceptions = ("allow",)

    def platform(self, ev: Evidence, p: PlatformEvidence, policy: ImagePolicy) -> list[Outcome]:
        cfg = policy.checks.build_tooling
        assert cfg is not None
        if not any(pkg.type in OS_PACKAGE_TYPES for pkg in p.packages):
            # Without an OS package database there is nothing to look for tooling in (distroless, scratch).
            return [no_data("no OS package database (dpkg, rpm, apk) found: installed tooling cannot be listed")]
        tooling = p.hygiene().build_tooling
        found = [t for t in tooling if t.package not in cfg.allow]
        if not found:
            outcome = passed("no build tooling installed", allowed=cfg.allow)
        else:
            outcome = failed(
                f"{len(found)} build-tooling package(s): {', '.join(t.package for t in found)}",
                fix=self.help,
                packages=[f"{t.package}@{t.version} ({t.type}): {t.reason}" for t in found],
            )
        outcome.matched = [("allow", i) for i, a in enumerate(cfg.allow) if any(t.package == a for t in tooling)]
        return [outcome]


CHECKS: list[Check] = [BuildTools()]
