"""Running ``provenant fleet`` in a subprocess, and what a module's cold scan of the fixture fleet left."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from fixtures import Registry
from fixtures.fleet import FleetImage

SUMMARY = re.compile(
    r"fleet scan: (?P<refs>\d+) references, (?P<images>\d+) images \((?P<scanned>\d+) scanned, "
    r"(?P<unchanged>\d+) unchanged, (?P<failed>\d+) failed\), (?P<platforms>\d+) platform manifests, "
    r"(?P<layers>\d+) unique layers \((?P<layers_scanned>\d+) scanned, (?P<layers_cached>\d+) from the cache\)"
)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def summary(self) -> dict[str, int]:
        m = SUMMARY.search(self.stderr)
        assert m, self.stderr
        return {k: int(v) for k, v in m.groupdict().items()}


def fleet_cli(*args: str, cache: Path, db: str) -> Run:
    env = {**os.environ, "PROVENANT_CACHE_DIR": str(cache), "PROVENANT_FLEET_DB": db}
    p = subprocess.run(
        [sys.executable, "-m", "provenant", "fleet", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    return Run(p.returncode, p.stdout, p.stderr)


@dataclass
class Scanned:
    registry: Registry
    fleet: list[FleetImage]
    cache: Path
    db: str
    cold: Run
