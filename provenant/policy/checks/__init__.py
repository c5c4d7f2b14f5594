"""The check registry: every check class, by stable id. One line per family module."""

from __future__ import annotations

from provenant.policy.checks import (
    base_image,
    build_tooling,
    caches,
    licenses,
    pinning,
    platforms,
    provenance,
    sbom_attestation,
    secrets,
    size,
    user,
    waste,
)
from provenant.policy.checks.base import Check

CHECKS: list[Check] = [
    *pinning.CHECKS,
    *base_image.CHECKS,
    *provenance.CHECKS,
    *platforms.CHECKS,
    *user.CHECKS,
    *secrets.CHECKS,
    *build_tooling.CHECKS,
    *caches.CHECKS,
    *size.CHECKS,
    *waste.CHECKS,
    *sbom_attestation.CHECKS,
    *licenses.CHECKS,
]
BY_ID: dict[str, Check] = {c.id: c for c in CHECKS}

__all__ = ["BY_ID", "CHECKS", "Check"]
