"""The image's default user is not root."""

from __future__ import annotations

from provenant.evidence import Evidence, PlatformEvidence
from provenant.policy.checks.base import Check, PlatformCheck, failed, passed
from provenant.policy.model import Outcome
from provenant.policy.schema import ImagePolicy


class NonRoot(PlatformCheck):
    id = "user.non-root"
    family = "user"
    title = "Runs as a non-root user"
    description = (
        "The config's User is set to a user other than root: not empty, not 0, not root, "
        "not 0:<group> or root:<group>. An unset User runs as root."
    )
    help = "Add USER <uid> (a numeric, non-zero uid, e.g. USER 10001) after the last RUN that needs root."
    evidence = "the image config's User"

    def platform(self, ev: Evidence, p: PlatformEvidence, policy: ImagePolicy) -> list[Outcome]:
        report = p.hygiene()
        user = report.user
        if report.runs_as_root:
            how = "User is not set" if not user else f"User is {user!r}"
            return [failed(f"runs as root ({how})", fix=self.help, user=user)]
        return [passed(f"runs as {user!r}", user=user)]


CHECKS: list[Check] = [NonRoot()]
