"""``--progress``: a live display on a terminal's stderr, line events with ``plain``, stdout never touched."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures import FixtureSet, Registry

pytestmark = pytest.mark.integration


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PROVENANT_PROGRESS"}
    env.update(TERM="xterm-256color", COLUMNS="120", LINES="40")
    return env


def _sbom_args(registry: Registry, fixture_set: FixtureSet, cache: Path) -> list[str]:
    fx = fixture_set.image("debian-multiarch:12")
    # A fresh cache directory per run: every layer is fetched and scanned (no layer or document cache hit).
    # provenant's own JSON: CycloneDX and SPDX carry a per-run serial number and timestamp by design.
    return ["sbom", f"{registry.host}/{fx.ref}", "-o", "json", "--cache-dir", str(cache)]


def _run_in_pty(args: list[str]) -> tuple[int, bytes, bytes]:
    """Run the CLI with stderr on a pseudo-terminal and stdout on a pipe: (exit code, stdout, terminal bytes)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "provenant", *args], stdout=subprocess.PIPE, stderr=slave, env=_env()
    )
    os.close(slave)
    assert proc.stdout is not None
    out, term = bytearray(), bytearray()
    deadline = time.monotonic() + 240
    streams = {proc.stdout.fileno(): out, master: term}
    while streams and time.monotonic() < deadline:
        ready, _, _ = select.select(list(streams), [], [], 1.0)
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the pty's other side closed (EIO on Linux)
                chunk = b""
            if chunk:
                streams[fd].extend(chunk)
            else:
                del streams[fd]
    code = proc.wait(timeout=10)
    os.close(master)
    return code, bytes(out), bytes(term)


def test_live_on_a_terminal_and_stdout_identical_to_quiet(
    registry: Registry, fixture_set: FixtureSet, tmp_path: Path
) -> None:
    code, live_out, term = _run_in_pty(_sbom_args(registry, fixture_set, tmp_path / "c1"))
    assert code == 0, term.decode(errors="replace")
    shown = term.decode(errors="replace")
    # The live display: the resolved line, a row per platform with bytes and layers, redrawn with ESC sequences.
    assert "resolved " in shown
    assert "linux/amd64" in shown and "linux/arm64/v8" in shown
    assert "layers" in shown and "\x1b[" in shown
    assert "B/s" in shown or "bytes/s" in shown
    quiet = subprocess.run(
        [sys.executable, "-m", "provenant", "--progress", "quiet", *_sbom_args(registry, fixture_set, tmp_path / "c2")],
        capture_output=True, env=_env(), check=False,
    )  # fmt: skip
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == b""
    assert live_out == quiet.stdout  # byte-identical JSON: progress never reaches stdout
    assert b"\x1b" not in live_out


def test_quiet_flag_on_a_terminal(registry: Registry, fixture_set: FixtureSet, tmp_path: Path) -> None:
    code, out, term = _run_in_pty(["-q", *_sbom_args(registry, fixture_set, tmp_path / "c")])
    assert code == 0
    assert term == b""
    assert out.startswith(b"{")


def test_plain_prints_line_events_and_auto_is_quiet_off_a_terminal(
    registry: Registry, fixture_set: FixtureSet, tmp_path: Path
) -> None:
    fx = fixture_set.image("debian-multiarch:12")
    plain = subprocess.run(
        [sys.executable, "-m", "provenant", "--progress", "plain", *_sbom_args(registry, fixture_set, tmp_path / "p")],
        capture_output=True, text=True, env=_env(), check=False,
    )  # fmt: skip
    assert plain.returncode == 0, plain.stderr
    lines = plain.stderr.splitlines()
    assert lines[0] == f"provenant: resolved {registry.host}/{fx.ref} -> {fx.digest} (index)"
    assert "provenant: 2 platform(s)" in lines[1]
    scanned = [ln for ln in lines if " fetched and scanned: " in ln]
    distinct = {d for p in fx.platforms.values() for d in _layers(fx.layout, p)}
    assert len(scanned) == len(distinct)
    assert lines[-1].startswith(f"provenant: done: {len(distinct)} layer(s) fetched and scanned")
    assert "\x1b" not in plain.stderr
    # A second run on the same cache: every layer comes from the layer cache... or the document cache
    # answers without any analysis at all; either way no layer is fetched again.
    again = subprocess.run(
        [sys.executable, "-m", "provenant", "--progress", "plain", *_sbom_args(registry, fixture_set, tmp_path / "p")],
        capture_output=True, text=True, env=_env(), check=False,
    )  # fmt: skip
    assert again.returncode == 0 and " fetched and scanned: " not in again.stderr
    # auto off a terminal (a pipe here, as in CI logs and scripts): no progress at all.
    auto = subprocess.run(
        [sys.executable, "-m", "provenant", *_sbom_args(registry, fixture_set, tmp_path / "a")],
        capture_output=True, text=True, env=_env(), check=False,
    )  # fmt: skip
    assert auto.returncode == 0 and auto.stderr == ""
    assert auto.stdout == plain.stdout


def _layers(layout: Path, manifest_digest: str) -> list[str]:
    import json

    blob = layout / "blobs" / "sha256" / manifest_digest.split(":")[1]
    return [layer["digest"] for layer in json.loads(blob.read_bytes())["layers"]]
