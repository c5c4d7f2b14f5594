"""Time ``provenant inspect --raw`` against ``skopeo inspect --raw`` on a local registry.

Builds the fixture images (cached), starts a real registry on 127.0.0.1, pushes them, then runs
each command N times and prints median wall times and their ratio, plus provenant's start-up
(``--help``) and a full ``inspect`` of the multi-arch tag. Run: ``python benchmarks/inspect_vs_skopeo.py``.
"""

from __future__ import annotations

import argparse
import compileall
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fixtures import build_all, push_all, running_registry

ROOT = Path(__file__).resolve().parents[1]


def _median_seconds(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    # An installed package has its bytecode compiled (pip does it); a checkout run with
    # PYTHONDONTWRITEBYTECODE=1 would otherwise compile every module on every run (~25 ms).
    compileall.compile_dir(str(ROOT / "provenant"), quiet=1)
    fixtures = build_all()
    provenant = [sys.executable, "-m", "provenant"]
    with tempfile.TemporaryDirectory() as tmp, running_registry(Path(tmp)) as reg:
        push_all(fixtures, reg)
        ref = f"{reg.host}/debian-multiarch:12"
        rows = {
            "provenant --help (start-up)": _median_seconds([*provenant, "--help"], args.runs),
            "provenant inspect --raw": _median_seconds([*provenant, "inspect", "--raw", ref], args.runs),
            "skopeo inspect --raw": _median_seconds(
                ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"], args.runs
            ),
            "provenant inspect (2 platforms, full)": _median_seconds([*provenant, "inspect", ref], args.runs),
            "skopeo inspect (one platform, config)": _median_seconds(
                ["skopeo", "inspect", "--tls-verify=false", f"docker://{ref}"], args.runs
            ),
        }
    width = max(map(len, rows))
    print(f"median of {args.runs} runs, registry on loopback ({ref.split('/', maxsplit=1)[0]})")
    for name, secs in rows.items():
        print(f"  {name:<{width}}  {secs * 1000:8.1f} ms")
    ratio = rows["provenant inspect --raw"] / rows["skopeo inspect --raw"]
    print(f"  ratio provenant/skopeo (--raw): {ratio:.2f}x")
    full = rows["provenant inspect (2 platforms, full)"] / rows["skopeo inspect (one platform, config)"]
    print(f"  ratio provenant full inspect (2 platforms) / skopeo inspect (1 platform): {full:.2f}x")


if __name__ == "__main__":
    main()
