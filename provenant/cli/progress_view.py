"""``--progress``: how the CLI shows :mod:`provenant.progress` events, always on standard error.

- ``live``: a rich display (one row per platform: layers scanned of total, bytes fetched, rate), redrawn in
  place; only on a terminal.
- ``plain``: one line per event (manifest resolved, platforms planned, each layer cached or fetched and
  scanned with its size and rate, a summary), for CI logs that want them.
- ``quiet``: nothing.

``auto`` is ``live`` when standard error is a terminal (and ``TERM`` is not ``dumb``) and ``quiet``
otherwise. Unlike ``docker buildx --progress=auto`` it does not fall back to ``plain``: existing CI jobs and
scripts that read provenant's standard error keep the one-line errors they have; ``--progress plain`` (or
``PROVENANT_PROGRESS=plain``) opts in. Standard output is never touched, so JSON output stays the same.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING

from provenant.progress import FleetStatus, Progress
from provenant.sizes import human_size as format_size
from provenant.textsafe import one_line

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

MODES = ("auto", "live", "plain", "quiet")


def choose(mode: str, stream: IO[str]) -> str:
    """The mode ``auto`` means on ``stream``: ``live`` on a capable terminal, else ``quiet``."""
    if mode != "auto":
        return mode
    is_tty = hasattr(stream, "isatty") and stream.isatty()
    return "live" if is_tty and os.environ.get("TERM", "") != "dumb" else "quiet"


def make(mode: str, stream: IO[str] | None = None) -> Progress:
    """The observer for ``mode`` (one of :data:`MODES`) writing to ``stream`` (standard error by default)."""
    out = stream if stream is not None else sys.stderr
    chosen = choose(mode, out)
    if chosen == "live":
        return LiveProgress(out)
    if chosen == "plain":
        return PlainProgress(out)
    return Progress()


def _short(digest: str) -> str:
    algo, _, hexpart = digest.partition(":")
    return f"{algo}:{hexpart[:12]}" if hexpart else digest


def _safe(text: str) -> str:
    # Platform strings and references come from the registry or the user: no control characters, one line.
    return one_line(text, limit=200)


def format_eta(seconds: float | None) -> str:
    """``ETA 4 s``, ``ETA 2 min 05 s``, ``ETA 1 h 02 min``; ``ETA ?`` before there is a rate."""
    if seconds is None:
        return "ETA ?"
    s = max(0, round(seconds))
    if s < 60:
        return f"ETA {s} s"
    if s < 3600:
        return f"ETA {s // 60} min {s % 60:02d} s"
    return f"ETA {s // 3600} h {s % 3600 // 60:02d} min"


def fleet_line(st: FleetStatus) -> str:
    """One line saying where a ``fleet scan`` stands (its stage's counts first, and the stage's ETA)."""
    failed = f"{st.failures} failed"
    images = f"{st.images} images to scan, {st.unchanged} unchanged"
    if st.stage == "resolve":
        if st.resolved >= st.references and st.images + st.unchanged > 0:
            return f"references {st.resolved}/{st.references} resolved | {images} | {failed}"
        return f"resolving references {st.resolved}/{st.references} | {failed} | {format_eta(st.eta())}"
    fetched = f"{format_size(st.bytes_done)} of {format_size(st.bytes_total)} fetched"
    if st.stage == "layers":
        return (
            f"layers {st.layers_done}/{st.layers} ({fetched}, {st.layers_cached} from the cache) | {images} | "
            f"{failed} | {format_eta(st.eta())}"
        )
    layers = f"layers {st.layers_done} scanned, {st.layers_cached} from the cache, {format_size(st.bytes_done)} fetched"
    if st.stage == "images":
        return (
            f"images {st.images_done}/{st.images} ({st.unchanged} unchanged) | {layers} | {failed} | "
            f"{format_eta(st.eta())}"
        )
    return f"done: images {st.images_done}/{st.images} ({st.unchanged} unchanged) | {layers} | {failed}"


#: Seconds between two plain progress lines within a stage (a stage's first and last lines always print).
PLAIN_EVERY = 2.0


class _Plan:
    """Which platforms each layer belongs to, and per-layer byte counts (shared by both displays)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.platforms: dict[str, list[str]] = {}
        self.sizes: dict[str, int] = {}
        self.fetched: dict[str, int] = {}
        self.started: dict[str, float] = {}

    def set(self, layers: Mapping[str, Sequence[str]], sizes: Mapping[str, int]) -> None:
        with self.lock:
            self.platforms = {_safe(p): list(ds) for p, ds in layers.items()}
            self.sizes = dict(sizes)
            self.fetched = {}
            self.started = {}

    def owners(self, digest: str) -> list[str]:
        return [p for p, ds in self.platforms.items() if digest in ds]


