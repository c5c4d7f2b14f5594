"""Image hygiene evidence: secrets, build tooling, caches, wasted bytes, root user, sizes.

A pure library over one :class:`provenant.sbom.generate.ImageAnalysis` (no fetching: file
evidence comes from the secrets cataloger's findings captured during the SBOM's layer scan).
The policy engine builds its checks on :func:`assess`.
"""

from provenant.hygiene.assess import assess, runs_as_root
from provenant.hygiene.models import CacheFinding, HygieneReport, SecretFinding, ToolingFinding, WastedFile

__all__ = [
    "CacheFinding",
    "HygieneReport",
    "SecretFinding",
    "ToolingFinding",
    "WastedFile",
    "assess",
    "runs_as_root",
]
