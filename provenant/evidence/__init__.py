"""The evidence of one image, gathered once for ``compare``, ``diff``, ``report``, ``policy`` and ``fleet``.

:mod:`.model` (what is known: :class:`Evidence`, :class:`PlatformEvidence`), :mod:`.gather` (the one live
gatherer), :mod:`.stored` (the serialisable form the fleet inventory keeps and ``fleet policy`` reads).
"""

from provenant.evidence.gather import RunCache, evidence_of, gather
from provenant.evidence.model import (
    BASE_DIGEST_ANNOTATION,
    BASE_NAME_ANNOTATION,
    Evidence,
    PlatformEvidence,
    TrustedBase,
)

__all__ = [
    "BASE_DIGEST_ANNOTATION",
    "BASE_NAME_ANNOTATION",
    "Evidence",
    "PlatformEvidence",
    "RunCache",
    "TrustedBase",
    "evidence_of",
    "gather",
]
