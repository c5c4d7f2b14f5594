"""The base images a Dockerfile builds from: ``FROM`` lines with stages, ``ARG`` substitution and ``--platform``.

Only what pinning needs is parsed: line continuations (the ``escape`` directive included), comments,
heredoc bodies (skipped: a ``FROM`` line inside a script is not an instruction),
global ``ARG`` defaults overridden by ``--build-arg``, ``$VAR`` / ``${VAR}`` / ``${VAR:-default}`` /
``${VAR:+alt}`` in ``FROM``, ``FROM --platform=… image AS name``. A ``FROM`` naming an earlier stage
and ``FROM scratch`` are not base images. References are parsed with :mod:`provenant.reference`, so
``registry:5000/img`` is a registry port, not a tag.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from provenant.errors import ProvenantError, UsageError
from provenant.reference import Reference, parse_reference

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
#: ``RUN <<EOF``, ``COPY <<-"EOT" /dst``: the delimiter word of each heredoc an instruction opens.
_HEREDOC = re.compile(r"<<-?[\"']?([A-Za-z_][A-Za-z0-9_]*)[\"']?")
_VAR = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<op>[-+])(?P<word>[^}]*))?\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


@dataclass(frozen=True)
class FromLine:
    """One ``FROM`` instruction, resolved."""

    line: int
    text: str  # the instruction as written (continuations joined)
    image: str  # the image after ARG substitution
    stage: str | None
    platform: str | None
    stage_ref: bool = False
    scratch: bool = False
    reference: Reference | None = None
    explicit_tag: bool = False
    error: str | None = None
    unresolved: tuple[str, ...] = ()

    @property
    def is_base(self) -> bool:
        """An external image (not a previous stage, not scratch)."""
        return not self.stage_ref and not self.scratch

    @property
    def pinned(self) -> bool:
        """Pinned by digest."""
        return self.reference is not None and self.reference.digest is not None


@dataclass(frozen=True)
class Dockerfile:
    """The parsed ``FROM`` lines of one Dockerfile."""

    path: str
    froms: tuple[FromLine, ...]
    args: Mapping[str, str | None]

    @property
    def bases(self) -> list[FromLine]:
        """The FROM lines that name an external image."""
        return [f for f in self.froms if f.is_base]


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, instruction) with continuations joined and comments dropped."""
    escape = "\\"
    lines = text.splitlines()
    # Parser directives: only at the very top, before any instruction, comment or blank line.
    for raw in lines:
        m = _DIRECTIVE.match(raw)
        if m is None:
            break
        if m.group(1).lower() == "escape" and m.group(2) in ("`", "\\"):
            escape = m.group(2)
    out: list[tuple[int, str]] = []
    buf: list[str] = []
    start = 0
    heredocs: list[str] = []  # delimiters still open: their bodies are data (a script), not instructions
    for number, raw in enumerate(lines, 1):
        stripped = raw.strip()
        if heredocs:
            if stripped == heredocs[0]:
                heredocs.pop(0)
            continue
        if stripped.startswith("#"):
            continue  # comments (also inside a continued instruction) are dropped
        if not buf:
            if not stripped:
                continue
            start = number
        if stripped.endswith(escape):
            buf.append(stripped[: -len(escape)])
            continue
        buf.append(stripped)
        instruction = " ".join(p.strip() for p in buf if p.strip())
        out.append((start, instruction))
        heredocs = _HEREDOC.findall(instruction)
        buf = []
    if buf:
        out.append((start, " ".join(p.strip() for p in buf if p.strip())))
    return out


def substitute(text: str, values: Mapping[str, str | None]) -> tuple[str, list[str]]:
    """Expand ``$VAR`` forms with ``values``; returns the text and the names that had no value."""
    missing: list[str] = []

    def one(m: re.Match[str]) -> str:
        name = m.group("braced") or m.group("bare")
        value = values.get(name)
        op, word = m.group("op"), m.group("word") or ""
        if op == "-":
            return value if value else word
        if op == "+":
            return word if value else ""
        if value is None:
            missing.append(name)
            return ""
        return value

    return _VAR.sub(one, text), missing


