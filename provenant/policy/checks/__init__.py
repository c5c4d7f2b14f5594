"""The check registry: every check class, by stable id. One line per family module."""

from __future__ import annotations

from provenant.policy.checks import base_image, licenses, pinning, platforms, provenance, sbom_attestation, size
from provenant.policy.checks.base import Check

CHECKS: list[Check] = [
    *pinning.CHECKS,
    *base_image.CHECKS,
    *provenance.CHECKS,
    *platforms.CHECKS,
    *size.CHECKS,
    *sbom_attestation.CHECKS,
    *licenses.CHECKS,
]
BY_ID: dict[str, Check] = {c.id: c for c in CHECKS}

__all__ = ["BY_ID", "CHECKS", "Check"]
