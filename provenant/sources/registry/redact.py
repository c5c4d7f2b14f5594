"""Keeping secrets out of messages built from what a server said.

A registry or token service may echo the request back in its error text (``Authorization: Basic …``),
or quote the token it refused. Every piece of server text that goes into an error passes through
:func:`server_text`: ``Basic``/``Bearer`` credentials and ``token=…`` values are masked, and so is every
secret this process has used (passwords, identity tokens, Basic values, bearer tokens: see
:func:`remember`), before the text is made printable and cut to one line. Stdlib only.
"""

from __future__ import annotations

import re
import threading

from provenant.textsafe import one_line

MASK = "***"
# A value that looks like a credential: base64, a JWT, a hex or random token — at least one character
# that is not a lowercase letter, so that prose ("basic authentication required", "token expired")
# stays readable. Known secrets are masked whatever they look like (:func:`remember`).
_VALUE = r"(?=[^\s\"'&,;}]*[^a-z\s\"'&,;}])[^\s\"'&,;}]{4,}"
# Only the names ignore case: the value's test for "not a lowercase letter" must see the case.
_CREDENTIAL = re.compile(r"\b((?i:Basic|Bearer))(\s+|%20|\+)" + _VALUE)
_TOKEN_VALUE = re.compile(r"""\b((?i:(?:access_|refresh_|id_)?token|password|secret))(["']?\s*[:=]\s*["']?)""" + _VALUE)
#: Shorter values are not masked: they would mask ordinary words and reveal little anyway.
_MIN_SECRET = 4

_lock = threading.Lock()
_known: set[str] = set()


def remember(*secrets: str | None) -> None:
    """Mask these values wherever they appear in server text from now on (for the whole process)."""
    with _lock:
        _known.update(s for s in secrets if s and len(s) >= _MIN_SECRET)


def reset() -> None:
    """Forget every remembered secret (tests; a library caller starting an unrelated run)."""
    with _lock:
        _known.clear()


def redact(text: str) -> str:
    """``text`` with credentials and every remembered secret replaced by ``***``."""
    text = _CREDENTIAL.sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _TOKEN_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def server_text(text: str, *, limit: int = 200) -> str:
    """Server-sent text made safe for a one-line message: secrets masked, controls escaped, trimmed."""
    return one_line(redact(text), limit=limit)