def parse_dockerfile(text: str, path: str = "Dockerfile", build_args: Mapping[str, str] | None = None) -> Dockerfile:
    """The FROM lines of ``text``; ``build_args`` override ``ARG`` defaults declared before the first FROM."""
    build_args = dict(build_args or {})
    global_args: dict[str, str | None] = {}
    stages: set[str] = set()
    froms: list[FromLine] = []
    for number, instr in _logical_lines(text):
        keyword, _, rest = instr.partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and not froms:
            for decl in rest.split():
                name, eq, default = decl.partition("=")
                default_value: str | None = default.strip("\"'") if eq else None
                if default_value is not None:
                    default_value, _ = substitute(default_value, {**global_args, **build_args})
                global_args[name] = build_args.get(name, default_value)
            continue
        if keyword != "FROM":
            continue
        words = rest.split()
        platform: str | None = None
        while words and words[0].startswith("--"):
            flag = words.pop(0)
            if flag.startswith("--platform="):
                platform = flag.split("=", 1)[1]
        stage = None
        if len(words) >= 3 and words[-2].lower() == "as":
            stage = words[-1]
            words = words[:-2]
        raw_image = words[0] if words else ""
        image, missing = substitute(raw_image, global_args)
        if platform is not None:
            expanded, unknown = substitute(platform, global_args)
            # BUILDPLATFORM/TARGETPLATFORM are set by the builder, not declared: keep them as written.
            platform = platform if unknown else expanded
        no_value = (
            f"{raw_image} uses ARG {', '.join(dict.fromkeys(missing))} without a value: give it a default "
            "before the first FROM or pass --build-arg"
            if missing
            else None
        )
        entry = FromLine(
            number,
            instr,
            image,
            stage,
            platform,
            unresolved=tuple(missing),
            error=None if image else (no_value or "no image"),
        )
        if image.lower() in stages:
            entry = FromLine(number, instr, image, stage, platform, stage_ref=True)
        elif image == "scratch":
            entry = FromLine(number, instr, image, stage, platform, scratch=True)
        elif image:
            try:
                ref = parse_reference(image)
                name_part = image.split("@", 1)[0]
                explicit_tag = ":" in name_part.rsplit("/", 1)[-1]
                entry = FromLine(
                    number, instr, image, stage, platform, reference=ref, explicit_tag=explicit_tag,
                    unresolved=tuple(missing),
                )  # fmt: skip
            except ProvenantError as exc:
                error = f"{no_value} ({exc.message})" if no_value else exc.message
                entry = FromLine(number, instr, image, stage, platform, error=error, unresolved=tuple(missing))
        froms.append(entry)
        if stage:
            stages.add(stage.lower())
    return Dockerfile(path, tuple(froms), global_args)


def load_dockerfile(path: Path, build_args: Mapping[str, str] | None = None) -> Dockerfile:
    """Read and parse a Dockerfile."""
    from provenant import limits

    lim = limits.current()
    try:
        with path.open("rb") as fh:
            raw = fh.read(lim.policy_bytes + 1)  # bounded before it is read: it is an input of the policy run
        if len(raw) > lim.policy_bytes:
            raise limits.LimitExceededError(f"Dockerfile {path}", "policy_bytes", limits=lim)
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read Dockerfile {path}: {exc}") from None
    parsed = parse_dockerfile(text, str(path), build_args)
    if not parsed.froms:
        # Otherwise pinning.base-digest would pass it as "FROM scratch / stages only".
        raise UsageError(
            f"--dockerfile {path}: no FROM instruction found", hint="pass the Dockerfile the image is built from"
        )
    return parsed


def parse_build_args(values: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``--build-arg K=V`` values."""
    out: dict[str, str] = {}
    for v in values:
        key, eq, value = v.partition("=")
        if not eq or not key:
            raise UsageError(f"--build-arg {v!r}: expected KEY=VALUE")
        out[key] = value
    return out
