"""RPM version ordering: ``[epoch:]version[-release]``, each part compared by rpmvercmp.

rpmvercmp (rpm's lib/rpmvercmp.c, documented in the RPM spec's "Version comparison"): split into runs of
digits and of letters, separators ignored; ``~`` sorts before anything (even the end), ``^`` after the
end but before anything else; a numeric run beats an alphabetic one; numbers compare without leading
zeros; the string with runs left over is newer.
"""

from __future__ import annotations

import re

_EVR = re.compile(r"^(?:(\d+):)?([^-]*)(?:-(.*))?$")


def rpmvercmp(a: str, b: str) -> int:
    """-1, 0 or 1 for two version (or release) strings."""
    if a == b:
        return 0
    i = j = 0
    while i < len(a) or j < len(b):
        while i < len(a) and not a[i].isalnum() and a[i] not in "~^":
            i += 1
        while j < len(b) and not b[j].isalnum() and b[j] not in "~^":
            j += 1
        # Tilde: sorts before everything, including the end of the string.
        if (i < len(a) and a[i] == "~") or (j < len(b) and b[j] == "~"):
            if not (i < len(a) and a[i] == "~"):
                return 1
            if not (j < len(b) and b[j] == "~"):
                return -1
            i, j = i + 1, j + 1
            continue
        # Caret: like the end of the string, but newer than the end itself.
        if (i < len(a) and a[i] == "^") or (j < len(b) and b[j] == "^"):
            if i >= len(a):
                return -1
            if j >= len(b):
                return 1
            if a[i] != "^":
                return 1
            if b[j] != "^":
                return -1
            i, j = i + 1, j + 1
            continue
        if i >= len(a) or j >= len(b):
            break
        numeric = a[i].isdigit()
        pat = r"\d+" if numeric else r"[A-Za-z]+"
        ma = re.compile(pat).match(a, i)
        mb = re.compile(pat).match(b, j)
        if mb is None:  # the runs differ in kind: the numeric one is newer
            return 1 if numeric else -1
        assert ma is not None
        ra, rb = ma.group(), mb.group()
        i, j = ma.end(), mb.end()
        if numeric:
            ra, rb = ra.lstrip("0"), rb.lstrip("0")
            if len(ra) != len(rb):
                return 1 if len(ra) > len(rb) else -1
        if ra != rb:
            return 1 if ra > rb else -1
    if i >= len(a) and j >= len(b):
        return 0
    return -1 if i >= len(a) else 1


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 for two ``[epoch:]version[-release]`` strings (a missing epoch is 0)."""
    ea, eb = _EVR.match(a), _EVR.match(b)
    assert ea is not None and eb is not None  # the pattern matches every string
    if int(ea[1] or 0) != int(eb[1] or 0):
        return 1 if int(ea[1] or 0) > int(eb[1] or 0) else -1
    c = rpmvercmp(ea[2], eb[2])
    if c or ea[3] is None or eb[3] is None:  # a release is compared only when both have one
        return c
    return rpmvercmp(ea[3], eb[3])
