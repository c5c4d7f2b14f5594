"""PEP 440 ordering (pypi), by ``packaging`` — the reference implementation pip uses."""

from __future__ import annotations


def compare(a: str, b: str) -> int:
    """-1, 0 or 1; an invalid version sorts below every valid one, and against another by text."""
    from packaging.version import InvalidVersion, Version

    try:
        va: Version | None = Version(a)
    except InvalidVersion:
        va = None
    try:
        vb: Version | None = Version(b)
    except InvalidVersion:
        vb = None
    if va is None or vb is None:
        if va is None and vb is None:
            return (a > b) - (a < b)
        return -1 if va is None else 1
    return (va > vb) - (va < vb)
