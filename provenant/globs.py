"""Path globs as used by catalogers and policy image patterns: ``*`` within one segment, ``**`` across."""

from __future__ import annotations

import re


def glob_to_regex(glob: str) -> str:
    """Translate one glob: ``**/`` any number of directories, ``*`` and ``?`` within a segment."""
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)
