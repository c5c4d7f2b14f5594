"""Every bound provenant puts on its inputs, in one model.

Images, registries and policy files come from people the user does not trust, so every read is bounded:
bytes, entries, depth, time. Each bound is a field of :class:`Limits` with a documented default; a run
overrides it with ``--limit NAME=VALUE`` (``--timeout`` for the deadline) or ``PROVENANT_LIMIT_NAME``.
Hitting one raises :class:`LimitExceededError` (one line, exit 2), or becomes a scan issue when it
concerns one file, and the message names the limit and how to raise it.

The active limits are process-wide (:func:`current`, :func:`activate`): the CLI activates what the flags
say once, and library callers may activate their own. The deadline is an absolute monotonic time, so
work handed to threads or processes of the same machine can check it too.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from provenant.errors import ProvenantError, UsageError

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30

ENV_PREFIX = "PROVENANT_LIMIT_"


class Limits(BaseModel):
    """Bounds on time, sizes, counts and depth. Sizes are bytes; times are seconds (0 = no deadline)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- time
    timeout: float = Field(1800.0, ge=0, description="deadline of one whole command, in seconds (0: none)")
    connect_timeout: float = Field(10.0, gt=0, description="seconds to open a connection to a server")
    read_timeout: float = Field(30.0, gt=0, description="seconds a server may stay silent during one request")
    min_rate: int = Field(
        1 * KiB, ge=0, description="bytes per second a body must average once `rate-window` has passed (0: off)"
    )
    rate_window: float = Field(30.0, gt=0, description="seconds of a transfer before `min-rate` is enforced")
    retry_after_cap: float = Field(60.0, ge=0, description="the longest wait a Retry-After header can ask for")
    retries: int = Field(5, ge=0, le=100, description="retries of a failed request after the first attempt")
    redirects: int = Field(5, ge=0, le=50, description="redirects followed for one request")
    # --- registry documents and listings
    manifest_bytes: int = Field(8 * MiB, gt=0, description="size of a manifest, index or config")
    error_body_bytes: int = Field(64 * KiB, gt=0, description="bytes of an error answer that are read")
    token_bytes: int = Field(1 * MiB, gt=0, description="size of a token service's answer")
    page_bytes: int = Field(8 * MiB, gt=0, description="size of one page of tags, catalog or referrers")
    pages: int = Field(1000, gt=0, description="pages of one listing (tags, catalog)")
    referrers: int = Field(10_000, gt=0, description="referrers listed for one manifest")
    platforms: int = Field(1024, gt=0, description="manifests in one index")
    # --- layers and the files in them
    layer_bytes: int = Field(64 * GiB, gt=0, description="decompressed bytes of one layer (stops a gzip/zstd bomb)")
    tar_entries: int = Field(5_000_000, gt=0, description="entries in one layer")
    archive_entries: int = Field(
        100_000, gt=0, description="entries in a docker save or OCI archive tarball (each is held in memory)"
    )
    name_bytes: int = Field(64 * KiB, gt=0, description="length of one tar entry's name or link target")
    hardlinks: int = Field(10_000, gt=0, description="hardlinks to one file in one layer")
    file_bytes: int = Field(
        256 * MiB, gt=0, description="decompressed bytes read from one cataloged file, nested archives included"
    )
    archive_depth: int = Field(4, ge=0, le=32, description="archives nested in archives (jar in war in ear)")
    sqlite_steps: int = Field(
        200_000_000, gt=0, description="SQLite virtual-machine steps for reading one package database"
    )
    # --- structured text (manifests, attestations, policy files)
    json_depth: int = Field(256, gt=0, le=10_000, description="nesting depth of a JSON or YAML document")
    policy_bytes: int = Field(4 * MiB, gt=0, description="size of a policy file or a file it names")

    @classmethod
    def names(cls) -> list[str]:
        """The user-facing names (``layer-bytes``), in field order."""
        return [flag_name(f) for f in cls.model_fields]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """Defaults, overridden by ``PROVENANT_LIMIT_<NAME>`` (and ``PROVENANT_TIMEOUT``) variables."""
        env = os.environ if environ is None else environ
        pairs = [(k[len(ENV_PREFIX) :].lower(), v) for k, v in env.items() if k.startswith(ENV_PREFIX)]
        if "PROVENANT_TIMEOUT" in env:
            pairs.append(("timeout", env["PROVENANT_TIMEOUT"]))
        return cls().with_overrides(pairs, source="environment")

    def with_overrides(self, pairs: Iterable[tuple[str, str]], *, source: str = "--limit") -> Limits:
        """A copy with ``(name, text)`` pairs applied; names may use ``-`` or ``_``."""
        changes: dict[str, Any] = {}
        for raw_name, text in pairs:
            field = raw_name.strip().lower().replace("-", "_")
            info = type(self).model_fields.get(field)
            if info is None:
                raise UsageError(
                    f"{source}: unknown limit {raw_name!r}",
                    hint="known limits: " + ", ".join(self.names()),
                )
            changes[field] = _parse_value(flag_name(field), text, info.annotation)
        if not changes:
            return self
        try:
            return type(self).model_validate({**self.model_dump(), **changes})
        except ValueError as exc:
            first = str(exc).splitlines()
            raise UsageError(f"{source}: invalid limit value: {' '.join(first[1:3]).strip()}") from None

    def describe(self, field: str) -> str:
        """A field's value as a person reads it: ``64 GiB``, ``30 s``, ``1000``."""
        return format_value(field, getattr(self, field))


