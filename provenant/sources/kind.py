"""Which kind of source a typed reference names, decided without opening anything.

``oci:DIR[:NAME]``, ``oci-archive:FILE[:NAME]``, ``docker-archive:FILE[:REPO:TAG]``, ``registry:REF``
or ``docker://REF`` say it explicitly; otherwise an existing directory is an OCI layout, an existing
file is a tarball, and anything else is a registry reference. Standard library only.
"""

from __future__ import annotations

import re
from pathlib import Path

from provenant.errors import SourceError

_PORT_PATH = re.compile(r"\d+/")
_PREFIXES = ("oci:", "oci-archive:", "docker-archive:", "registry:", "docker://")


def split_kind(text: str) -> tuple[str | None, str]:
    """The explicit prefix (``oci:``, ``registry:``, …) of ``text``, or None, and the rest."""
    kind = next((p for p in _PREFIXES if text.startswith(p)), None)
    if kind == "registry:" and _PORT_PATH.match(text, len(kind)):
        kind = None  # ``registry:5000/img`` is the host ``registry`` on port 5000, not the ``registry:`` prefix
    return kind, text[len(kind) :] if kind else text


def registry_text(text: str) -> str | None:
    """The registry reference ``text`` names, or None when it names a local layout or tarball."""
    kind, rest = split_kind(text)
    if kind in ("registry:", "docker://"):
        return rest.removeprefix("//")
    if kind is None and not Path(text).exists() and not _has_existing_prefix(text):
        return text
    return None


def split_path(spec: str) -> tuple[Path, str | None]:
    """``PATH[:SELECTOR]`` where PATH itself may contain colons: the longest existing prefix wins."""
    if Path(spec).exists():
        return Path(spec), None
    parts = spec.split(":")
    for i in range(len(parts) - 1, 0, -1):
        head = ":".join(parts[:i])
        if Path(head).exists():
            return Path(head), ":".join(parts[i:])
    raise SourceError(f"{spec.split(':', maxsplit=1)[0]}: no such file or directory")


def _has_existing_prefix(text: str) -> bool:
    if text.startswith(("/", "./", "../", "~")):
        return True
    try:
        split_path(text)
    except SourceError:
        return False
    return True
