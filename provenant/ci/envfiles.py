"""GitHub Actions' environment files (``$GITHUB_OUTPUT``, ``$GITHUB_STEP_SUMMARY``) and workflow commands.

Outputs use the multi-line syntax ``name<<DELIMITER`` … ``DELIMITER`` with a random delimiter that the value
cannot contain, so no value (an SBOM path, a digest from a registry) can end its output early and set others.
Workflow command values escape ``%``, CR and LF (and ``:``/``,`` in properties) as the runner expects.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from provenant.textsafe import printable


def _escape_data(text: str) -> str:
    # `%` first so the escapes added after it are not escaped again; other controls shown as \xNN.
    return printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"), keep_tabs=True)


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str) -> str:
    """One workflow command line, e.g. ``::error title=x::message`` (values escaped)."""
    props = ",".join(f"{k}={_escape_property(v)}" for k, v in properties.items())
    return f"::{name}{' ' + props if props else ''}::{_escape_data(message)}"


def output_block(name: str, value: str) -> str:
    """``name<<DELIM`` / value / ``DELIM``: the delimiter syntax, safe for any value."""
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"output name {name!r}")
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    while delimiter in value:  # a 122-bit random string in the value: only by construction, but never trust it
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def append(path: Path | None, text: str) -> None:
    """Append ``text`` to an environment file (they are shared by every step of the job: never truncate)."""
    if path is None:
        return
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)


def stop_commands_token() -> str:
    """A fresh token for ``::stop-commands::TOKEN`` … ``::TOKEN::`` around text the runner must not parse."""
    return uuid.uuid4().hex
