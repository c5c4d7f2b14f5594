"""Where provenant caches things (layer scans, SBOM documents); no third-party imports."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """``$PROVENANT_CACHE_DIR``, else ``$XDG_CACHE_HOME/provenant``, else ``~/.cache/provenant``."""
    env = os.environ.get("PROVENANT_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "provenant"
