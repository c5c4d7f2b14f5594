"""License deny list over the packages of each platform's final filesystem."""

from __future__ import annotations

import re

from provenant.evidence import Evidence, PlatformEvidence
from provenant.policy.checks.base import Check, PlatformCheck, failed, no_data, passed
from provenant.policy.model import Outcome
from provenant.policy.schema import ImagePolicy
from provenant.sbom.model import Package

_TOKEN = re.compile(r"[A-Za-z0-9.+:-]+")
_OPERATORS = {"AND", "OR", "WITH"}


def _ids(expression: str) -> set[str]:
    return {t for t in _TOKEN.findall(expression) if t.upper() not in _OPERATORS}


def denied_in(expression: str, denied: set[str]) -> set[str]:
    """Denied ids an expression forces on its user.

    A top-level ``OR`` (without parentheses) is a choice: it is denied only when every alternative is.
    Anything more complex is judged conservatively (any denied id counts).
    """
    if "(" not in expression and " OR " in expression:
        alternatives = [_ids(alt) & denied for alt in expression.split(" OR ")]
        return set().union(*alternatives) if all(alternatives) else set()
    return _ids(expression) & denied


def _expressions(pkg: Package) -> list[str]:
    if pkg.license_expression:
        return [pkg.license_expression]
    return list(pkg.licenses)


class Denied(PlatformCheck):
    id = "licenses.denied"
    family = "licenses"
    title = "No denied licenses"
    description = (
        "No package in the final filesystem (OS and language packages, as the SBOM lists them) is under a "
        "license in licenses.denied. An 'A OR B' choice is denied only when every alternative is."
    )
    help = "Remove or replace the package, or waive it after legal review."
    evidence = "declared licenses of every package in the SBOM of the platform"
    requires = "denied"

    def platform(self, ev: Evidence, p: PlatformEvidence, policy: ImagePolicy) -> list[Outcome]:
        cfg = policy.checks.licenses
        assert cfg is not None
        denied = set(cfg.denied)
        packages = p.packages
        hits: dict[str, list[str]] = {}
        for pkg in packages:
            for expr in _expressions(pkg):
                for lic in sorted(denied_in(expr, denied)):
                    hits.setdefault(lic, [])
                    label = f"{pkg.name}@{pkg.version} ({pkg.type})"
                    if label not in hits[lic]:
                        hits[lic].append(label)
        if hits:
            n = sum(len(v) for v in hits.values())
            return [
                failed(
                    f"{n} package(s) under denied licenses: {', '.join(sorted(hits))}",
                    fix=self.help,
                    packages={k: sorted(v) for k, v in sorted(hits.items())},
                    denied=sorted(denied),
                )
            ]
        unlicensed = sum(1 for pkg in packages if not _expressions(pkg))
        if unlicensed == len(packages):
            # Nothing to judge: passing would claim a license review that never happened.
            return [
                no_data(
                    f"none of the {len(packages)} packages declares a license",
                    fix="check the image's license files by hand, or waive licenses.denied for it",
                    packages=len(packages),
                    without_license=unlicensed,
                    denied=sorted(denied),
                )
            ]
        undeclared = f" ({unlicensed} declare no license)" if unlicensed else ""
        return [
            passed(
                f"none of {len(packages)} packages is under a denied license{undeclared}",
                packages=len(packages),
                without_license=unlicensed,
                denied=sorted(denied),
            )
        ]


CHECKS: list[Check] = [Denied()]
