"""Path globs as used by catalogers and policy image patterns: ``*`` within one segment, ``**`` across."""

from __future__ import annotations

import re
from functools import lru_cache


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


# --- matching in linear time ------------------------------------------------------------------------
#
# A glob translated to a regex (above) backtracks: ``*a*a*a…b`` against ``aaaa…`` takes exponential
# time in the number of stars (12 stars and 40 characters: minutes). Policy globs and the references
# they are matched against come from files and images the user may not control, so they are matched by
# a small automaton instead: the set of pattern positions alive after each subject character is kept
# (Thompson's construction), which costs O(len(glob) x len(subject)) whatever the pattern.

_LIT, _ONE, _STAR, _ANY, _DIR_START, _DIR_MID, _END = range(7)


@lru_cache(maxsize=1024)
def _program(glob: str) -> tuple[tuple[int, str], ...]:
    """The glob as automaton states: (kind, literal character); ``**/`` takes two states."""
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out += [(_DIR_START, ""), (_DIR_MID, "")]
            i += 3
        elif glob.startswith("**", i):
            out.append((_ANY, ""))
            i += 2
        elif glob[i] == "*":
            out.append((_STAR, ""))
            i += 1
        elif glob[i] == "?":
            out.append((_ONE, ""))
            i += 1
        else:
            out.append((_LIT, glob[i]))
            i += 1
    out.append((_END, ""))
    return tuple(out)


def _closure(program: tuple[tuple[int, str], ...], states: set[int]) -> set[int]:
    """Add the states reachable without reading a character (a star or ``**/`` matching nothing)."""
    todo = list(states)
    while todo:
        s = todo.pop()
        kind = program[s][0]
        nxt = s + 2 if kind == _DIR_START else s + 1
        if kind in (_STAR, _ANY, _DIR_START) and nxt not in states:
            states.add(nxt)
            todo.append(nxt)
    return states


def glob_match(glob: str, subject: str) -> bool:
    """Does the whole ``subject`` match ``glob`` (same syntax as :func:`glob_to_regex`)? Linear in each."""
    program = _program(glob)
    states = _closure(program, {0})
    for ch in subject:
        slash = ch == "/"
        nxt: set[int] = set()
        for s in states:
            kind, lit = program[s]
            if kind == _LIT:
                if ch == lit:
                    nxt.add(s + 1)
            elif kind == _ONE:
                if not slash:
                    nxt.add(s + 1)
            elif kind == _STAR:
                if not slash:
                    nxt.add(s)
            elif kind == _ANY:
                nxt.add(s)
            elif kind == _DIR_START:
                if not slash:
                    nxt.add(s + 1)  # inside a directory name: at least one character before its "/"
            elif kind == _DIR_MID:
                nxt.add(s if not slash else s - 1)
        if not nxt:
            return False
        states = _closure(program, nxt)
    return len(program) - 1 in states
