"""Byte counts as text, shared by the CLI and the library's renderers (tables, Markdown, HTML)."""

from __future__ import annotations


def human_size(n: int) -> str:
    """Decimal units as registries show them: ``28.4 MB``."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")
