"""A purl in the form packageurl-python writes it back after parsing it (what cyclonedx-python-lib writes).

The library's round trip (``PackageURL.from_string(text).to_string()``) normalises each component three
times: ~100 µs per package, most of a CycloneDX encode. The purls provenant's catalogers write already
are in that form almost always, so a purl whose shape leaves the round trip nothing to change is
returned as it is, and every other one goes through the library. The shape (one pattern per family
of purl types, :data:`_SHAPES`) is narrow on purpose:

- ``pkg:TYPE/`` with TYPE one of the types below (the types the catalogers write, ``oci`` aside: the
  library lowercases its version), no subpath (``#``);
- namespace segments, name, version and qualifier values made of ``A-Z a-z 0-9 . _ ~ -`` (what
  percent-encoding leaves as it is) and the escapes ``%2B`` (``+``) and ``%40`` (``@``), never empty:
  no ``:`` (urlsplit reads a scheme or an authority), no ``/`` inside a component, no whitespace
  (stripped), no other escape (``%2F`` and whitespace escapes decode into something stripped, a
  lowercase or unneeded escape is re-encoded);
- for the types whose namespace and name the library lowercases, lowercase letters and no escape
  but ``%40`` (digits: the same in either case) in the namespace, none in the name, and for ``pypi`` no
  ``_`` in the name (it becomes ``-``);
- qualifier keys lowercase, starting with a letter, strictly ascending (the library sorts them and
  keeps one of each).

``tests/unit/test_canonical_purl.py`` checks that every string of that shape is left unchanged by
the library's round trip (generated strings, strings one edit away, real purls) and that the answer
is the library's for everything else.
"""

from __future__ import annotations

import re
from itertools import pairwise

from packageurl import PackageURL

_CHAR = r"(?:[A-Za-z0-9._~-]|%2B|%40)"
_LOWER_NS = r"(?:[a-z0-9._~-]|%40)"
_LOWER_NAME = r"[a-z0-9._~-]"
_PYPI_NAME = r"[a-z0-9.~-]"
_TAIL = rf"(?:@{_CHAR}+)?(?P<q>\?[a-z][a-z0-9._-]*={_CHAR}+(?:&[a-z][a-z0-9._-]*={_CHAR}+)*)?"


def _shape(ns: str, name: str) -> str:
    # A pattern string, compiled on first use by re's cache: compiling the three at import cost every
    # ``sbom`` run ~3 ms, whatever its output format.
    return rf"pkg:[a-z]+/(?:{ns}+/)*{name}+{_TAIL}"


_PLAIN = _shape(_CHAR, _CHAR)
_LOWER = _shape(_LOWER_NS, _LOWER_NAME)
#: Per type, the shape of a purl the round trip leaves unchanged.
_SHAPES = {
    **dict.fromkeys(("deb", "rpm", "golang", "maven", "gem", "nuget", "conda", "cargo", "generic"), _PLAIN),
    **dict.fromkeys(("npm", "apk", "composer", "alpm", "hex"), _LOWER),
    "pypi": _shape(_LOWER_NS, _PYPI_NAME),
}


def _keys_ascending(query: str) -> bool:
    keys = [pair.partition("=")[0] for pair in query[1:].split("&")]
    return all(a < b for a, b in pairwise(keys))


def canonical_purl(text: str) -> str:
    """``PackageURL.from_string(text).to_string()``, without the round trip when it would change nothing."""
    shape = _SHAPES.get(text[4 : text.find("/")]) if text.startswith("pkg:") else None
    m = re.fullmatch(shape, text) if shape is not None else None
    if m is not None and (m["q"] is None or _keys_ascending(m["q"])):
        return text
    return str(PackageURL.from_string(text).to_string())


__all__ = ["canonical_purl"]
