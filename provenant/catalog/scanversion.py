"""The layer scanner's version, without importing the catalogers (a rescan that scans nothing needs only this)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from provenant import __version__


@cache
def scanner_version() -> str:
    """Changes whenever the code that decides a layer scan's result changes (the layer cache key).

    Derived from the sources of the layer scanner and the catalogers, so a changed parser can never
    be served a stale cached result.
    """
    h = hashlib.sha256(__version__.encode())
    root = Path(__file__).resolve().parent.parent
    files = [f for sub in ("layers", "catalog") for f in sorted((root / sub).glob("*.py"))]
    # Also what those import that shapes a cached result: path globs and the package model.
    files += [root / "globs.py", root / "sbom" / "model.py"]
    for f in files:
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]
