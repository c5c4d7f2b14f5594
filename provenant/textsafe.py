"""Values from images and servers, made safe to show.

Labels, env values, package names, registry error text: any of it can carry terminal escapes (clear the
screen, set the window title, write the clipboard with OSC 52, hide a link with OSC 8) or markup that a
renderer would interpret. Everything that reaches a terminal, a log line or an XML report goes through
:func:`printable` first: control characters are shown escaped (``\\x1b``), never emitted.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, the Unicode line/paragraph separators and bidi overrides that can disguise
# what a line says, and lone surrogates (no stream can write them); tab is kept only where the caller allows it.
_UNSAFE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_UNSAFE_TAB = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(m: re.Match[str]) -> str:
    ch = m.group(0)
    named = _NAMED.get(ch)
    if named:
        return named
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (a file name read with surrogateescape): that byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str, *, keep_tabs: bool = False) -> str:
    """``text`` with every control character escaped; plain text comes back unchanged (and fast)."""
    pattern = _UNSAFE if keep_tabs else _UNSAFE_TAB
    if pattern.search(text) is None:
        return text
    return pattern.sub(_escape, text)


_SURROGATES = "[\ud800-\udfff]"  # compiled on first use (re's cache): start-up imports this module


def writable(text: str) -> str:
    """``text`` with lone surrogates shown escaped (``\\xe9`` for a byte that was not UTF-8), nothing else
    changed: for output whose format escapes the rest itself (HTML)."""
    if re.search(_SURROGATES, text) is None:
        return text
    return re.sub(_SURROGATES, _escape, text)


def one_line(text: str, *, limit: int = 300) -> str:
    """``text`` escaped and cut to ``limit`` characters, for messages built from server answers."""
    safe = printable(" ".join(text.split()))
    return safe if len(safe) <= limit else safe[: limit - 3] + "..."


# XML 1.0 allows only #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]; a JUnit or
# CycloneDX-XML file with any other character is not well-formed. This is the complement of that set,
# spelled directly: the negated class with its ranges up to U+10FFFF took ~4 ms to compile at import.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` with the characters XML 1.0 forbids shown escaped (``\\x1b``)."""
    if _XML_BAD.search(text) is None:
        return text
    return _XML_BAD.sub(_escape, text)


def markup(text: str) -> str:
    """``text`` for a rich markup string or table cell: controls escaped, then ``[`` made literal.

    Rich reads ``[bold]``, ``[link=…]`` and ``[/]`` in any string it prints, so a value from an image
    could hide a link, change what the line shows, or raise ``MarkupError`` (``arm64[/]``).
    """
    from rich.markup import escape

    return escape(printable(text))


def lines(text: str) -> str:
    """Multi-line rendered text with every control character but newline and tab shown escaped."""
    return "\n".join(printable(line, keep_tabs=True) for line in text.split("\n"))
