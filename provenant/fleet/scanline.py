"""What makes a stored scan stale, and the one line a scan ends with: standard library only.

The unchanged-registry path (:mod:`provenant.fleet.unchanged`) needs both and nothing else, so
they live apart from the pydantic :class:`~provenant.fleet.summary.ScanSummary`.
"""

from __future__ import annotations

from provenant import __version__


def scanner_version() -> str:
    """What makes a stored result stale: provenant's version and the layer scanner's."""
    from provenant.catalog.scanversion import scanner_version as layer_scanner  # = default_plan().version

    return f"{__version__}+{layer_scanner()}"


def summary_line(
    *,
    references: int,
    images: int,
    scanned: int,
    unchanged: int,
    failed: int,
    platforms: int,
    layers: int,
    layers_scanned: int,
    layers_cached: int,
    tags_moved: int,
    seconds: float,
) -> str:
    """The one summary line of ``fleet scan``."""
    return (
        f"fleet scan: {references} references, {images} images ({scanned} scanned, "
        f"{unchanged} unchanged, {failed} failed), {platforms} platform manifests, "
        f"{layers} unique layers ({layers_scanned} scanned, {layers_cached} from the cache), "
        f"{tags_moved} tags new or moved, {seconds:.1f} s"
    )
