"""What one ``fleet scan`` did (:class:`ScanSummary`)."""

from __future__ import annotations

from pydantic import BaseModel

from provenant.fleet.scanline import scanner_version, summary_line

__all__ = ["Failure", "ScanSummary", "scanner_version"]


class Failure(BaseModel):
    """A reference that failed, and why (one line)."""

    reference: str
    error: str


class ScanSummary(BaseModel):
    """What one ``fleet scan`` did."""

    references: int
    images: int
    scanned: int
    unchanged: int
    failed: int
    platforms: int
    layers: int
    layers_scanned: int
    layers_cached: int
    tags_moved: int
    seconds: float
    failures: list[Failure]

    def line(self) -> str:
        """The one summary line."""
        return summary_line(**self.model_dump(exclude={"failures"}))
