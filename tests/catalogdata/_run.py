"""Run a tool and fail with its stderr; find out whether a tool is installed."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


class ToolMissing(RuntimeError):
    """A tool a builder needs is not installed."""


def need(*tools: str) -> None:
    """Raise :class:`ToolMissing` naming every tool in ``tools`` that is not on PATH."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise ToolMissing(f"not installed: {', '.join(missing)}")


def run(argv: Sequence[str | Path], *, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> str:
    """Run ``argv`` and return its stdout as text; raise RuntimeError with stderr on failure."""
    return run_bytes(argv, cwd=cwd, env=env).decode()


def run_bytes(argv: Sequence[str | Path], *, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> bytes:
    """Run ``argv`` and return its stdout; raise RuntimeError with stderr on failure."""
    args = [str(a) for a in argv]
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, timeout=600, check=False)
    if proc.returncode != 0:
        stderr = proc.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"exit {proc.returncode}: {shlex.join(args)}\n{stderr}")
    return proc.stdout
