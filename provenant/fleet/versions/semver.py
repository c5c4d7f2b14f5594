"""Semantic Versioning 2.0.0 precedence (npm, Go modules, Cargo, and tags like ``v1.2.3``)."""

from __future__ import annotations

import re
from functools import total_ordering

_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)


@total_ordering
class SemVer:
    """A parsed version; build metadata does not take part in precedence (spec item 10)."""

    def __init__(self, core: tuple[int, int, int], pre: tuple[str, ...]) -> None:
        self.core = core
        self.pre = pre

    def _pre_key(self) -> tuple[tuple[int, int | str], ...]:
        # Numeric identifiers rank below alphanumeric ones and compare as numbers (spec item 11).
        return tuple((0, int(p)) if p.isdigit() else (1, p) for p in self.pre)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SemVer) and (self.core, self.pre) == (other.core, other.pre)

    def __hash__(self) -> int:
        return hash((self.core, self.pre))

    def __lt__(self, other: SemVer) -> bool:
        if self.core != other.core:
            return self.core < other.core
        if not self.pre or not other.pre:
            return bool(self.pre) and not other.pre  # a pre-release ranks below its release
        return self._pre_key() < other._pre_key()


def parse(text: str) -> SemVer | None:
    """``1.2.3-rc.1+build`` (a leading ``v`` and missing minor/patch allowed), or None."""
    m = _SEMVER.match(text.strip())
    if m is None:
        return None
    core = (int(m[1]), int(m[2] or 0), int(m[3] or 0))
    return SemVer(core, tuple(m[4].split(".")) if m[4] else ())


def parse_tag(tag: str) -> SemVer | None:
    """A tag read as a version (``v1.2``, ``1.2.3-rc1``), or None for tags like ``latest``."""
    return parse(tag)


def compare(a: str, b: str) -> int:
    """-1, 0 or 1; a string that is not semver sorts below every version, and against another by text."""
    va, vb = parse(a), parse(b)
    if va is None or vb is None:
        if va is None and vb is None:
            return (a > b) - (a < b)
        return -1 if va is None else 1
    return (va > vb) - (va < vb)
