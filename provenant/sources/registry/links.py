"""``Link`` header pagination, read without httpx (the lean ``tags`` path uses it too)."""

from __future__ import annotations

import re

_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")


def next_link(header: str | None) -> str | None:
    """The target of ``Link: <url>; rel="next"``, if any."""
    if not header:
        return None
    for m in _LINK.finditer(header):
        params = m.group(2)
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "rel" and "next" in value.strip().strip('"').lower().split():
                return m.group(1).strip()
    return None
