"""``provenant dockerfile check``: the policy's Dockerfile checks, offline (no registry, no image).

The same rules ``policy check --dockerfile`` applies to FROM lines: ``pinning.base-digest`` (every base image
named by digest), ``pinning.forbidden-tags`` and, when a policy lists them, ``base-image.allowed``
(registries and image patterns). A FROM line provenant cannot read (an ARG without a value, not a valid
reference) is a ``dockerfile.from`` finding: what it names cannot be checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from provenant.policy.dockerfile import Dockerfile
from provenant.policy.match import matches, matches_registry
from provenant.policy.schema import ImagePolicy
from provenant.reference import Reference


@dataclass(frozen=True)
class Rules:
    """What the check enforces; :meth:`from_policy` takes it from a policy's ``pinning`` and ``baseImage``."""

    require_digest: bool = True
    forbidden_tags: tuple[str, ...] = ("latest",)
    registries: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()

    @classmethod
    def from_policy(cls, policy: ImagePolicy) -> Rules:
        """The policy's settings; a family the policy leaves out keeps this hook's default (digest, latest)."""
        pin = policy.checks.pinning
        base = policy.checks.base_image
        return cls(
            require_digest=pin.require_base_digest if pin is not None else True,
            forbidden_tags=tuple(pin.forbidden_tags) if pin is not None else ("latest",),
            registries=tuple(base.registries) if base is not None else (),
            allowed=tuple(base.allowed) if base is not None else (),
        )


@dataclass(frozen=True)
class Problem:
    """One finding on one FROM line."""

    path: str
    line: int
    check: str
    message: str
    fix: str | None = None

    def render(self) -> str:
        """``path:line: check: message (fix: ...)``, as compilers and linters print."""
        fix = f" (fix: {self.fix})" if self.fix else ""
        return f"{self.path}:{self.line}: {self.check}: {self.message}{fix}"


def check(df: Dockerfile, rules: Rules) -> list[Problem]:
    """Every finding on ``df``'s FROM lines (stages and scratch are not base images)."""
    out: list[Problem] = []
    if not df.froms:
        return [Problem(df.path, 1, "dockerfile.from", "no FROM instruction found", "is this a Dockerfile?")]
    for f in df.bases:
        ref = f.reference
        if ref is None:
            out.append(Problem(df.path, f.line, "dockerfile.from", f"FROM {f.image or f.text}: {f.error}"))
            continue
        if rules.require_digest and ref.digest is None:
            out.append(
                Problem(
                    df.path,
                    f.line,
                    "pinning.base-digest",
                    f"base image {f.image} is not pinned by digest",
                    "FROM name:version@sha256:<digest> (Renovate or Dependabot keep it current)",
                )
            )
        if ref.digest is None and ref.tag in rules.forbidden_tags:
            how = "" if f.explicit_tag else " (no tag means latest)"
            out.append(
                Problem(
                    df.path,
                    f.line,
                    "pinning.forbidden-tags",
                    f"base image {f.image} uses the forbidden tag {ref.tag!r}{how}",
                    "use a versioned tag and a digest",
                )
            )
        out.extend(_allowed(df.path, f.line, f.image, ref, rules))
    return out


def _allowed(path: str, line: int, image: str, ref: Reference, rules: Rules) -> Sequence[Problem]:
    why: list[str] = []
    if rules.registries and not any(matches_registry(r, ref.registry) for r in rules.registries):
        why.append(f"registry {ref.registry} is not in {', '.join(rules.registries)}")
    if rules.allowed and not any(matches(a, ref) for a in rules.allowed):
        why.append(f"it matches none of {', '.join(rules.allowed)}")
    if not why:
        return []
    return [Problem(path, line, "base-image.allowed", f"base image {image} is not allowed: {'; '.join(why)}")]