def flag_name(field: str) -> str:
    """``layer_bytes`` → ``layer-bytes``."""
    return field.replace("_", "-")


def how_to_raise(field: str) -> str:
    """The flag and variable that change one limit."""
    if field == "timeout":
        return "raise it with --timeout SECONDS or PROVENANT_TIMEOUT"
    return f"raise it with --limit {flag_name(field)}=N or {ENV_PREFIX}{field.upper()}"


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$", re.IGNORECASE)
_UNITS = {
    "": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
    "t": 1000**4, "tb": 1000**4, "ki": KiB, "kib": KiB, "mi": MiB, "mib": MiB, "gi": GiB, "gib": GiB,
    "ti": 1 << 40, "tib": 1 << 40,
}  # fmt: skip


def _parse_value(name: str, text: str, annotation: Any) -> int | float:
    if annotation is float:
        try:
            value = float(text.strip().removesuffix("s"))
        except ValueError:
            raise UsageError(f"limit {name}: {text!r} is not a number of seconds") from None
        if not math.isfinite(value):
            raise UsageError(f"limit {name}: {text!r} is not a finite number of seconds")
        return value
    m = _SIZE.match(text)
    unit = (m.group(2) or "") if m else ""
    if m is None or (unit and not (name.endswith("bytes") or name == "min-rate")):
        kind = "a size in bytes (e.g. 512MiB)" if name.endswith("bytes") else "a whole number"
        raise UsageError(f"limit {name}: {text!r} is not {kind}")
    number = float(m.group(1)) * _UNITS[(m.group(2) or "").lower()]
    return int(number)


def format_value(field: str, value: float) -> str:
    """Bytes in binary units, seconds with ``s``, counts plain."""
    if field.endswith("bytes") or field == "min_rate":
        suffix = "/s" if field == "min_rate" else ""
        for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
            if value >= size and value % size == 0:
                return f"{int(value // size)} {unit}{suffix}"
        return f"{int(value)} bytes{suffix}"
    if isinstance(value, float):
        return f"{value:g} s"
    return str(value)


class LimitExceededError(ProvenantError):
    """An input went past one of the :class:`Limits`."""

    def __init__(self, what: str, field: str, *, limits: Limits | None = None, got: str | None = None) -> None:
        lim = limits or current()
        detail = f" ({got})" if got else ""
        super().__init__(
            f"{what}: over the {flag_name(field)} limit of {lim.describe(field)}{detail}",
            hint=how_to_raise(field),
        )
        self.field = field


# --- the active limits and the deadline -------------------------------------------------------------

_active: Limits | None = None
_deadline: float | None = None


def current() -> Limits:
    """The limits in force: what :func:`activate` set, else the defaults with environment overrides."""
    global _active  # noqa: PLW0603 - one process-wide setting, read on hot paths
    if _active is None:
        _active = Limits.from_env()
    return _active


def activate(limits: Limits, *, start_deadline: bool = True) -> Limits:
    """Make ``limits`` the process-wide limits; the deadline (``timeout``) starts now unless told not to."""
    global _active, _deadline  # noqa: PLW0603
    _active = limits
    if start_deadline:
        _deadline = time.monotonic() + limits.timeout if limits.timeout > 0 else None
    return limits


def deadline() -> float | None:
    """The absolute ``time.monotonic()`` by which the command must end, if any."""
    return _deadline


def remaining() -> float | None:
    """Seconds left before the deadline (never negative), or None without one."""
    if _deadline is None:
        return None
    return max(0.0, _deadline - time.monotonic())


def check_deadline(what: str) -> None:
    """Raise :class:`LimitExceededError` once the deadline has passed."""
    if _deadline is not None and time.monotonic() >= _deadline:
        raise LimitExceededError(what, "timeout")


def reset() -> None:
    """Forget the active limits and deadline (tests; a new run of the library)."""
    global _active, _deadline  # noqa: PLW0603
    _active = None
    _deadline = None
