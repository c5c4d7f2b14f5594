"""Version ranges in each ecosystem's own ordering: ``--version '>=3.0.0,<3.0.8'``.

One module per ordering (dpkg, rpm, apk, PEP 440, semver, Maven); :func:`ordering` picks it by the purl
type. A SPEC is comma-separated constraints that must all hold (``OP VERSION`` with OP one of ``==``
``=`` ``!=`` ``<`` ``<=`` ``>`` ``>=``; a bare version means ``==``); ``||`` separates alternatives.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from provenant.errors import UsageError

Compare = Callable[[str, str], int]

#: purl type → ordering module.
ORDERINGS = {
    "deb": "dpkg",
    "rpm": "rpm",
    "apk": "apk",
    "pypi": "pep440",
    "npm": "semver",
    "golang": "semver",
    "cargo": "semver",
    "gem": "semver",
    "maven": "maven",
}
_CONSTRAINT = re.compile(r"^\s*(==|=|!=|<=|>=|<|>)?\s*(\S+)\s*$")


def ordering(purl_type: str) -> Compare:
    """The comparison function of ``purl_type`` (semver for types without their own ordering)."""
    module = importlib.import_module(f"provenant.fleet.versions.{ORDERINGS.get(purl_type, 'semver')}")
    compare: Compare = module.compare
    return compare


@dataclass(frozen=True)
class VersionSpec:
    """A parsed ``--version`` SPEC: alternatives of conjunctions of (operator, version)."""

    text: str
    alternatives: tuple[tuple[tuple[str, str], ...], ...]

    @classmethod
    def parse(cls, text: str) -> VersionSpec:
        """Parse SPEC; a malformed one raises a UsageError saying which part."""
        alts = []
        for alt in text.split("||"):
            cons = []
            for part in alt.split(","):
                m = _CONSTRAINT.match(part)
                if m is None:
                    raise UsageError(f"--version {text!r}: cannot read {part.strip()!r}; expected e.g. '>=1.2,<2'")
                cons.append((m[1] or "==", m[2]))
            alts.append(tuple(cons))
        return cls(text, tuple(alts))

    def matches(self, version: str, compare: Compare) -> bool:
        """Whether ``version`` satisfies the spec in the ordering ``compare``."""
        return any(all(_holds(op, compare(version, v)) for op, v in alt) for alt in self.alternatives)


def _holds(op: str, c: int) -> bool:
    return {
        "==": c == 0,
        "=": c == 0,
        "!=": c != 0,
        "<": c < 0,
        "<=": c <= 0,
        ">": c > 0,
        ">=": c >= 0,
    }[op]