class PlainProgress(Progress):
    """One line per event on ``stream``: no redrawing, no colour, safe for any log."""

    def __init__(self, stream: IO[str]) -> None:
        self._out = stream
        self._plan = _Plan()
        self._t0 = time.monotonic()
        self._counts = {"cached": 0, "scanned": 0, "bytes": 0}
        self._fleet: tuple[str, float, str] | None = None  # stage, time and text of the last fleet line

    def fleet(self, status: FleetStatus) -> None:
        # A line when a stage starts and when it ends, and every PLAIN_EVERY seconds between.
        if status.stage == "done":
            return  # the command prints its one summary line
        now = time.monotonic()
        last = self._fleet
        done = {
            "resolve": status.resolved >= status.references,
            "layers": status.layers_done >= status.layers,
            "images": status.images_done >= status.images,
        }[status.stage]
        line = fleet_line(status)
        if last is not None and last[2] == line:
            return
        if last is None or last[0] != status.stage or done or now - last[1] >= PLAIN_EVERY:
            self._fleet = (status.stage, now, line)
            self._line(line)

    def _line(self, text: str) -> None:
        with self._plan.lock:
            self._out.write(f"provenant: {text}\n")
            self._out.flush()

    def resolved(self, reference: str, digest: str, media_type: str) -> None:
        self._t0 = time.monotonic()
        kind = "index" if "index" in media_type or "manifest.list" in media_type else "manifest"
        self._line(f"resolved {_safe(reference)} -> {_safe(digest)} ({kind})")

    def planned(self, layers: Mapping[str, Sequence[str]], sizes: Mapping[str, int]) -> None:
        self._plan.set(layers, sizes)
        distinct = len(sizes)
        total = format_size(sum(sizes.values()))
        self._line(f"{len(layers)} platform(s), {distinct} distinct layer(s), {total} compressed")
        for platform, digests in self._plan.platforms.items():
            self._line(f"  {platform}: {len(digests)} layer(s)")

    def layer_cached(self, digest: str) -> None:
        with self._plan.lock:
            self._counts["cached"] += 1
        self._line(f"layer {_short(digest)} from cache ({', '.join(self._plan.owners(digest))})")

    def layer_bytes(self, digest: str, count: int) -> None:
        with self._plan.lock:
            self._plan.started.setdefault(digest, time.monotonic())
            self._plan.fetched[digest] = self._plan.fetched.get(digest, 0) + count

    def layer_scanned(self, digest: str) -> None:
        with self._plan.lock:
            got = self._plan.fetched.get(digest, 0)
            secs = max(time.monotonic() - self._plan.started.get(digest, time.monotonic()), 1e-6)
            self._counts["scanned"] += 1
            self._counts["bytes"] += got
        rate = f"{format_size(int(got / secs))}/s"
        owners = ", ".join(self._plan.owners(digest))
        self._line(f"layer {_short(digest)} fetched and scanned: {format_size(got)} in {secs:.1f} s, {rate} ({owners})")

    def finished(self) -> None:
        if not self._plan.platforms:
            return
        c = self._counts
        secs = time.monotonic() - self._t0
        # finished() also ends a failed run: say so rather than "done" when layers were left.
        planned, handled = len(self._plan.sizes), c["scanned"] + c["cached"]
        word = "done" if handled >= planned else f"stopped after {handled} of {planned} layer(s)"
        self._line(
            f"{word}: {c['scanned']} layer(s) fetched and scanned ({format_size(c['bytes'])}), "
            f"{c['cached']} from cache, {secs:.1f} s"
        )
        self._plan.set({}, {})
        self._counts = {"cached": 0, "scanned": 0, "bytes": 0}


