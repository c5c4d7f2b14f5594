"""Run the provenant CLI on a hostile input in a subprocess and measure what it cost.

Every hostile case asserts the same things: the exit code, one line on stderr, the wall time, the peak
resident memory of the process (``wait4``'s ``ru_maxrss``, taken by a small launcher), and that nothing
was written outside the cache directory (the sandbox's home, working directory and temp directory are
listed before and after; the bytes the process writes to files are sampled during the run, which also
catches unlinked temp files such as SQLite's spill files). The child runs with an address-space cap so
that a regression fails the test instead of taking the machine's memory.

As root (CI), the child runs in a private mount namespace where ``/tmp`` and ``/var/tmp`` are overlays
whose upper directories are the sandbox's: everything already there stays readable (the virtualenv may
live under /tmp), and every write lands in the sandbox, where it is seen exactly, whatever else the
machine is doing. The sandbox therefore lives outside both. Elsewhere the machine's ``/tmp`` and
``/var/tmp`` top levels are compared before and after.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

#: What every hostile case must stay within (the issue's bound; docs/security.md quotes the figures).
MAX_SECONDS = 60.0
MAX_RSS_MB = 512.0
#: Bytes the run may write to files, the cache included (sampled from /proc/PID/io).
MAX_DISK_MB = 64.0
#: Address space the child may map: far above MAX_RSS_MB (threads reserve stacks), far below the machine.
ADDRESS_SPACE = 6 << 30

_WATCHED_SYSTEM_DIRS = (Path("/tmp"), Path("/var/tmp"))


@dataclass
class Outcome:
    """What one run did."""

    args: list[str]
    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mb: float
    disk_mb: float
    written_outside: list[str] = field(default_factory=list)

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    def summary(self) -> str:
        return (
            f"exit {self.exit_code} in {self.seconds:.1f} s, peak RSS {self.peak_rss_mb:.0f} MB, "
            f"disk {self.disk_mb:.0f} MB; stderr: {self.stderr.strip()[:500]!r}"
        )

    def assert_bounded(self, *, exit_code: int, error: str | None = None, max_rss_mb: float = MAX_RSS_MB) -> None:
        """The common assertions: exit code, one stderr line containing ``error``, time, memory, disk."""
        assert self.exit_code == exit_code, self.summary()
        if exit_code == 2:
            assert len(self.stderr_lines) == 1, self.summary()
            assert self.stderr_lines[0].startswith("provenant: error: "), self.summary()
            assert "Traceback" not in self.stderr, self.summary()
        if error is not None:
            assert error in self.stderr, self.summary()
        assert self.seconds < MAX_SECONDS, self.summary()
        assert self.peak_rss_mb <= max_rss_mb, self.summary()
        assert self.disk_mb <= MAX_DISK_MB, self.summary()
        assert not self.written_outside, f"written outside the cache: {self.written_outside[:10]}"
        for stream in (self.stdout, self.stderr):
            assert "\x1b" not in stream, f"raw escape character in output: {self.summary()}"


@dataclass
class Sandbox:
    """A home, a working directory, a temp directory and a cache directory for one run."""

    root: Path

    def __post_init__(self) -> None:
        for d in (self.home, self.work, self.tmp, self.cache, *self.overlay_dirs):
            d.mkdir(parents=True, exist_ok=True)

    @property
    def sys_tmp(self) -> Path:
        """Where the child's writes to ``/tmp`` land (private namespace only)."""
        return self.root / "overlay" / "tmp-upper"

    @property
    def var_tmp(self) -> Path:
        """Where the child's writes to ``/var/tmp`` land (private namespace only)."""
        return self.root / "overlay" / "var-tmp-upper"

    @property
    def overlay_dirs(self) -> tuple[Path, Path, Path, Path]:
        """Upper and work directories of the two overlays."""
        base = self.root / "overlay"
        return (self.sys_tmp, base / "tmp-work", self.var_tmp, base / "var-tmp-work")

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT")}
        env = {
            **keep,
            "HOME": str(self.home),
            "TMPDIR": str(self.tmp),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "PROVENANT_CACHE_DIR": str(self.cache),
            "DOCKER_CONFIG": str(self.home / ".docker"),
            "NO_COLOR": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env.update(extra or {})
        return env


def _listing(dirs: list[Path], skip: Path) -> dict[str, int]:
    seen: dict[str, int] = {}
    for top in dirs:
        if not top.exists():
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            here = Path(dirpath)
            if here == skip or skip in here.parents:
                dirnames.clear()
                continue
            for name in filenames:
                p = here / name
                with contextlib.suppress(OSError):
                    seen[str(p)] = p.lstat().st_size
            if top in _WATCHED_SYSTEM_DIRS:
                dirnames.clear()  # the machine's temp dirs: their top level is what a stray write would hit
    return seen


def private_tmp_available() -> bool:
    """Root with ``unshare``: the child can get private ``/tmp`` and ``/var/tmp``."""
    return os.geteuid() == 0 and shutil.which("unshare") is not None


def under_system_tmp(path: Path) -> bool:
    """``path`` is inside ``/tmp`` or ``/var/tmp`` (and so would vanish under the child's private copies)."""
    resolved = path.resolve()
    return any(resolved == d or d in resolved.parents for d in _WATCHED_SYSTEM_DIRS)


def isolated(sandbox: Sandbox) -> bool:
    """Whether runs in ``sandbox`` get private ``/tmp`` and ``/var/tmp``."""
    return private_tmp_available() and not under_system_tmp(sandbox.root)


def _written_bytes(pid: int) -> int:
    """Bytes the process has dirtied in files (``write_bytes`` of /proc/PID/io): counted when written, so a
    temp file unlinked at once (SQLite's spill files) counts too; pipes and sockets do not."""
    try:
        text = Path(f"/proc/{pid}/io").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def run_cli(
    args: list[str],
    sandbox: Sandbox,
    *,
    env: dict[str, str] | None = None,
    stdin: bytes = b"",
    kill_after: float = MAX_SECONDS + 30,
) -> Outcome:
    """``python -m provenant ARGS`` in ``sandbox``; killed after ``kill_after`` seconds (then the asserts fail)."""
    return run_python(["-m", "provenant", *args], sandbox, env=env, stdin=stdin, kill_after=kill_after, label=args)


#: Runs between the sandbox's shell and the measured program. ``ru_maxrss`` survives ``execve`` (the
#: kernel folds the old memory's high-water mark in), so a program started from pytest by fork or vfork
#: would report pytest's pages as its own; a child forked from this small launcher starts from the
#: launcher's few MB. It writes the child's pid at once and the child's ``wait4`` figures at the end.
_LAUNCHER = """
import os, sys
report, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.execvp(argv[0], argv)
with open(report + ".pid", "w") as f:
    f.write(str(pid))
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) % 256)
"""


def run_python(
    python_args: list[str],
    sandbox: Sandbox,
    *,
    env: dict[str, str] | None = None,
    stdin: bytes = b"",
    kill_after: float = MAX_SECONDS + 30,
    label: list[str] | None = None,
) -> Outcome:
    """``python PYTHON_ARGS`` in ``sandbox``, measured (the harness's own tests run other programs with it)."""
    args = label if label is not None else python_args
    private = isolated(sandbox)
    system_dirs = [sandbox.sys_tmp, sandbox.var_tmp] if private else list(_WATCHED_SYSTEM_DIRS)
    watched = [sandbox.home, sandbox.work, sandbox.tmp, *system_dirs]
    before = _listing(watched, sandbox.cache)
    report = sandbox.root / f"rusage-{time.monotonic_ns()}"
    written = [0]
    done = threading.Event()

    def sample() -> None:
        pid = 0
        while not done.wait(0.05):
            if not pid:
                with contextlib.suppress(OSError, ValueError):
                    pid = int(Path(f"{report}.pid").read_text())
            if pid:
                written[0] = max(written[0], _written_bytes(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    start = time.monotonic()
    script = f"ulimit -v {ADDRESS_SPACE >> 10} && ulimit -c 0"
    mounts: list[str] = []
    if private:
        script += (
            ' && mount -t overlay overlay -o "lowerdir=/tmp,upperdir=$1,workdir=$2" /tmp'
            ' && mount -t overlay overlay -o "lowerdir=/var/tmp,upperdir=$3,workdir=$4" /var/tmp'
        )
        mounts = [str(d) for d in sandbox.overlay_dirs]
    script += f' && shift {len(mounts)} && exec "$@"'
    launcher = [sys.executable, "-c", _LAUNCHER, str(report)]
    command = ["sh", "-c", script, "sh", *mounts, *launcher, sys.executable, *python_args]
    if private:
        command = ["unshare", "--mount", "--propagation", "private", *command]
    proc = subprocess.Popen(
        command,
        cwd=sandbox.work,
        env=sandbox.env(env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # the kill below reaches the launcher and the measured child alike
    )
    sampler.start()
    chunks: dict[str, list[bytes]] = {"out": [], "err": []}

    def drain(name: str, stream: IO[bytes]) -> None:
        chunks[name].append(stream.read())

    readers = [
        threading.Thread(target=drain, args=("out", proc.stdout), daemon=True),
        threading.Thread(target=drain, args=("err", proc.stderr), daemon=True),
    ]
    for r in readers:
        r.start()
    assert proc.stdin is not None
    try:
        proc.stdin.write(stdin)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    killer = threading.Timer(kill_after, kill)
    killer.start()
    try:
        proc.wait()
    finally:
        killer.cancel()
    for r in readers:
        r.join()
    seconds = time.monotonic() - start
    done.set()
    sampler.join()
    err = b"".join(chunks["err"])
    if killed.is_set():
        err += f"\n[harness] killed after {kill_after} s".encode()
    out = b"".join(chunks["out"])
    try:
        peak_kb = int(report.read_text())
    except (OSError, ValueError):
        peak_kb = 0  # killed: the figure is lost, and the exit code and time already fail the case
    after = _listing(watched, sandbox.cache)
    outside = sorted(p for p, size in after.items() if before.get(p) != size)
    outcome = Outcome(
        args=args,
        exit_code=proc.returncode,
        stdout=out.decode("utf-8", "replace"),
        stderr=err.decode("utf-8", "replace"),
        seconds=seconds,
        peak_rss_mb=peak_kb / 1024,
        disk_mb=written[0] / (1 << 20),
        written_outside=outside,
    )
    _record(outcome)
    return outcome


def _record(outcome: Outcome) -> None:
    """With ``$PROVENANT_HOSTILE_REPORT`` set, append this run's figures to that JSON-lines file
    (benchmarks/hostile_figures.py turns them into the table in docs/security.md)."""
    target = os.environ.get("PROVENANT_HOSTILE_REPORT")
    if not target:
        return
    row = {
        "test": os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0],
        "args": outcome.args,
        "exit": outcome.exit_code,
        "seconds": round(outcome.seconds, 2),
        "peak_rss_mb": round(outcome.peak_rss_mb, 1),
        "disk_mb": round(outcome.disk_mb, 1),
        "stderr": outcome.stderr_lines[0] if outcome.stderr_lines else "",
    }
    with open(target, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
