"""``provenant fleet scan`` of an unchanged registry, answered before click is imported.

A nightly rescan of a registry that did not change costs one manifest HEAD per reference
(:func:`provenant.fleet.unchanged.unchanged_scan`); at ten references the rest of such a run is the
process start-up, and importing click is the largest part of it that the answer does not need.
:func:`parse` recognises the plain shape of the command (targets, ``--db``, ``--tag``, ``--newest``,
``--ca-file``) and nothing else: any other option, a repeated single option or a value that looks
like an option makes it step aside, and click parses the command line as always. What it accepts,
click parses to the same values (tested token for token against click's own parser).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

#: Options this path reads, each taking one value; any other option is left to click.
_SINGLE = ("--db", "--newest", "--ca-file")
_REPEATABLE = ("--tag",)


#: Whether :func:`run` asked the registry in this process (click's ``fleet scan`` then does not ask again).
_asked = [False]


def asked() -> bool:
    """Whether this process already tried the unchanged answer (and is running the full scan because of it)."""
    return _asked[0]


class ScanArgs(NamedTuple):
    """The arguments of ``fleet scan`` this path answers: what click would pass for them."""

    targets: tuple[str, ...]
    db: str | None
    tag_globs: tuple[str, ...]
    newest: int | None
    ca_file: Path | None


def parse(argv: Sequence[str], environ: Mapping[str, str]) -> ScanArgs | None:
    """``argv`` (without the program name) as ``fleet scan`` arguments, or None when click must read it."""
    if list(argv[:2]) != ["fleet", "scan"]:
        return None
    targets: list[str] = []
    values: dict[str, list[str]] = {}
    rest = iter(argv[2:])
    for token in rest:
        if not token.startswith("-"):
            targets.append(token)
            continue
        name, eq, value = token.partition("=")
        if name not in _SINGLE + _REPEATABLE:
            return None
        if not eq:
            value = next(rest, "")
        if not value or value.startswith("-"):
            return None  # click's own reading of these (an error, or an option taken as a value) decides
        values.setdefault(name, []).append(value)
    if not targets or any(len(values.get(name, ())) > 1 for name in _SINGLE):
        return None
    newest = values.get("--newest", [None])[0]
    if newest is not None and not (newest.isascii() and newest.isdigit() and int(newest) >= 1):
        return None
    ca_file = values.get("--ca-file", [None])[0]
    if ca_file is not None and not (os.path.isfile(ca_file) and os.access(ca_file, os.R_OK)):
        return None
    return ScanArgs(
        targets=tuple(targets),
        db=values.get("--db", [environ.get("PROVENANT_FLEET_DB") or None])[0],
        tag_globs=tuple(values.get("--tag", ())),
        newest=None if newest is None else int(newest),
        ca_file=None if ca_file is None else Path(ca_file),
    )


def run(argv: Sequence[str], environ: Mapping[str, str]) -> int | None:
    """Answer ``argv`` when it is ``fleet scan`` of an unchanged registry: the exit code, else None (ask click)."""
    args = parse(argv, environ)
    if args is None:
        return None
    from provenant import limits
    from provenant.errors import ProvenantError
    from provenant.fleet import require_extra

    try:
        require_extra()
        active = limits.activate(limits.Limits.from_env(environ))
    except ProvenantError:
        return None  # a missing extra or a bad PROVENANT_LIMIT_* value: click's command reports it
    from provenant.cli import deadline, errorline
    from provenant.fleet.targets import TagFilter
    from provenant.fleet.unchanged import unchanged_scan

    # The cycle collector stays paused (provenant.cli.startup): the HEADs and the SQLite read make no
    # reference cycles (500 HEADs leave none to collect), and the process ends with this answer.
    deadline.arm(active.timeout)
    _asked[0] = True
    try:
        found = unchanged_scan(
            args.targets, TagFilter(args.tag_globs, args.newest), args.db, ca_file=args.ca_file, env=environ
        )
    except deadline.DeadlineReached as exc:
        return _fail(errorline.line(exc.diagnostics()))
    except KeyboardInterrupt:
        return _fail(errorline.line("interrupted", prefix="provenant: "))
    except Exception as exc:  # a bug ends as one line and exit 2, as in every click command
        return _fail(errorline.line(errorline.internal_error(exc)))
    finally:
        deadline.disarm()
    if found is None:
        return None
    sys.stderr.write(found.line() + "\n")
    return 0


def _fail(line: str) -> int:
    sys.stderr.write(line + "\n")
    return 2
