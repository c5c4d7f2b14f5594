"""The policies shipped inside the package (``provenant/policies/*.yaml``), addressable by name.

``--policy strict`` must work after ``pip install provenant``, where the repository's ``policies/`` directory
does not exist: the files are package data, and the repository's ``policies/`` is a link to them (one copy).
"""

from __future__ import annotations

from pathlib import Path

#: Built-in policy names, mildest first.
NAMES = ("default", "strict")

_DIR = Path(__file__).resolve().parent.parent / "policies"


def builtin_path(name: str) -> Path:
    """The file of built-in policy ``name`` (one of :data:`NAMES`)."""
    if name not in NAMES:
        raise KeyError(name)
    return _DIR / f"{name}.yaml"


def resolve(spec: str) -> Path:
    """The policy file ``--policy SPEC`` means: a built-in name, or else a path.

    A bare built-in name wins over a file of that name in the current directory (write ``./default``
    for the file): the same command line then means the same policy wherever it runs.
    """
    if spec in NAMES:
        return builtin_path(spec)
    return Path(spec)


STARTER_HEADER = """\
# Starter policy written by `provenant policy init` from the built-in {name!r} policy.
# Adapt it to your images, keep it in your repository, and check it with `provenant policy validate FILE`;
# run it with `provenant policy check REF@sha256:... --policy FILE`. Field reference: docs/policy-reference.md.
# Every field is commented below; a check family runs only when its section is present.
"""


def starter_text(name: str = "default") -> str:
    """A commented starter policy: the built-in policy ``name`` under a header saying how to use it."""
    body = builtin_path(name).read_text(encoding="utf-8")
    # The built-in's own first comment lines describe the shipped file; the header replaces them.
    lines = body.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return STARTER_HEADER.format(name=name) + "".join(lines)
