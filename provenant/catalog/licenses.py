"""Declared licenses to SPDX expressions (via license-expression), keeping what cannot be mapped.

Also the process's one SPDX licensing index (:func:`spdx_licensing`) and the parse results of the
encoders (:func:`spdx_expression`, :func:`parsed_expression`), cached by expression string: building
the index costs ~40 ms and its tokenizer as much again, so it must never be built per package.
"""

from __future__ import annotations

import re
import threading
from functools import cache

from license_expression import (
    ExpressionError,
    ExpressionParseError,
    LicenseExpression,
    Licensing,
    get_license_index,
    get_spdx_licensing,
)

# Common non-SPDX spellings seen in package metadata (Debian, RPM, PyPI classifiers, npm).
_ALIASES = {
    "gpl-2": "GPL-2.0-only",
    "gpl-2+": "GPL-2.0-or-later",
    "gpl-3": "GPL-3.0-only",
    "gpl-3+": "GPL-3.0-or-later",
    "gplv2": "GPL-2.0-only",
    "gplv2+": "GPL-2.0-or-later",
    "gplv3": "GPL-3.0-only",
    "gplv3+": "GPL-3.0-or-later",
    "lgpl-2": "LGPL-2.0-only",
    "lgpl-2+": "LGPL-2.0-or-later",
    "lgpl-2.1": "LGPL-2.1-only",
    "lgpl-2.1+": "LGPL-2.1-or-later",
    "lgplv2+": "LGPL-2.0-or-later",
    "lgplv2.1+": "LGPL-2.1-or-later",
    "lgpl-3": "LGPL-3.0-only",
    "lgpl-3+": "LGPL-3.0-or-later",
    "agpl-3": "AGPL-3.0-only",
    "agpl-3+": "AGPL-3.0-or-later",
    "apache-2": "Apache-2.0",
    "apache 2.0": "Apache-2.0",
    "apache license 2.0": "Apache-2.0",
    "apache software license": "Apache-2.0",
    "asl 2.0": "Apache-2.0",
    "bsd": "BSD-3-Clause",
    "bsd-3": "BSD-3-Clause",
    "mit license": "MIT",
    "the mit license": "MIT",
    "the apache software license, version 2.0": "Apache-2.0",
    "apache license, version 2.0": "Apache-2.0",
    "the apache license, version 2.0": "Apache-2.0",
    "bsd license": "BSD-3-Clause",
    "new bsd license": "BSD-3-Clause",
    "expat": "MIT",
    "public domain": "LicenseRef-public-domain",
    "public-domain": "LicenseRef-public-domain",
    "artistic-1": "Artistic-1.0",
    "bsd-2": "BSD-2-Clause",
    "isc": "ISC",
    "x11": "X11",
    "psf": "PSF-2.0",
    "zlib": "Zlib",
    "mpl-2.0": "MPL-2.0",
    "mplv2.0": "MPL-2.0",
    "artistic": "Artistic-1.0-Perl",
    "gpl-1+": "GPL-1.0-or-later",
}


LICENSE_REF = re.compile(r"LicenseRef-[A-Za-z0-9.-]+")

_lock = threading.Lock()
_index: list[Licensing] = []


def spdx_licensing() -> Licensing:
    """The SPDX licensing index, built once per process with its tokenizer, and safe to share between threads.

    license-expression publishes a Licensing's tokenizer before its automaton is built, so two
    threads parsing with a fresh one race (the second fails with "'object' object has no attribute
    'children'"); layers are cataloged in threads. The tokenizer is therefore built here, under a
    lock, before the index is handed out; parsing only reads it afterwards.
    """
    if _index:
        return _index[0]
    with _lock:
        if not _index:
            licensing = get_spdx_licensing()
            licensing.get_advanced_tokenizer()
            _index.append(licensing)
    return _index[0]


@cache
def _spdx_index() -> tuple[dict[str, str], frozenset[str]]:
    """The license index as the fast path needs it, read once (~10 ms, a third of building the parser).

    Every SPDX license id it knows (its other ids too), lower-cased, to the id the parser writes; and
    the exception ids, lower-cased: valid only after WITH, which the fast path leaves to the parser.
    """
    keys: dict[str, str] = {}
    exceptions: set[str] = set()
    for entry in get_license_index():
        key = entry.get("spdx_license_key")
        if not key:
            continue
        names = (key, *entry.get("other_spdx_license_keys", ()))
        if entry.get("is_exception"):
            exceptions.update(n.lower() for n in names)
        else:
            for name in names:
                keys.setdefault(name.lower(), key)
    return keys, frozenset(exceptions)


def _spdx_keys() -> dict[str, str]:
    return _spdx_index()[0]