class LiveProgress(Progress):
    """A rich display on ``stream``: a status line, then one bar per platform; gone when the work ends."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._plan = _Plan()
        self._rich: RichProgress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._done: dict[str, set[str]] = {}
        self._fleet: tuple[RichProgress, TaskID] | None = None

    def fleet(self, status: FleetStatus) -> None:
        if status.stage == "done":
            self._stop_fleet()
            return
        by_bytes = status.bytes_total > 0  # layers differ in size: bytes say more than a count
        total, done = {
            "resolve": (status.references, status.resolved),
            "layers": (status.bytes_total, status.bytes_done) if by_bytes else (status.layers, status.layers_done),
            "images": (status.images, status.images_done),
        }[status.stage]
        with self._plan.lock:
            if self._fleet is None:
                from rich.console import Console
                from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
                from rich.progress import Progress as RichProgress

                rich = RichProgress(
                    TextColumn("{task.description}", markup=False),
                    BarColumn(),
                    TimeElapsedColumn(),
                    console=Console(file=self._stream, stderr=True),
                    transient=True,
                    redirect_stdout=False,
                    redirect_stderr=False,
                )
                rich.start()
                self._fleet = (rich, rich.add_task(fleet_line(status), total=total or None, completed=done))
            else:
                rich, task = self._fleet
                rich.update(task, description=fleet_line(status), total=total or None, completed=done)

    def _stop_fleet(self) -> None:
        with self._plan.lock:
            fleet, self._fleet = self._fleet, None
        if fleet is not None:
            fleet[0].stop()

    def _start(self) -> RichProgress:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            TextColumn,
            TimeElapsedColumn,
            TransferSpeedColumn,
        )
        from rich.progress import Progress as RichProgress

        console = Console(file=self._stream, stderr=True)
        rich = RichProgress(
            # markup=False: descriptions hold registry-controlled text; "[...]" in it must not be rich markup.
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TextColumn("{task.fields[layers]}", markup=False),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            # Never capture standard output: it carries the command's result (JSON, SBOMs).
            redirect_stdout=False,
            redirect_stderr=False,
        )
        rich.start()
        return rich

    def resolved(self, reference: str, digest: str, media_type: str) -> None:
        with self._plan.lock:
            if self._rich is None:
                self._rich = self._start()
            self._rich.console.print(
                f"resolved {_safe(reference)} -> {_short(_safe(digest))}", markup=False, highlight=False
            )

    def planned(self, layers: Mapping[str, Sequence[str]], sizes: Mapping[str, int]) -> None:
        self._plan.set(layers, sizes)
        with self._plan.lock:
            if self._rich is None:
                self._rich = self._start()
            for platform, digests in self._plan.platforms.items():
                total = sum(sizes.get(d, 0) for d in set(digests))
                self._tasks[platform] = self._rich.add_task(
                    platform, total=total or None, layers=f"0/{len(set(digests))} layers"
                )
                self._done[platform] = set()

    def _advance(self, digest: str, count: int, *, done: bool) -> None:
        with self._plan.lock:
            if self._rich is None:
                return
            for platform in self._plan.owners(digest):
                task = self._tasks[platform]
                if done:
                    self._done[platform].add(digest)
                    n = len(set(self._plan.platforms[platform]))
                    self._rich.update(task, advance=count, layers=f"{len(self._done[platform])}/{n} layers")
                else:
                    self._rich.update(task, advance=count)

    def layer_cached(self, digest: str) -> None:
        self._advance(digest, self._plan.sizes.get(digest, 0), done=True)

    def layer_bytes(self, digest: str, count: int) -> None:
        self._advance(digest, count, done=False)

    def layer_scanned(self, digest: str) -> None:
        self._advance(digest, 0, done=True)

    def finished(self) -> None:
        with self._plan.lock:
            rich, self._rich = self._rich, None
            self._tasks, self._done = {}, {}
        if rich is not None:
            rich.stop()
        self._stop_fleet()
