"""Maven version ordering, after Maven's ComparableVersion (without its nested sub-lists).

Items are split at ``.``, ``-`` and digit/letter changes; numbers compare as numbers; qualifiers rank
``alpha`` (``a``) < ``beta`` (``b``) < ``milestone`` (``m``) < ``rc`` (``cr``) < ``snapshot`` < release
(``ga``, ``final``, ``release``, nothing) < ``sp`` < any other qualifier (by text); a number beats a
qualifier; trailing zeros and release qualifiers do not count (``1.0`` == ``1`` == ``1-ga``).
"""

from __future__ import annotations

import re

_ALIASES = {"a": "alpha", "b": "beta", "m": "milestone", "cr": "rc", "ga": "", "final": "", "release": ""}
_RANK = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"]
_ITEM = re.compile(r"\d+|[^\d.\-]+")

Item = tuple[int, int | str]  # (0, number) | (1, qualifier rank text)


def _qualifier(q: str) -> str:
    q = _ALIASES.get(q, q)
    if q in _RANK:
        return f"{_RANK.index(q)}"
    return f"{len(_RANK)}-{q}"


def items(text: str) -> list[Item]:
    """The comparable items of ``text``, trailing null items removed."""
    out: list[Item] = []
    for tok in _ITEM.findall(text.lower()):
        out.append((1, int(tok)) if tok.isdigit() else (0, _qualifier(tok)))
    while out and out[-1] in ((1, 0), (0, _qualifier(""))):
        out.pop()
    return out


def _cmp_item(x: Item | None, y: Item | None) -> int:
    if x is None and y is None:
        return 0
    if x is None:
        return -_cmp_item(y, None)
    if y is None:  # compare against the null item: 0 for numbers, the release for qualifiers
        y = (1, 0) if x[0] == 1 else (0, _qualifier(""))
    if x[0] != y[0]:
        return 1 if x[0] > y[0] else -1  # a number beats a qualifier
    a, b = x[1], y[1]
    return (a > b) - (a < b)  # type: ignore[operator]  # same kind: both int or both str


def compare(a: str, b: str) -> int:
    """-1, 0 or 1."""
    ia, ib = items(a), items(b)
    for n in range(max(len(ia), len(ib))):
        c = _cmp_item(ia[n] if n < len(ia) else None, ib[n] if n < len(ib) else None)
        if c:
            return c
    return 0