def _flat(text: str, *, license_refs: bool) -> str | None:
    """``A``, ``A AND B AND C`` or ``A OR B`` of known ids as the parser writes it, without the parser.

    Building the parser (its index of every license and its tokenizer, ~30 ms) was a tenth of a cold
    run on a small image, for expressions that are mostly this simple. None: not this shape (or a
    symbol not known), so the parser decides. ``license_refs``: ``LicenseRef-`` symbols kept as they are.
    """
    words = text.split(" ")
    if len(words) % 2 == 0:
        return None
    ops = {w.upper() for w in words[1::2]}
    if len(ops) > 1 or not ops <= {"AND", "OR"}:
        return None
    keys = _spdx_keys()
    out = []
    for word in words[::2]:
        key = keys.get(word.lower())
        if key is None:
            if not (license_refs and LICENSE_REF.fullmatch(word)):
                return None
            key = word
        out.append(key)
    return f" {ops.pop()} ".join(out) if ops else out[0]


@cache
def to_spdx(declared: str) -> str | None:
    """One declared license string as a valid SPDX expression, or None when it cannot be mapped."""
    text = declared.strip()
    if not text:
        return None
    alias = _ALIASES.get(text.lower())
    if alias:
        return alias
    if "(" in text or ")" in text:
        return _grouped(text)
    # Debian spells compound licenses "Artistic or GPL-1+": map each operand on its own.
    for op in (" or ", " and "):
        if op in text.lower():
            parts = [to_spdx(p) for p in re.split(op, text, flags=re.IGNORECASE)]
            if all(parts):
                return f" {op.strip().upper()} ".join(p if " " not in p else f"({p})" for p in parts if p)
            return None
    if len(text.split()) == 1 and text.lower() not in _spdx_index()[1]:
        # One symbol: the parser answers its id if the index knows it, else nothing (it is not valid).
        # Debian's "LGPL" or "GPL-1" (no such ids) built the whole parser only to be refused.
        return _spdx_keys().get(text.lower())
    flat = _flat(text, license_refs=False)
    if flat is not None:
        return flat
    try:
        parsed = spdx_licensing().parse(text, validate=True, strict=False)
    except ExpressionError:
        return None
    if parsed is None:
        return None
    return str(parsed)


_GROUPING = re.compile(r"(\(|\)|\s+(?:and|or|with)\s+)", re.IGNORECASE)


def _grouped(text: str) -> str | None:
    """An expression with parentheses, ``(Apache-2.0 OR MIT) AND MPL-2.0``: operands mapped one by one.

    Splitting at `` or `` first (as for Debian's unparenthesised spelling) cut such expressions
    through their groups, so they became no expression at all.
    """
    out: list[str] = []
    for part in _GROUPING.split(text):
        word = part.strip()
        if not word:
            continue
        if word in ("(", ")"):
            out.append(word)
        elif word.lower() in ("and", "or", "with"):
            out.append(word.upper())
        elif out and out[-1] == "WITH":  # an exception id, not a license: the parser checks it
            out.append(word)
        else:
            mapped = to_spdx(word)
            if mapped is None:
                return None
            out.append(f"({mapped})" if " " in mapped else mapped)
    try:
        parsed = spdx_licensing().parse(" ".join(out), validate=True, strict=True)
    except ExpressionError:
        return None
    return None if parsed is None else str(parsed)


def expression(declared: list[str]) -> str | None:
    """All declared licenses of a package joined with AND (each mapped); None if any cannot be mapped."""
    mapped = []
    for d in dict.fromkeys(declared):
        spdx = to_spdx(d)
        if spdx is None:
            return None
        mapped.append(spdx)
    if len(mapped) <= 1:
        return mapped[0] if mapped else None
    return " AND ".join(f"({m})" if " " in m else m for m in mapped)


@cache
def spdx_expression(text: str) -> str | None:
    """``text`` as a canonical SPDX expression, or None unless every symbol is an SPDX id or ``LicenseRef-``."""
    flat = _flat(text, license_refs=True)
    if flat is not None:
        return flat
    licensing = spdx_licensing()
    try:
        parsed = licensing.parse(text)
    except ExpressionError:
        return None
    if parsed is None:
        return None
    if any(not LICENSE_REF.fullmatch(s) for s in licensing.validate(parsed).invalid_symbols):
        return None
    try:
        licensing.parse(str(parsed), validate=True, strict=True)
    except ExpressionParseError:  # an exception used as a license or the other way round
        return None
    except ExpressionError:  # unknown keys: only the LicenseRef- ones checked above remain
        pass
    return str(parsed)


@cache
def parsed_expression(text: str) -> LicenseExpression:
    """The parsed form of a canonical expression (from :func:`spdx_expression`), shared by every package using it.

    Shared, so never to be modified: the SPDX writer only reads it.
    """
    parsed = spdx_licensing().parse(text)
    if parsed is None:
        raise ValueError(f"empty license expression {text!r}")
    return parsed
