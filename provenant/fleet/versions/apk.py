"""Alpine (apk) version ordering: ``1.2.3a_rc1_p2-r4``, as apk-tools' version.c compares them.

Numbers separated by dots (compared as numbers; after the first, one with a leading zero compares as a
fraction), an optional letter, suffixes (``_alpha`` < ``_beta`` < ``_pre`` < ``_rc`` < release <
``_cvs`` < ``_svn`` < ``_git`` < ``_hg`` < ``_p``) each with an optional number, then ``-rN``.
"""

from __future__ import annotations

import re

_SUFFIX_RANK = {"alpha": -4, "beta": -3, "pre": -2, "rc": -1, "cvs": 1, "svn": 2, "git": 3, "hg": 4, "p": 5}
_APK = re.compile(
    r"^(\d+(?:\.\d+)*)([a-z]?)((?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*)(?:~[0-9a-f]+)?(?:-r(\d+))?$"
)

Key = tuple[tuple[tuple[int, int | str], ...], int, tuple[tuple[int, int], ...], int]


def key(text: str) -> Key | None:
    """A sort key for a valid apk version, or None."""
    m = _APK.match(text)
    if m is None:
        return None
    parts: list[tuple[int, int | str]] = []
    for n, p in enumerate(m[1].split(".")):
        # apk compares a later part with a leading zero as a decimal fraction (1.01 < 1.1).
        parts.append((1, p.rstrip("0") or "0") if n and p.startswith("0") and len(p) > 1 else (0, int(p)))
    letter = ord(m[2]) if m[2] else 0
    suffixes = tuple(
        (_SUFFIX_RANK[s.rstrip("0123456789")], int(s.lstrip("abcdefghijklmnopqrstuvwxyz") or 0))
        for s in m[3].split("_")[1:]
    )
    # A release without suffix ranks between the pre-release and the post-release suffixes.
    return tuple(parts), letter, (*suffixes, (0, 0)), int(m[4] or 0)


def compare(a: str, b: str) -> int:
    """-1, 0 or 1; an invalid version sorts below every valid one, and against another by text."""
    ka, kb = key(a), key(b)
    if ka is None or kb is None:
        if ka is None and kb is None:
            return (a > b) - (a < b)
        return -1 if ka is None else 1
    return _cmp_parts(ka, kb)


def _cmp_parts(ka: Key, kb: Key) -> int:
    pa, pb = ka[0], kb[0]
    for x, y in zip(pa, pb, strict=False):
        if x != y:
            if x[0] == y[0]:
                return 1 if x[1] > y[1] else -1  # type: ignore[operator]  # same kind: both int or both str
            return 1 if x[0] < y[0] else -1  # a whole number beats a fraction
    if len(pa) != len(pb):
        return 1 if len(pa) > len(pb) else -1
    rest_a, rest_b = ka[1:], kb[1:]
    return (rest_a > rest_b) - (rest_a < rest_b)
