"""Markdown for a job summary, with every value from an image or registry shown as plain text.

Summaries are GitHub-flavoured markdown with HTML: an image label or package name could otherwise add a
link, an image, a table row or raw HTML to the page. Each value is one line, controls shown escaped,
``& < >`` as entities and markdown punctuation backslash-escaped.
"""

from __future__ import annotations

import re

from provenant.textsafe import one_line

_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def text(value: str, *, limit: int = 300) -> str:
    """``value`` as inert inline markdown (also safe in a table cell)."""
    flat = one_line(value, limit=limit)
    html = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _PUNCT.sub(r"\\\1", html)


def table(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table; cells are already markdown (pass them through :func:`text`)."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out) + "\n"
