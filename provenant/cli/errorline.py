"""The one line a failed command writes on stderr (click-free: the entry point's own answers use it too)."""

from __future__ import annotations

ERROR = "provenant: error: "


def line(message: str, *, prefix: str = ERROR) -> str:
    """``message`` as one sanitised line under ``prefix`` (no newline)."""
    from provenant.textsafe import one_line

    return prefix + one_line(message, limit=2000)


def internal_error(exc: BaseException) -> str:
    """What a bug (an unexpected exception) says in place of a traceback."""
    return f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback and report it)"
