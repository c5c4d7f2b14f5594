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
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from provenant.errors import ProvenantError, UsageError

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30

ENV_PREFIX = "PROVENANT_LIMIT_"


class LimitField(NamedTuple):
    """One bound: its type, default, allowed range and description (what ``Limits.model_fields`` lists)."""

    annotation: type[int] | type[float]
    default: int | float
    description: str
    ge: float | None = None
    gt: float | None = None
    le: float | None = None

    def check(self, name: str, value: Any) -> int | float:
        """``value`` as this field's type, or ValueError saying why not (ints may be given for floats)."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{flag_name(name)} must be a number (got {value!r})")
        if self.annotation is float:
            value = float(value)
        elif isinstance(value, float):
            if not value.is_integer():
                raise ValueError(f"{flag_name(name)} must be a whole number (got {value!r})")
            value = int(value)
        number: int | float = value
        for bound, ok, words in (
            (self.ge, self.ge is None or number >= self.ge, "greater than or equal to"),
            (self.gt, self.gt is None or number > self.gt, "greater than"),
            (self.le, self.le is None or number <= self.le, "less than or equal to"),
        ):
            if not ok:
                raise ValueError(f"{flag_name(name)} must be {words} {bound:g} (got {number:g})")
        return number


#: The :class:`LimitField` of each field of :class:`Limits`, in declaration order (see :func:`_f`).
_SPECS: list[LimitField] = []


def _f(annotation: type[int] | type[float], default: float, description: str, **bounds: float) -> Any:
    """A field's default; its :class:`LimitField` is noted for ``Limits.model_fields`` (in field order)."""
    _SPECS.append(LimitField(annotation, default, description, **bounds))
    return default


class LimitValues(NamedTuple):
    """The fields of :class:`Limits`, with their defaults and descriptions."""

    # --- time
    timeout: float = _f(float, 1800.0, "deadline of one whole command, in seconds (0: none)", ge=0)
    connect_timeout: float = _f(float, 10.0, "seconds to open a connection to a server", gt=0)
    read_timeout: float = _f(float, 30.0, "seconds a server may stay silent during one request", gt=0)
    min_rate: int = _f(
        int, 1 * KiB, "bytes per second a body must average once `rate-window` has passed (0: off)", ge=0
    )
    rate_window: float = _f(float, 30.0, "seconds of a transfer before `min-rate` is enforced", gt=0)
    retry_after_cap: float = _f(float, 60.0, "the longest wait a Retry-After header can ask for", ge=0)
    retries: int = _f(int, 5, "retries of a failed request after the first attempt", ge=0, le=100)
    redirects: int = _f(int, 5, "redirects followed for one request", ge=0, le=50)
    # --- registry documents and listings
    manifest_bytes: int = _f(int, 8 * MiB, "size of a manifest, index or config", gt=0)
    error_body_bytes: int = _f(int, 64 * KiB, "bytes of an error answer that are read", gt=0)
    token_bytes: int = _f(int, 1 * MiB, "size of a token service's answer", gt=0)
    page_bytes: int = _f(int, 8 * MiB, "size of one page of tags, catalog or referrers", gt=0)
    pages: int = _f(int, 1000, "pages of one listing (tags, catalog)", gt=0)
    referrers: int = _f(int, 10_000, "referrers listed for one manifest", gt=0)
    platforms: int = _f(int, 1024, "manifests in one index", gt=0)
    # --- layers and the files in them
    layer_bytes: int = _f(int, 64 * GiB, "decompressed bytes of one layer (stops a gzip/zstd bomb)", gt=0)
    tar_entries: int = _f(int, 5_000_000, "entries in one layer", gt=0)
    archive_entries: int = _f(
        int, 100_000, "entries in a docker save or OCI archive tarball (each is held in memory)", gt=0
    )
    name_bytes: int = _f(int, 64 * KiB, "length of one tar entry's name or link target", gt=0)
    hardlinks: int = _f(int, 10_000, "hardlinks to one file in one layer", gt=0)
    file_bytes: int = _f(
        int, 256 * MiB, "decompressed bytes read from one cataloged file, nested archives included", gt=0
    )
    archive_depth: int = _f(int, 4, "archives nested in archives (jar in war in ear)", ge=0, le=32)
    sqlite_steps: int = _f(int, 200_000_000, "SQLite virtual-machine steps for reading one package database", gt=0)
    # --- structured text (manifests, attestations, policy files)
    json_depth: int = _f(int, 256, "nesting depth of a JSON or YAML document", gt=0, le=10_000)
    policy_bytes: int = _f(int, 4 * MiB, "size of a policy file or a file it names", gt=0)


class Limits(LimitValues):
    """Bounds on time, sizes, counts and depth. Sizes are bytes; times are seconds (0 = no deadline).

    A named tuple whose values are checked on construction (ValueError), not a pydantic model: every
    command reads it before doing anything, and a run that needs nothing else (``inspect --raw``,
    ``tags``, ``--help``, a rescan of an unchanged registry) should not pay pydantic's import, nor
    :mod:`dataclasses`' (it imports :mod:`inspect`: ~8 ms). It keeps the part of the model API the code
    uses (``model_fields``, ``model_copy``, ``model_dump``, ``model_validate``).
    """

    __slots__ = ()

    #: Field name → its type, default, bounds and description, in declaration order.
    model_fields: ClassVar[dict[str, LimitField]]

    if not TYPE_CHECKING:  # type checkers read the named tuple's own signature: each field by name and type

        def __new__(cls, *args, **kwargs):
            given = super().__new__(cls, *args, **kwargs)  # names, defaults and arity, as the named tuple has them
            return super().__new__(
                cls, *(spec.check(name, v) for (name, spec), v in zip(cls.model_fields.items(), given, strict=True))
            )

    @classmethod
    def model_validate(cls, values: Mapping[str, Any]) -> Limits:
        """Limits from a mapping of field names (unknown names are a ValueError)."""
        unknown = set(values) - set(cls.model_fields)
        if unknown:
            raise ValueError(f"unknown limits: {', '.join(sorted(unknown))}")
        return cls(**values)

    def model_dump(self) -> dict[str, int | float]:
        """Every field and its value."""
        return {name: getattr(self, name) for name in self.model_fields}

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> Limits:
        """A copy with some values changed (checked like any other)."""
        return self.model_validate({**self.model_dump(), **(update or {})})

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
            return self.model_copy(update=changes)
        except ValueError as exc:
            raise UsageError(f"{source}: invalid limit value: {exc}") from None

    def describe(self, field: str) -> str:
        """A field's value as a person reads it: ``64 GiB``, ``30 s``, ``1000``."""
        return format_value(field, getattr(self, field))


Limits.model_fields = dict(zip(LimitValues._fields, _SPECS, strict=True))


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
