"""The part of the active limits that can change a layer scan's result, as a short cache-key fragment.

A scan run under lower limits may have recorded a limit issue (hardlink fan-out, a nested archive not
opened, an rpm database over its step budget) that higher limits would not, and the reverse. Cached
layer scans and SBOM documents are therefore keyed by these limits too: a scan made under other
limits is never served, and changing a limit costs a rescan, never a wrong answer.
"""

from __future__ import annotations

import hashlib

from provenant.limits import Limits

#: Limits a layer scan's result depends on (the others bound time or registry documents).
SCAN_LIMITS = ("tar_entries", "name_bytes", "hardlinks", "file_bytes", "archive_depth", "sqlite_steps", "layer_bytes")


def scan_limits_key(lim: Limits) -> str:
    """Eight hex digits that change with any of :data:`SCAN_LIMITS`."""
    text = ",".join(f"{name}={getattr(lim, name)}" for name in SCAN_LIMITS)
    return hashlib.sha256(text.encode()).hexdigest()[:8]
